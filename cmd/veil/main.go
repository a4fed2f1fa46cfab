// Command veil is the operator's tool:
//
//	veil token -role admin                      a local development token for the local stack's API
//	veil backfill -bucket B [-prefix P] …       index every list already under a prefix
//	veil columns set|get -campaign ID …         a campaign's column map
//	veil lists [-failed] [-json]                what the index made of every current list
//	veil verify [-prefix P] [-repair] …         entries in the table equal to what manifests count
//	veil rotate-key -secret S -begin|-status|-finish  replace the index's HMAC key
//	veil audit verify [-request ID]             every request's audit trail whole
//
// Commands that call AWS use the SDK's standard configuration
// (AWS_ENDPOINT_URL, AWS_REGION, credentials), so they work unchanged
// against `make run`'s edge and against AWS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
)

// command runs one subcommand and returns the process's exit code.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran, and some of its work failed
	exitUsage  = 2 // bad arguments, configuration, or a failure that stopped the command
)

var commands = map[string]command{
	"token":    token,
	"backfill": backfillCmd,
	"columns":  columns,
	"catalog":  catalogCmd,
	"lists":    lists,
	"verify":   verifyCmd,
	// rotate-key: see rotatekey.go.
	"rotate-key": rotateKey,
	"suppress":   suppress,
	"audit":      auditCmd,
}

const usageText = `usage:
  veil token -role agent|supervisor|admin|auditor [-data .local] [-ttl 12h]
  veil backfill -bucket NAME [-prefix campaigns/] [-workers 8] [-batch 50] [-function IndexFunction] [-dry-run] [-json]
  veil columns set -campaign ID [-map 'Header=kind,…'] [-encoding LABEL] [-table veil-index]
  veil columns get -campaign ID [-table veil-index]
  veil catalog set -campaign ID|default -file catalog.json|- [-table veil-index]
  veil catalog get -campaign ID|default [-table veil-index]
  veil lists [-failed] [-json] [-migrate] [-table veil-index]
  veil verify [-bucket NAME] [-prefix campaigns/] [-repair] [-json] [-function IndexFunction] [-table veil-index]
  veil rotate-key -secret NAME|ARN -begin|-status|-finish [-table veil-index]
  veil suppress import FILE -secret NAME|ARN [-action do-not-contact|mask|flag] [-origin NAME] [-region US] [-table veil-index] [-json]
  veil audit verify [-request ID] [-json] [-table veil-requests]
  veil suppress check -kind phone|email|customer_id|account_number -secret NAME|ARN [-region US] [-table veil-index] [-json] VALUE...
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// subcommand reads the verb of a command with verbs ("columns set") and
// returns it with the flag set of "name verb", writing errors to stderr;
// ok is false, the usage printed, when args name none of verbs.
func subcommand(name string, args []string, stderr io.Writer, verbs ...string) (verb string, fs *flag.FlagSet, ok bool) {
	if len(args) == 0 || !slices.Contains(verbs, args[0]) {
		fmt.Fprint(stderr, usageText)
		return "", nil, false
	}
	fs = flag.NewFlagSet(name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return args[0], fs, true
}
