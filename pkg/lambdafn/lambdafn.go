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

// Require returns the value of each named variable, or a *MissingError
// naming the first that is empty.
func Require(getenv func(string) string, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = getenv(n)
		if vals[i] == "" {
			return nil, &MissingError{Name: n}
		}
	}
	return vals, nil
}

// MissingError names an environment variable a function needs and lacks.
type MissingError struct{ Name string }

// Error names the variable.
func (e *MissingError) Error() string { return "environment variable " + e.Name + " is not set" }
