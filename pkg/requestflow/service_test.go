package requestflow_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/local/stack/stacktest"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/veil"
)

// runs records the executions started; filing is the unit here, not the
// workflow (the stack tests run that).
type runs struct {
	mu      sync.Mutex
	started []string
}

func (r *runs) Start(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, id)
	return nil
}

func (r *runs) Resume(context.Context, string, any) error { return nil }

func newService(t *testing.T, now *time.Time) (*requestflow.Service, *runs) {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options(t))
	ddb := dynamodb.NewFromConfig(s.AWS)
	table := s.Names["RequestsTable"]
	clock := func() time.Time { return *now }
	store := &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table, Now: clock}, Now: clock}
	r := &runs{}
	return &requestflow.Service{
		Config: requestflow.Config{Table: requests.Default(), Policy: requests.DefaultPolicy(), Region: "US", Zone: time.UTC,
			AgentIntakeOff: []string{"uk-only-campaign"}, StatusSecret: []byte("0123456789abcdef0123456789abcdef")},
		Store: store, Runs: r, Now: clock,
	}, r
}

var web = requestflow.Filer{Channel: requests.Web, Source: "198.51.100.4", Actor: requeststore.Actor{Subject: "consumer", Source: "web"}}

// TestFilingDeadlines: the due date comes from the jurisdiction's law,
// counted from the day received.
func TestFilingDeadlines(t *testing.T) {
	now := time.Date(2027, 1, 31, 15, 0, 0, 0, time.UTC)
	svc, started := newService(t, &now)
	tests := []struct {
		name, typ, jurisdiction, want string
	}{
		{"GDPR: 31 January is due on the last day of February", "access", "EU", "2027-02-28"},
		{"UK GDPR likewise", "delete", "UK", "2027-02-28"},
		{"CCPA: 45 calendar days", "delete", "CA", "2027-03-17"},
		{"CCPA opt-out: 15 business days", "opt_out", "CA", "2027-02-22"},
		{"Iowa: 90 days", "delete", "IA", "2027-05-01"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := requests.Filing{Type: tc.typ, Jurisdiction: tc.jurisdiction, Emails: []string{"person" + string(rune('a'+i)) + "@example.com"},
				Declaration: true}
			rc, err := svc.File(context.Background(), f, web, "")
			if err != nil {
				t.Fatal(err)
			}
			if rc.DueAt != tc.want || !rc.Created || rc.StatusToken == "" {
				t.Fatalf("receipt = %+v, want due %s, created, with a status token", rc, tc.want)
			}
		})
	}
	if len(started.started) != len(tests) {
		t.Fatalf("executions started = %d, want %d", len(started.started), len(tests))
	}
}

// TestFilingDuplicatesAndCampaigns: an identical open request within 24
// hours is the same request (without its token: whoever files it again
// may not be its requester); after 24 hours it is a new one; a campaign
// whose agent intake is off refuses agents, naming the field.
func TestFilingDuplicatesAndCampaigns(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	svc, _ := newService(t, &now)
	ctx := context.Background()
	f := requests.Filing{Type: "delete", Jurisdiction: "CA", Name: "Rosa Diaz", Emails: []string{"rosa@example.com"}}
	first, err := svc.File(ctx, f, web, "")
	if err != nil {
		t.Fatal(err)
	}
	f.Emails = []string{"ROSA@example.com "}
	now = now.Add(3 * time.Hour)
	again, err := svc.File(ctx, f, web, "")
	if err != nil || again.ID != first.ID || again.Created || again.StatusToken != "" {
		t.Fatalf("identical filing 3 hours later = %+v, %v; want request %s, no token", again, err, first.ID)
	}
	now = now.Add(22 * time.Hour)
	later, err := svc.File(ctx, f, web, "")
	if err != nil || later.ID == first.ID || !later.Created {
		t.Fatalf("identical filing 25 hours later = %+v, %v; want a new request", later, err)
	}
	agent := requestflow.Filer{Channel: requests.Agent, Actor: requeststore.Actor{Subject: "dev-agent", Role: "agent", Source: "agent"}}
	g := requests.Filing{Type: "opt_out", Jurisdiction: "CA", Phones: []string{"212-555-0147"}, CampaignID: "uk-only-campaign"}
	_, err = svc.File(ctx, g, agent, "")
	var ve *veil.ValidationError
	if !errors.As(err, &ve) || ve.Field != "campaignId" {
		t.Fatalf("agent filing for a campaign with intake off = %v, want a campaignId error", err)
	}
	if _, err := svc.File(ctx, g, web, ""); err != nil {
		t.Fatalf("web filing naming that campaign = %v, want it filed: the consumer's own door is always open", err)
	}
}
