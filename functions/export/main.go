// Command export is the Lambda entry point of ExportFunction; it only wires.
package main

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/exportfn"
)

func main() { lambdafn.Run(exportfn.Build) }
