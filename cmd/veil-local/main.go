// Command veil-local runs Veil's local stack (make run) in the foreground
// until interrupted: the edge with every AWS protocol, the HTTP API, and the
// functions compiled in, all built from template.yaml.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/veil-privacy/veil/pkg/local/stack"
)

func main() {
	root := flag.String("root", ".", "repository root (template.yaml, samples/, node_modules/)")
	data := flag.String("data", "", "data directory (default <root>/.local)")
	edgeAddr := flag.String("edge", "127.0.0.1:4566", "edge listen address (every AWS protocol)")
	apiAddr := flag.String("api", "127.0.0.1:3000", "HTTP API listen address")
	samples := flag.Bool("samples", true, "upload samples/ into the leads bucket on first start")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := stack.Start(ctx, stack.Options{Root: *root, DataDir: *data, EdgeAddr: *edgeAddr, APIAddr: *apiAddr, Samples: *samples, Logger: logger})
	if err != nil {
		log.Fatalf("local stack: %v", err)
	}
	fmt.Printf(`Veil local stack is up.
  API      %s   (GET /health; make token ROLE=admin for a bearer token)
  AWS edge %s   (s3, dynamodb, lambda, states, secretsmanager, ses, sns)
  Buckets  %s, %s
  Outbox   %s/outbox
Try:
  export AWS_ENDPOINT_URL=%s AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  aws s3 ls s3://%s --recursive
  aws dynamodb list-tables
Ctrl-C stops everything.
`, s.APIURL, s.EdgeURL, s.Names["LeadsBucket"], s.Names["ExportsBucket"], dataDir(*root, *data), s.EdgeURL, s.Names["LeadsBucket"])
	<-ctx.Done()
	fmt.Println("stopping…")
	s.Close()
}

func dataDir(root, data string) string {
	if data != "" {
		return data
	}
	return root + "/.local"
}
