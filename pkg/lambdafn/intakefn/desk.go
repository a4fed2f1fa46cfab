package intakefn

// IntakeFunction alone files and steers requests: the desk, its mail,
// events and workflow clients are linked into no other function.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"
	// Lambda's provided runtime carries no zone database.
	_ "time/tzdata"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/busevents"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/notify"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/ratelimit"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
	"github.com/veil-privacy/veil/pkg/workflowrun"
)

// derive keys a purpose's secret from the index's active key, so that no
// code or token is keyed by the index key itself.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("veil:" + purpose))
	return m.Sum(nil)
}

// requestDesk builds the request desk IntakeFunction files and steers
// requests with, from REQUESTS_TABLE, INDEX_TABLE, STATE_MACHINE_ARN,
// PUBLIC_API_URL, NOTIFY_FROM, EVENT_BUS_NAME, and the policy variables
// JURISDICTION_OVERRIDES, VERIFICATION_POLICY, BUSINESS_TIME_ZONE,
// REMINDER_DAYS, SUPERVISORS_EMAIL, COMPLIANCE_EMAIL,
// AGENT_INTAKE_OFF_CAMPAIGNS and WEB_FILINGS_PER_HOUR. finder is the
// search (its keyring keys codes and suppression entries), exports the
// access service (the links an answer mails). It returns *lambdafn.MissingError
// for an unset variable and a *veil.ValidationError naming a bad policy
// variable.
func requestDesk(awsCfg aws.Config, getenv func(string) string, finder *search.Service, exports *access.Service) (*requestflow.Service, error) {
	v, err := lambdafn.Require(getenv, "REQUESTS_TABLE", "INDEX_TABLE", "STATE_MACHINE_ARN")
	if err != nil {
		return nil, err
	}
	store := lambdafn.RequestStore(awsCfg, v[0])
	ddb := dynamodb.NewFromConfig(awsCfg)
	codes, err := otp.NewService(&otp.Store{API: ddb, Table: v[0]}, finder.Region, finder.Secret, derive(finder.Secret, "otp-codes"))
	if err != nil {
		return nil, err
	}
	table, err := requests.ParseOverrides(getenv("JURISDICTION_OVERRIDES"))
	if err != nil {
		return nil, err
	}
	policy, err := requests.ParsePolicy(getenv("VERIFICATION_POLICY"))
	if err != nil {
		return nil, err
	}
	zone := time.UTC
	if z := getenv("BUSINESS_TIME_ZONE"); z != "" {
		if zone, err = time.LoadLocation(z); err != nil {
			return nil, fmt.Errorf("BUSINESS_TIME_ZONE %q: %w", z, err)
		}
	}
	var offsets []int
	for _, f := range strings.FieldsFunc(getenv("REMINDER_DAYS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 365 {
			return nil, fmt.Errorf("REMINDER_DAYS %q: want days before the due date, such as 14,7,2", getenv("REMINDER_DAYS"))
		}
		offsets = append(offsets, n)
	}
	limit := 10
	if s := getenv("WEB_FILINGS_PER_HOUR"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			return nil, fmt.Errorf("WEB_FILINGS_PER_HOUR %q: want a whole number, at least 1", s)
		}
	}
	hasher, err := suppression.NewHasher(finder.Secrets, finder.Region)
	if err != nil {
		return nil, err
	}
	var off []string
	for _, c := range strings.Split(getenv("AGENT_INTAKE_OFF_CAMPAIGNS"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			off = append(off, c)
		}
	}
	return &requestflow.Service{
		Config: requestflow.Config{Table: table, Policy: policy, Region: finder.Region, Zone: zone, ReminderOffsets: offsets,
			Supervisors: getenv("SUPERVISORS_EMAIL"), Compliance: getenv("COMPLIANCE_EMAIL"), AgentIntakeOff: off,
			StatusSecret: derive(finder.Secret, "status-tokens")},
		Store:        store,
		Codes:        codes,
		Notify:       &notify.Sender{Email: sesv2.NewFromConfig(awsCfg), SMS: sns.NewFromConfig(awsCfg), From: getenv("NOTIFY_FROM")},
		Events:       &busevents.Publisher{API: eventbridge.NewFromConfig(awsCfg), Bus: getenv("EVENT_BUS_NAME")},
		Runs:         &workflowrun.Runs{API: sfn.NewFromConfig(awsCfg), StateMachineARN: v[2]},
		Suppressions: suppression.New(ddb, v[1]),
		Hasher:       hasher,
		Downloads:    downloads{exports: exports, base: getenv("PUBLIC_API_URL")},
		Limiter:      &ratelimit.Limiter{API: ddb, Table: v[0], Limit: limit, Window: time.Hour, Secret: derive(finder.Secret, "rate-limit")},
	}, nil
}

// downloads gives an export's links from the access service.
type downloads struct {
	exports *access.Service
	base    string
}

func (d downloads) Links(ctx context.Context, id string) (access.Links, error) {
	x, err := d.exports.Exports.Get(ctx, id)
	if err != nil {
		return access.Links{}, err
	}
	return d.exports.LinksFor(x, d.base)
}
