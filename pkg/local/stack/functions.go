package stack

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/exportfn"
	"github.com/veil-privacy/veil/pkg/lambdafn/indexfn"
	"github.com/veil-privacy/veil/pkg/lambdafn/intakefn"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymizefn"
	"github.com/veil-privacy/veil/pkg/lambdafn/searchfn"
)

// Builders maps template.yaml's function logical IDs to the same Build the
// function's main calls on AWS.
var Builders = map[string]lambdafn.Builder{
	"IntakeFunction":       intakefn.Build,
	"IndexFunction":        indexfn.Build,
	"SearchFunction":       searchfn.Build,
	"ExportFunction":       exportfn.Build,
	"PseudonymizeFunction": pseudonymizefn.Build,
}
