package stack

import (
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/lambdafn/export"
	"github.com/veil-privacy/veil/pkg/lambdafn/index"
	"github.com/veil-privacy/veil/pkg/lambdafn/intake"
	"github.com/veil-privacy/veil/pkg/lambdafn/pseudonymize"
	"github.com/veil-privacy/veil/pkg/lambdafn/search"
)

// Builders maps template.yaml's function logical IDs to the same Build the
// function's main calls on AWS.
var Builders = map[string]lambdafn.Builder{
	"IntakeFunction":       intake.Build,
	"IndexFunction":        index.Build,
	"SearchFunction":       search.Build,
	"ExportFunction":       export.Build,
	"PseudonymizeFunction": pseudonymize.Build,
}
