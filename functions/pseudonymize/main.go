// Command pseudonymize is the Lambda entry point of PseudonymizeFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymizefn"
)

func main() { lambdafn.Run(pseudonymizefn.Build) }
