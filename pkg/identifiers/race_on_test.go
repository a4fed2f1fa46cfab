//go:build race

package identifiers

// raceBuild: the race detector's instrumentation allocates where the
// compiled code does not, so allocation counts are asserted by the run
// without it (make test-alloc, part of make test).
const raceBuild = true
