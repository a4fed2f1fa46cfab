// Package awscli finds the real AWS CLI that tests drive against the local
// stack's protocols.
package awscli

import (
	"fmt"
	"os"
	"os/exec"
)

// Path returns $AWS_CLI (the Makefile sets it to Debian's /usr/bin/aws),
// else /usr/bin/aws, else aws on PATH; it returns an error telling how to
// install one.
func Path() (string, error) {
	for _, p := range []string{os.Getenv("AWS_CLI"), "/usr/bin/aws"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("aws")
	if err != nil {
		return "", fmt.Errorf("the AWS CLI is required (make deps installs Debian's awscli): %w", err)
	}
	return p, nil
}
