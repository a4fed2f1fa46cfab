// Command veil-bench prints Veil's performance figures, one `name value`
// line each, measured side by side in one run (`make bench`); see package
// benchmarks. -quick is a smoke run.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/veil-privacy/veil/pkg/benchmarks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := benchmarks.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
