package lambdafn

// What the workflow's request tasks share, whichever function runs them:
// the request they read and change, who they change it as, and the
// identifiers they may act on.

import (
	"context"
	"fmt"

	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Requests is the part of the Requests table the workflow's tasks call
// (requeststore.Store).
type Requests interface {
	Get(ctx context.Context, id string) (requeststore.Request, error)
	Update(ctx context.Context, id string, by requeststore.Actor, action string, detail map[string]string,
		change func(*requeststore.Request) error) (requeststore.Request, error)
}

var _ Requests = (*requeststore.Store)(nil)

// Workflow is who the workflow's tasks change a request as.
var Workflow = requeststore.Actor{Subject: "workflow", Role: "system", Source: "stepfunctions"}

// Proven returns the identifiers r's requester proved, the only ones the
// workflow acts on; none is a *veil.ValidationError on "proofs".
func Proven(r requeststore.Request) ([]search.Identifier, error) {
	ids := make([]search.Identifier, 0, len(r.Proofs))
	for i, p := range r.Proofs {
		if !p.Kind.IsIdentifier() || p.Value == "" {
			continue
		}
		ids = append(ids, search.Identifier{Field: fmt.Sprintf("proofs[%d]", i), Kind: p.Kind, Value: p.Value})
	}
	if len(ids) == 0 {
		return nil, veil.Invalid("proofs", "the requester proved no identifier")
	}
	return ids, nil
}
