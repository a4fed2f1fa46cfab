// Command intake is the Lambda entry point of IntakeFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/intakefn"
)

func main() { lambdafn.Run(intakefn.Build) }
