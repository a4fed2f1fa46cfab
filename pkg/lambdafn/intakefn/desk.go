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
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/veil-privacy/veil/pkg/busevents"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/lambdafn"
	"github.com/veil-privacy/veil/pkg/notify"
	"github.com/veil-privacy/veil/pkg/otp"
	"github.com/veil-privacy/veil/pkg/ratelimit"
	"github.com/veil-privacy/veil/pkg/requestflow"
	"github.com/veil-privacy/veil/pkg/requests"
	"github.com/veil-privacy/veil/pkg/workflowrun"
)

// derive keys a purpose's secret from IntakeFunction's own secret
// (RequestKeySecret), so that no code, token or limit is keyed by the
// secret itself, nor by the index's key, which this function never holds.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("veil:" + purpose))
	return m.Sum(nil)
}

// requestDesk builds the request desk IntakeFunction files and steers
// requests with, from cfg. It returns the error of loading the request
// key secret, and a *veil.ValidationError or an error naming a bad policy
// variable.
func requestDesk(ctx context.Context, awsCfg aws.Config, cfg Config) (*requestflow.Service, error) {
	secret, err := indexkey.Load(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.RequestKeySecretARN)
	if err != nil {
		return nil, fmt.Errorf("request key secret: %w", err)
	}
	store := lambdafn.RequestStore(awsCfg, cfg.RequestsTable)
	ddb := dynamodb.NewFromConfig(awsCfg)
	// A challenge's identifier key is only ever compared with another
	// challenge's: a key of its own, not the index's.
	codes, err := otp.NewService(&otp.Store{API: ddb, Table: cfg.RequestsTable}, cfg.PhoneRegion,
		derive(secret, "otp-identifiers"), derive(secret, "otp-codes"))
	if err != nil {
		return nil, err
	}
	table, err := requests.ParseOverrides(cfg.JurisdictionOverrides)
	if err != nil {
		return nil, err
	}
	policy, err := requests.ParsePolicy(cfg.VerificationPolicy)
	if err != nil {
		return nil, err
	}
	zone := time.UTC
	if z := cfg.BusinessTimeZone; z != "" {
		if zone, err = time.LoadLocation(z); err != nil {
			return nil, fmt.Errorf("BUSINESS_TIME_ZONE %q: %w", z, err)
		}
	}
	var offsets []int
	for _, f := range strings.FieldsFunc(cfg.ReminderDays, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 365 {
			return nil, fmt.Errorf("REMINDER_DAYS %q: want days before the due date, such as 14,7,2", cfg.ReminderDays)
		}
		offsets = append(offsets, n)
	}
	limit := 10
	if s := cfg.WebFilingsPerHour; s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			return nil, fmt.Errorf("WEB_FILINGS_PER_HOUR %q: want a whole number, at least 1", s)
		}
	}
	var off []string
	for _, c := range strings.Split(cfg.AgentIntakeOff, ",") {
		if c = strings.TrimSpace(c); c != "" {
			off = append(off, c)
		}
	}
	var waive bool
	switch cfg.SeparationOfDuties {
	case "", "enforce":
	case "waive":
		waive = true
	default:
		return nil, fmt.Errorf("SEPARATION_OF_DUTIES %q: want enforce or waive", cfg.SeparationOfDuties)
	}
	return &requestflow.Service{
		Config: requestflow.Config{Table: table, Policy: policy, Region: cfg.PhoneRegion, Zone: zone, ReminderOffsets: offsets,
			Supervisors: cfg.Supervisors, Compliance: cfg.Compliance, AgentIntakeOff: off,
			StatusSecret: derive(secret, "status-tokens"), WaiveDuties: waive},
		Store:   store,
		Codes:   codes,
		Notify:  &notify.Sender{Email: sesv2.NewFromConfig(awsCfg), SMS: sns.NewFromConfig(awsCfg), From: cfg.NotifyFrom},
		Events:  &busevents.Publisher{API: eventbridge.NewFromConfig(awsCfg), Bus: cfg.EventBusName},
		Runs:    &workflowrun.Runs{API: sfn.NewFromConfig(awsCfg), StateMachineARN: cfg.StateMachineARN},
		Limiter: &ratelimit.Limiter{API: ddb, Table: cfg.RequestsTable, Limit: limit, Window: time.Hour, Secret: derive(secret, "rate-limit")},
	}, nil
}
