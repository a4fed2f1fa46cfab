package lambdafn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/search"
)

// SearchService builds the search every function that searches shares
// (SearchFunction, IntakeFunction's GET /search) from INDEX_TABLE,
// INDEX_KEY_SECRET_ARN and PHONE_REGION, searching under every key of the
// keyring. It returns *MissingError for an unset variable, or the error of
// loading the keyring.
func SearchService(ctx context.Context, awsCfg aws.Config, getenv func(string) string) (*search.Service, error) {
	v, err := Require(getenv, "INDEX_TABLE", "INDEX_KEY_SECRET_ARN")
	if err != nil {
		return nil, err
	}
	// Every key of the keyring: during a rotation, lists are indexed under
	// the old key or the new one.
	ring, err := indexkey.LoadKeyring(ctx, secretsmanager.NewFromConfig(awsCfg), v[1])
	if err != nil {
		return nil, err
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), v[0])
	store.CountMaxAge = indexstore.SearchCountMaxAge
	return &search.Service{
		Index:   store,
		Objects: objectstore.New(s3.NewFromConfig(awsCfg, objectstore.ClientOptions)),
		Secret:  ring.Active.Secret,
		Secrets: ring.Secrets(),
		Region:  getenv("PHONE_REGION"),
	}, nil
}
