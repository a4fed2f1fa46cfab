// Command index is the Lambda entry point of IndexFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/index"
)

func main() { lambdafn.Run(index.Build) }
