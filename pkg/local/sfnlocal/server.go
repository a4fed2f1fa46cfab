// Package sfnlocal is a local stand-in for AWS Step Functions: the JSON 1.0
// protocol of the Step Functions API, served over HTTP on top of the asl
// interpreter, with state machines and executions kept in a directory so a
// restart resumes every running execution where it stood.
package sfnlocal

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/veil-privacy/veil/pkg/asl"
)

// Options configures a Server.
type Options struct {
	// Dir is where state machines, executions, timers and task tokens
	// persist; empty keeps everything in memory.
	Dir string
	// Invoker runs Lambda tasks.
	Invoker asl.Invoker
	// Clock defaults to asl.SystemClock().
	Clock asl.Clock
	// Region and AccountID go into ARNs; they default to us-east-1 and
	// 000000000000.
	Region    string
	AccountID string
	// Logger receives warnings (never payloads); it defaults to slog.Default().
	Logger *slog.Logger
	// S3 is what Distributed Maps' ItemReaders read with; without it they
	// fail with States.Runtime.
	S3 asl.S3Client
}

// Server is the Step Functions stand-in. It is an http.Handler for requests
// whose X-Amz-Target starts with "AWSStepFunctions.".
type Server struct {
	opts   Options
	engine *asl.Engine
	store  *store

	mu       sync.Mutex
	machines map[string]*machine // by ARN
}

type machine struct {
	rec machineRecord
	sm  *asl.StateMachine
}

// New returns a Server. With a Dir, it loads the state machines and
// executions saved there and resumes the running executions: Waits and
// retries re-armed (those that fell due while down fire now), task tokens
// valid, timeouts armed. It fails if Dir cannot be read.
func New(opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Clock == nil {
		opts.Clock = asl.SystemClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, machines: map[string]*machine{}}
	if opts.Dir != "" {
		st, err := openStore(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("sfnlocal: %w", err)
		}
		s.store = st
	}
	engOpts := asl.Options{Invoker: opts.Invoker, Clock: opts.Clock, Region: opts.Region, Logger: opts.Logger, S3: opts.S3}
	if s.store != nil {
		engOpts.Persist = func(id string, snapshot []byte) {
			if err := s.store.saveExecution(id, snapshot); err != nil {
				s.opts.Logger.Warn("sfnlocal: persisting an execution failed", "error", err)
			}
		}
	}
	s.engine = asl.NewEngine(engOpts)
	if s.store != nil {
		if err := s.load(); err != nil {
			s.engine.Close()
			return nil, fmt.Errorf("sfnlocal: %w", err)
		}
	}
	return s, nil
}

func (s *Server) load() error {
	recs, err := s.store.machines()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		sm, err := asl.Parse(rec.Definition)
		if err != nil {
			return fmt.Errorf("state machine %s: %w", rec.Name, err)
		}
		s.machines[rec.ARN] = &machine{rec: rec, sm: sm}
	}
	snaps, err := s.store.executions()
	if err != nil {
		return err
	}
	for _, b := range snaps {
		if _, err := s.engine.Restore(b); err != nil {
			return err
		}
	}
	return nil
}

// Engine returns the interpreter, for waiting on executions
// (WaitStatus, WaitIdle) in tests and tools.
func (s *Server) Engine() *asl.Engine { return s.engine }

// Close stops timers and in-flight invocations. Running executions stay in
// Dir and resume in the next New on the same Dir.
func (s *Server) Close() { s.engine.Close() }

// StateMachineARN returns the ARN a state machine called name has.
func (s *Server) StateMachineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", s.opts.Region, s.opts.AccountID, name)
}

func (s *Server) executionARN(machineName, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", s.opts.Region, s.opts.AccountID, machineName, name)
}

// CreateStateMachine creates the state machine name, or updates its
// definition and role if it exists, and returns its ARN. It returns an
// *APIError of type InvalidName or InvalidDefinition (whose message names the
// offending state).
func (s *Server) CreateStateMachine(ctx context.Context, name, definition, roleARN string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	sm, err := asl.Parse(definition)
	if err != nil {
		return "", toAPIError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	arn := s.StateMachineARN(name)
	now := s.opts.Clock.Now()
	m, ok := s.machines[arn]
	if ok {
		m.rec.Definition, m.rec.RoleARN, m.rec.Updated, m.sm = definition, roleARN, now, sm
	} else {
		m = &machine{rec: machineRecord{ARN: arn, Name: name, Definition: definition, RoleARN: roleARN, Type: "STANDARD", Created: now}, sm: sm}
		s.machines[arn] = m
	}
	if err := s.saveMachine(m); err != nil {
		return "", err
	}
	return arn, nil
}

func (s *Server) saveMachine(m *machine) error {
	if s.store == nil {
		return nil
	}
	return s.store.saveMachine(m.rec)
}

var nameForbidden = regexp.MustCompile("[\\s<>{}\\[\\]?*\"#%\\\\^|~`$&,;:/\\x00-\\x1f\\x7f-\\x9f]")

// validName applies AWS's rules for state machine and execution names.
func validName(name string) error {
	if name == "" || len([]rune(name)) > 80 || nameForbidden.MatchString(name) {
		return apiErrorf("InvalidName", "Invalid Name: '%s'", name)
	}
	return nil
}

// parseARN checks that arn is an ARN of the given resource kind
// ("stateMachine", "execution") in this region and account, and returns the
// parts after the kind.
func (s *Server) parseARN(arn, kind string) ([]string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != kind {
		return nil, apiErrorf("InvalidArn", "Invalid Arn: '%s'", arn)
	}
	for _, p := range parts[6:] {
		if p == "" {
			return nil, apiErrorf("InvalidArn", "Invalid Arn: '%s'", arn)
		}
	}
	return parts[6:], nil
}

func newExecutionName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// epoch renders a time as the API's epoch seconds.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", float64(time.Time(t).UnixMilli())/1000)), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}
