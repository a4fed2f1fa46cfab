// Command pseudonymize is the Lambda entry point of PseudonymizeFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymize"
)

func main() { lambdafn.Run(pseudonymize.Build) }
