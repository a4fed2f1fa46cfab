// Command veil is the operator's tool. `veil token -role admin` prints a
// local development token for the local stack's API.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/local/devauth"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "token":
		if err := token(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "veil token:", err)
			os.Exit(2)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: veil token -role agent|supervisor|admin|auditor [-data .local] [-ttl 12h]")
	os.Exit(2)
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	role := fs.String("role", "", "staff role: agent, supervisor, admin or auditor")
	data := fs.String("data", ".local", "the local stack's data directory")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	subject := fs.String("sub", "", "subject (default dev-<role>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	valid := false
	for _, r := range auth.Roles {
		valid = valid || string(r) == *role
	}
	if !valid {
		return fmt.Errorf("-role %q: want one of %v", *role, auth.Roles)
	}
	if *subject == "" {
		*subject = "dev-" + *role
	}
	key, err := devauth.LoadKey(filepath.Join(*data, "dev-token.key"))
	if err != nil {
		return err
	}
	tok, err := key.Issue(*subject, []string{*role}, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
