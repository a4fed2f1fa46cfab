// Package lambdafn is the whole of a Veil function's main: structured
// logs, the AWS SDK's standard configuration (which is how the same binary
// finds AWS or the local stack), the function's own Build, lambda.Start.
package lambdafn

import (
	"context"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Builder reads a function's configuration through getenv, builds its
// clients from awsCfg and returns the handler lambda.Start takes. It returns
// an error naming the missing or malformed setting.
type Builder func(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (any, error)

// Run builds the function and hands it to the Lambda runtime; it exits the
// process if the configuration is unusable.
func Run(build Builder) {
	slog.SetDefault(NewLogger(os.Getenv("LOG_LEVEL")))
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatalf("aws config: %v", err)
	}
	h, err := build(ctx, awsCfg, os.Getenv)
	if err != nil {
		log.Fatalf("configuration: %v", err)
	}
	lambda.Start(h)
}

// NewLogger returns a JSON logger at level (DEBUG, INFO, WARN, ERROR; INFO
// when empty or unknown).
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// Env reads a function's environment into the named fields of its
// Config: Need for a variable the function cannot run without, Get for
// one with a default. Err names the first variable Need found unset.
type Env struct {
	getenv  func(string) string
	missing string
}

// NewEnv reads through getenv (os.Getenv, or a test's map).
func NewEnv(getenv func(string) string) *Env { return &Env{getenv: getenv} }

// Need returns the variable name, remembering it when it is unset.
func (e *Env) Need(name string) string {
	v := e.getenv(name)
	if v == "" && e.missing == "" {
		e.missing = name
	}
	return v
}

// Get returns the variable name, "" when unset.
func (e *Env) Get(name string) string { return e.getenv(name) }

// Err returns a *MissingError naming the first variable Need found unset,
// or nil.
func (e *Env) Err() error {
	if e.missing != "" {
		return &MissingError{Name: e.missing}
	}
	return nil
}

// MissingError names an environment variable a function needs and lacks.
type MissingError struct{ Name string }

// Error names the variable.
func (e *MissingError) Error() string { return "environment variable " + e.Name + " is not set" }
