package main

// token prints a local development token for the local stack's API.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/veil-privacy/veil/pkg/auth"
	"github.com/veil-privacy/veil/pkg/local/devauth"
)

func token(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "staff role: agent, supervisor, admin or auditor; api for an external system's client-credentials token")
	data := fs.String("data", ".local", "the local stack's data directory")
	ttl := fs.Duration("ttl", 12*time.Hour, "how long the token is valid")
	subject := fs.String("sub", "", "subject (default dev-<role>)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	tok, err := issueToken(*role, *data, *subject, *ttl)
	if err != nil {
		fmt.Fprintln(stderr, "veil token:", err)
		return exitUsage
	}
	fmt.Fprintln(stdout, tok)
	return exitOK
}

func issueToken(role, data, subject string, ttl time.Duration) (string, error) {
	if role == string(auth.API) {
		if subject == "" {
			subject = "dev-api-client"
		}
		key, err := devauth.LoadKey(filepath.Join(data, "dev-token.key"))
		if err != nil {
			return "", err
		}
		return key.IssueClient(subject, []string{auth.RequestsScope}, ttl)
	}
	valid := false
	for _, r := range auth.Roles {
		valid = valid || string(r) == role
	}
	if !valid {
		return "", fmt.Errorf("-role %q: want one of %v", role, auth.Roles)
	}
	if subject == "" {
		subject = "dev-" + role
	}
	key, err := devauth.LoadKey(filepath.Join(data, "dev-token.key"))
	if err != nil {
		return "", err
	}
	return key.Issue(subject, []string{role}, ttl)
}
