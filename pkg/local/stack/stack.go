// Package stack assembles the local stack from template.yaml: dynalite for
// DynamoDB, gofakes3 for S3 with its change notifications through a local
// queue into the index function, the functions compiled in, the API on its
// own port and every AWS protocol on the edge port. Nothing here is known to
// the functions: they get the SDK's standard endpoint configuration.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/johannesboyne/gofakes3"

	"github.com/veil-privacy/veil/pkg/asl"
	"github.com/veil-privacy/veil/pkg/local/apigw"
	"github.com/veil-privacy/veil/pkg/local/devauth"
	"github.com/veil-privacy/veil/pkg/local/dynalite"
	"github.com/veil-privacy/veil/pkg/local/edge"
	"github.com/veil-privacy/veil/pkg/local/iam"
	"github.com/veil-privacy/veil/pkg/local/lambdalocal"
	"github.com/veil-privacy/veil/pkg/local/outbox"
	"github.com/veil-privacy/veil/pkg/local/s3local"
	"github.com/veil-privacy/veil/pkg/local/secretslocal"
	"github.com/veil-privacy/veil/pkg/local/sfnlocal"
	"github.com/veil-privacy/veil/pkg/local/sqslocal"
	"github.com/veil-privacy/veil/pkg/samtemplate"
)

// Local account and region.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
)

// Options configures Start.
type Options struct {
	// Root is the repository root: template.yaml, statemachine/, samples/,
	// node_modules/.
	Root string
	// DataDir holds everything that survives a restart (default Root/.local).
	DataDir string
	// EdgeAddr and APIAddr are listen addresses ("127.0.0.1:0" picks a port).
	EdgeAddr string
	APIAddr  string
	// Samples uploads samples/ on first start.
	Samples bool
	// QueueVisibility is the delay before a failed notification is retried.
	QueueVisibility time.Duration
	// HoldNotifications keeps S3 change notifications for the test to
	// deliver (HeldNotifications) instead of queueing them to the index
	// function.
	HoldNotifications bool
	// Clock drives the state machines' waits, retries and timeouts (the
	// wall clock when nil); tests pass asl.NewManualClock to jump days.
	Clock asl.Clock
	// FunctionEnv overrides template environment variables, by function
	// logical ID (a test's small INDEX_CHUNK_BYTES, say).
	FunctionEnv map[string]map[string]string
	// EditTemplate, when set, changes the parsed template before the stack
	// is built from it (a test takes a permission out of a Policies list).
	EditTemplate func(*samtemplate.Template)
	Logger       *slog.Logger
}

// Stack is a running local stack.
type Stack struct {
	EdgeURL  string
	APIURL   string
	Template *samtemplate.Template
	// Names maps logical IDs to local physical names (what Ref returns).
	Names    map[string]string
	Runtime  *lambdalocal.Runtime
	S3       *s3local.Backend
	TokenKey devauth.Key
	// Outbox is where the stack's SES, SNS and EventBridge write.
	Outbox outbox.Outbox
	// AWS is an SDK configuration pointed at the edge, as the functions get.
	AWS aws.Config
	// StepFunctions is the state-machine stand-in behind the edge.
	StepFunctions *sfnlocal.Server
	// IAM evaluates every call on the edge against its signer's policies.
	IAM *iam.Authorizer

	opts     Options
	log      *slog.Logger
	dynalite *dynalite.Process
	queues   map[string]*sqslocal.Queue
	routes   map[string][]string // bucket name -> queue logical IDs
	servers  []*http.Server
	closers  []func()
	ready    chan struct{}
	env      map[string]map[string]string // by function logical ID
	mu       sync.Mutex
	held     []s3local.Notification
}

// Start brings the stack up and returns once every part answers; Close
// stops it. It returns an error naming the part that failed.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(opts.Root, ".local")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s = &Stack{opts: opts, log: opts.Logger, queues: map[string]*sqslocal.Queue{}, routes: map[string][]string{}, ready: make(chan struct{}),
		env: map[string]map[string]string{}}
	started := s
	defer func() {
		if err != nil {
			started.Close() // s is nil once an error is returned
		}
	}()
	if s.Template, err = samtemplate.Load(filepath.Join(opts.Root, "template.yaml")); err != nil {
		return nil, err
	}
	if opts.EditTemplate != nil {
		opts.EditTemplate(s.Template)
	}
	refs, attrs := physicalNames(s.Template, Region, AccountID)
	s.Names = refs
	res := &samtemplate.Resolver{Template: s.Template, Refs: refs, Attrs: attrs, Pseudo: pseudoParameters(), Params: Parameters}
	if s.IAM, err = s.authorizer(res); err != nil {
		return nil, err
	}
	if s.TokenKey, err = devauth.LoadKey(filepath.Join(opts.DataDir, "dev-token.key")); err != nil {
		return nil, err
	}

	edgeLn, err := net.Listen("tcp", opts.EdgeAddr)
	if err != nil {
		return nil, fmt.Errorf("edge %s: %w", opts.EdgeAddr, err)
	}
	s.EdgeURL = "http://" + edgeLn.Addr().String()
	apiLn, err := net.Listen("tcp", opts.APIAddr)
	if err != nil {
		edgeLn.Close()
		return nil, fmt.Errorf("api %s: %w", opts.APIAddr, err)
	}
	s.APIURL = "http://" + apiLn.Addr().String()
	// The functions' configuration is exactly what AWS_ENDPOINT_URL and
	// static credentials in the environment would give them.
	if s.AWS, err = config.LoadDefaultConfig(ctx, config.WithRegion(Region), config.WithBaseEndpoint(s.EdgeURL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AdminAccessKey, AdminSecretKey, ""))); err != nil {
		return nil, err
	}

	script, err := dynalite.FindScript(opts.Root)
	if err != nil {
		return nil, err
	}
	if s.dynalite, err = dynalite.Start(ctx, dynalite.Options{Script: script, Dir: filepath.Join(opts.DataDir, "dynalite")}); err != nil {
		return nil, err
	}
	if s.S3, err = s3local.Open(filepath.Join(opts.DataDir, "s3"), s.notify); err != nil {
		return nil, err
	}
	secrets := secretslocal.New(filepath.Join(opts.DataDir, "secrets"), Region, AccountID)
	for _, id := range s.Template.OfType("AWS::SecretsManager::Secret") {
		n := 64
		if gen, ok := s.Template.Resources[id].Properties["GenerateSecretString"].(map[string]any); ok {
			if l, ok := gen["PasswordLength"].(int); ok {
				n = l
			}
		}
		if err := secrets.Ensure(id, n); err != nil {
			return nil, err
		}
	}

	s.Runtime = lambdalocal.New(Region, AccountID, s.log)
	dynamo, err := edge.Proxy(s.dynalite.URL)
	if err != nil {
		return nil, err
	}
	if s.StepFunctions, err = s.startStateMachines(ctx, res); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.StepFunctions.Close)
	box := outbox.Outbox{Dir: filepath.Join(opts.DataDir, "outbox")}
	s.Outbox = box
	e := &edge.Edge{
		S3:             s3local.Server(s.S3),
		DynamoDB:       dynamo,
		StepFunctions:  s.StepFunctions,
		Lambda:         s.Runtime,
		SecretsManager: secrets,
		SES:            box.SES(),
		SNS:            box.SNS(),
		EventBridge:    box.EventBridge(),
		IAM:            s.IAM,
	}
	api := apigw.New(s.Template.Routes(), s.Runtime, s.TokenKey, Region)
	api.Health = s.health
	s.serve(edgeLn, e)
	s.serve(apiLn, api)

	if err := s.createTables(ctx, res); err != nil {
		return nil, err
	}
	if err := s.createBuckets(res); err != nil {
		return nil, err
	}
	// Functions are built once the edge answers, as a cold start on AWS
	// finds its services up (IndexFunction loads its key at init).
	if err := s.registerFunctions(ctx, res); err != nil {
		return nil, err
	}
	if err := s.wireNotifications(res); err != nil {
		return nil, err
	}
	if err := s.wireDestinations(res); err != nil {
		return nil, err
	}
	if err := s.wireSchedules(res); err != nil {
		return nil, err
	}
	if opts.Samples {
		if err := s.loadSamples(ctx); err != nil {
			return nil, err
		}
	}
	close(s.ready)
	return s, nil
}

func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
}

func (s *Stack) health() error {
	select {
	case <-s.ready:
	default:
		return errors.New("starting")
	}
	if s.dynalite == nil {
		return errors.New("dynalite is not running")
	}
	return nil
}

// registerFunctions builds every template function with its resolved
// environment and the edge-pointed SDK configuration.
func (s *Stack) registerFunctions(ctx context.Context, res *samtemplate.Resolver) error {
	globals, _ := s.Template.Globals["Function"].(map[string]any)
	for _, f := range s.Template.Functions() {
		build, ok := Builders[f.LogicalID]
		if !ok {
			return fmt.Errorf("function %s: no builder in stack.Builders", f.LogicalID)
		}
		env := map[string]string{}
		for k, v := range f.Environment {
			val, err := res.String(v)
			if err != nil {
				return fmt.Errorf("function %s: environment %s: %w", f.LogicalID, k, err)
			}
			env[k] = val
		}
		for k, v := range s.opts.FunctionEnv[f.LogicalID] {
			env[k] = v
		}
		s.env[f.LogicalID] = env
		h, err := build(ctx, roleCredentials(s.AWS, f.LogicalID), func(k string) string { return env[k] })
		if err != nil {
			return fmt.Errorf("function %s: %w", f.LogicalID, err)
		}
		timeout := 3 * time.Second
		props := s.Template.Resources[f.LogicalID].Properties
		for _, v := range []any{props["Timeout"], globals["Timeout"]} {
			if n, ok := v.(int); ok {
				timeout = time.Duration(n) * time.Second
				break
			}
		}
		s.Runtime.Register(f.LogicalID, h, timeout)
		if name, ok := props["FunctionName"]; ok {
			// Named in the template: invoked by that name, as on AWS.
			physical, err := res.String(name)
			if err != nil {
				return fmt.Errorf("function %s: FunctionName: %w", f.LogicalID, err)
			}
			if err := s.Runtime.Alias(physical, f.LogicalID); err != nil {
				return err
			}
		}
	}
	return nil
}

// wireNotifications follows the template from each bucket's
// QueueConfigurations to the queue and from the queue to the function whose
// SQS event reads it.
func (s *Stack) wireNotifications(res *samtemplate.Resolver) error {
	consumers := map[string]samtemplate.Function{} // queue ARN -> function
	batch := map[string]int{}
	for _, f := range s.Template.Functions() {
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			arn, err := res.String(e.Properties["Queue"])
			if err != nil {
				return fmt.Errorf("function %s event %s: %w", f.LogicalID, e.Name, err)
			}
			consumers[arn] = f
			if n, ok := e.Properties["BatchSize"].(int); ok {
				batch[arn] = n
			}
		}
	}
	for _, id := range s.Template.OfType("AWS::SQS::Queue") {
		arn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", Region, AccountID, id)
		f, ok := consumers[arn]
		if !ok {
			continue
		}
		maxReceive := 5
		if rp, ok := s.Template.Resources[id].Properties["RedrivePolicy"].(map[string]any); ok {
			if n, ok := rp["maxReceiveCount"].(int); ok {
				maxReceive = n
			}
		}
		fn := f.LogicalID
		s.queues[id] = sqslocal.New(sqslocal.Options{
			ARN: arn, Region: Region, BatchSize: batch[arn], MaxReceiveCount: maxReceive,
			Visibility:     s.opts.QueueVisibility,
			DeadLetterPath: filepath.Join(s.opts.DataDir, "dead-letters-"+id+".jsonl"),
			Invoke: func(ctx context.Context, payload []byte) ([]byte, error) {
				return s.Runtime.Invoke(ctx, fn, payload)
			},
			Logger: s.log,
		})
	}
	for _, id := range s.Template.OfType("AWS::S3::Bucket") {
		nc, _ := s.Template.Resources[id].Properties["NotificationConfiguration"].(map[string]any)
		qcs, _ := nc["QueueConfigurations"].([]any)
		for _, qc := range qcs {
			m, _ := qc.(map[string]any)
			arn, err := res.String(m["Queue"])
			if err != nil {
				return fmt.Errorf("bucket %s notification: %w", id, err)
			}
			queue := arn[strings.LastIndex(arn, ":")+1:]
			if _, ok := s.queues[queue]; !ok {
				return fmt.Errorf("bucket %s notifies queue %s, which no function reads", id, queue)
			}
			s.routes[s.Names[id]] = appendUnique(s.routes[s.Names[id]], queue)
		}
	}
	return nil
}

// wireDestinations gives each function the EventInvokeConfig the template
// sets: its retries, and its on-failure destination when that is one of
// the stack's queues.
func (s *Stack) wireDestinations(res *samtemplate.Resolver) error {
	for _, f := range s.Template.Functions() {
		cfg, ok := s.Template.Resources[f.LogicalID].Properties["EventInvokeConfig"].(map[string]any)
		if !ok {
			continue
		}
		var async lambdalocal.AsyncConfig
		if n, ok := cfg["MaximumRetryAttempts"].(int); ok {
			async.MaximumRetryAttempts = &n
		}
		dc, _ := cfg["DestinationConfig"].(map[string]any)
		if of, ok := dc["OnFailure"].(map[string]any); ok {
			if typ, _ := res.String(of["Type"]); typ != "SQS" {
				return fmt.Errorf("function %s: on-failure destination of type %q: the local stack sends to SQS queues only", f.LogicalID, typ)
			}
			arn, err := res.String(of["Destination"])
			if err != nil {
				return fmt.Errorf("function %s on-failure destination: %w", f.LogicalID, err)
			}
			q, ok := s.queues[arn[strings.LastIndex(arn, ":")+1:]]
			if !ok {
				return fmt.Errorf("function %s sends failures to %s, which no function reads", f.LogicalID, arn)
			}
			async.OnFailure = q.Send
		}
		if err := s.Runtime.SetAsync(f.LogicalID, async); err != nil {
			return err
		}
	}
	return nil
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// notify delivers an S3 change to the queues the bucket notifies.
func (s *Stack) notify(n s3local.Notification) {
	if s.opts.HoldNotifications {
		s.mu.Lock()
		s.held = append(s.held, n)
		s.mu.Unlock()
		return
	}
	for _, q := range s.routes[n.Bucket] {
		body, err := s3local.EventJSON(n, Region)
		if err != nil {
			s.log.Error("s3 notification", "bucket", n.Bucket, "error", err)
			continue
		}
		s.queues[q].Send(body)
	}
}

// tableProps is the part of AWS::DynamoDB::Table the local stack creates.
type tableProps struct {
	AttributeDefinitions []ddbtypes.AttributeDefinition
	KeySchema            []ddbtypes.KeySchemaElement
	// GlobalSecondaryIndexes need no throughput with PAY_PER_REQUEST.
	GlobalSecondaryIndexes []ddbtypes.GlobalSecondaryIndex
	BillingMode            ddbtypes.BillingMode
}

func (s *Stack) createTables(ctx context.Context, res *samtemplate.Resolver) error {
	client := dynamodb.NewFromConfig(s.AWS)
	for _, id := range s.Template.OfType("AWS::DynamoDB::Table") {
		in, err := tableInput(res, id, s.Names[id])
		if err != nil {
			return err
		}
		if err := s.ensureTable(ctx, client, id, in); err != nil {
			return err
		}
	}
	return nil
}

// tableInput is the CreateTableInput of the template's table id, named name.
func tableInput(res *samtemplate.Resolver, id, name string) (*dynamodb.CreateTableInput, error) {
	props, err := res.Value(res.Template.Resources[id].Properties)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	raw, _ := json.Marshal(props)
	var p tableProps
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	return &dynamodb.CreateTableInput{
		TableName: aws.String(name), AttributeDefinitions: p.AttributeDefinitions, KeySchema: p.KeySchema,
		GlobalSecondaryIndexes: p.GlobalSecondaryIndexes, BillingMode: p.BillingMode,
	}, nil
}

func (s *Stack) createBuckets(res *samtemplate.Resolver) error {
	for _, id := range s.Template.OfType("AWS::S3::Bucket") {
		name := s.Names[id]
		if err := s.S3.CreateBucket(name); err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrBucketAlreadyExists) {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
		vc, _ := s.Template.Resources[id].Properties["VersioningConfiguration"].(map[string]any)
		status, err := res.String(vc["Status"])
		if err != nil {
			return fmt.Errorf("bucket %s: %w", id, err)
		}
		var cfg gofakes3.VersioningConfiguration
		cfg.SetEnabled(status == "Enabled")
		current, _ := s.S3.VersioningConfiguration(name)
		if current.Enabled() != cfg.Enabled() {
			if err := s.S3.SetVersioningConfiguration(name, cfg); err != nil {
				return fmt.Errorf("bucket %s versioning: %w", name, err)
			}
		}
		if err := s.lockBucket(res, id, name); err != nil {
			return err
		}
	}
	return nil
}

// lockBucket gives bucket id (named name) the Object Lock its template
// asks for (ObjectLockEnabled, and ObjectLockConfiguration's default
// retention), as CloudFormation creates it; Object Lock, once on, stays.
func (s *Stack) lockBucket(res *samtemplate.Resolver, id, name string) error {
	props := s.Template.Resources[id].Properties
	if fmt.Sprint(props["ObjectLockEnabled"]) != "true" {
		return nil
	}
	cfg, _ := props["ObjectLockConfiguration"].(map[string]any)
	rule, _ := cfg["Rule"].(map[string]any)
	ret, _ := rule["DefaultRetention"].(map[string]any)
	mode, days := "", 0
	if ret != nil {
		var err error
		if mode, err = res.String(ret["Mode"]); err != nil {
			return fmt.Errorf("bucket %s Object Lock mode: %w", id, err)
		}
		d, err := res.String(ret["Days"])
		if err != nil {
			return fmt.Errorf("bucket %s Object Lock days: %w", id, err)
		}
		if _, err := fmt.Sscan(d, &days); err != nil {
			return fmt.Errorf("bucket %s Object Lock days %q: %w", id, d, err)
		}
	}
	if m, d, ok := s.S3.ObjectLock(name); ok && m == mode && d == days {
		return nil
	}
	if err := s.S3.SetObjectLock(name, mode, days); err != nil {
		return fmt.Errorf("bucket %s Object Lock: %w", name, err)
	}
	return nil
}

// WaitIdle returns when every queued notification has been handled and every
// asynchronous invocation has finished, or when ctx ends. Each feeds the
// other (an erasure job invoked asynchronously rewrites lists, whose
// notifications index them), so it waits until a round of both finds
// nothing new.
func (s *Stack) WaitIdle(ctx context.Context) error {
	for {
		started := s.Runtime.AsyncStarted()
		for _, q := range s.queues {
			if err := q.WaitIdle(ctx); err != nil {
				return err
			}
		}
		if err := s.Runtime.WaitAsync(ctx); err != nil {
			return err
		}
		if s.Runtime.AsyncStarted() == started && s.queuesIdle() {
			return nil
		}
	}
}

func (s *Stack) queuesIdle() bool {
	for _, q := range s.queues {
		if !q.Idle() {
			return false
		}
	}
	return true
}

// HeldNotifications returns and forgets the notifications held so far
// (Options.HoldNotifications).
func (s *Stack) HeldNotifications() []s3local.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.held
	s.held = nil
	return out
}

// DeadLetters returns the dead-lettered message bodies of queue id.
func (s *Stack) DeadLetters(id string) []string {
	if q, ok := s.queues[id]; ok {
		return q.DeadLetters()
	}
	return nil
}

// Close stops every part; it is safe on a partly started stack.
func (s *Stack) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	s.servers = nil
	for id, q := range s.queues {
		q.Close()
		delete(s.queues, id)
	}
	for _, c := range s.closers {
		c()
	}
	s.closers = nil
	if s.S3 != nil {
		_ = s.S3.Close()
	}
	if s.dynalite != nil {
		s.dynalite.Stop()
		s.dynalite = nil
	}
}

// FunctionEnv returns function id's environment variable name, as the
// stack resolved it from template.yaml: what a test builds the function's
// services from.
func (s *Stack) FunctionEnv(id, name string) string { return s.env[id][name] }

// Environment returns what a shell needs to use the stack with the AWS CLI.
func (s *Stack) Environment() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.EdgeURL, "AWS_REGION=" + Region, "AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AdminAccessKey, "AWS_SECRET_ACCESS_KEY=" + AdminSecretKey, "AWS_PAGER=",
	}
}
