// Package indexkey fetches the index's HMAC key from Secrets Manager.
// Every function that keys identifiers (index, search, pseudonymize) must
// use the same key, so they all get it here, once per cold start.
package indexkey

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/identifiers"
)

// API is the part of the Secrets Manager client Load calls.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ API = (*secretsmanager.Client)(nil)

// Load returns the key stored in the secret arn; it fails if the secret
// cannot be read or is shorter than identifiers.MinSecretBytes.
func Load(ctx context.Context, api API, arn string) ([]byte, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("index key %s: %w", arn, err)
	}
	key := []byte(aws.ToString(out.SecretString))
	if len(key) == 0 {
		key = out.SecretBinary
	}
	if len(key) < identifiers.MinSecretBytes {
		return nil, fmt.Errorf("index key %s: %d bytes, want at least %d", arn, len(key), identifiers.MinSecretBytes)
	}
	return key, nil
}
