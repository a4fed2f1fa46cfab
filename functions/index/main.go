// Command index is the Lambda entry point of IndexFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
)

func main() { lambdafn.Run(indexfn.Build) }
