// Package connect holds the sample Amazon Connect contact flow of Veil's
// toll-free privacy line (privacy-request-flow.json, in the Flow language
// an export or CreateContactFlow uses) and the test that keeps it wired:
// every choice of its menu files its own request type through
// IntakeFunction. It has no code.
package connect
