// Command search is the Lambda entry point of SearchFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/searchfn"
)

func main() { lambdafn.Run(searchfn.Build) }
