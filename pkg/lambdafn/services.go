package lambdafn

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/veil-privacy/veil/pkg/access"
	"github.com/veil-privacy/veil/pkg/audit"
	"github.com/veil-privacy/veil/pkg/erasure"
	"github.com/veil-privacy/veil/pkg/indexkey"
	"github.com/veil-privacy/veil/pkg/indexstore"
	"github.com/veil-privacy/veil/pkg/masking"
	"github.com/veil-privacy/veil/pkg/objectstore"
	"github.com/veil-privacy/veil/pkg/requeststore"
	"github.com/veil-privacy/veil/pkg/search"
	"github.com/veil-privacy/veil/pkg/suppression"
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

// AccessService builds the export service IntakeFunction's /exports routes
// and ExportFunction share, from EXPORTS_BUCKET, REQUESTS_TABLE and
// EXPORT_LINK_SECRET_ARN (and EXPORTS_KEY_ARN, the exports' KMS key, and
// EXPORT_LINK_DAYS, how long a link works), searching with finder
// (SearchService). It returns *MissingError for an unset variable, or the
// error of loading the link secret.
func AccessService(ctx context.Context, awsCfg aws.Config, getenv func(string) string, finder *search.Service) (*access.Service, error) {
	v, err := Require(getenv, "EXPORTS_BUCKET", "REQUESTS_TABLE", "EXPORT_LINK_SECRET_ARN", "INDEX_TABLE")
	if err != nil {
		return nil, err
	}
	secret, err := indexkey.Load(ctx, secretsmanager.NewFromConfig(awsCfg), v[2])
	if err != nil {
		return nil, fmt.Errorf("export link secret: %w", err)
	}
	signer := &access.Signer{Secret: secret}
	if d := getenv("EXPORT_LINK_DAYS"); d != "" {
		days, err := strconv.Atoi(d)
		if err != nil || days < 1 {
			return nil, fmt.Errorf("EXPORT_LINK_DAYS %q: want a whole number of days, at least 1", d)
		}
		signer.Life = time.Duration(days) * 24 * time.Hour
	}
	s3c := s3.NewFromConfig(awsCfg, objectstore.ClientOptions)
	return &access.Service{
		Search:   finder,
		Catalogs: indexstore.New(dynamodb.NewFromConfig(awsCfg), v[3]),
		Uploads:  objectstore.New(s3c),
		Files:    &access.Files{API: s3c, Presign: s3.NewPresignClient(s3c), Bucket: v[0], KMSKeyID: getenv("EXPORTS_KEY_ARN")},
		Exports:  &access.Exports{API: dynamodb.NewFromConfig(awsCfg), Table: v[1]},
		Signer:   signer,
	}, nil
}

// SuppressionChecker builds the check of the suppression list in the Index
// table (INDEX_TABLE), keying values under secrets (every key of the
// keyring, as SearchService loaded it: search.Service.Secrets) and reading
// phones as PHONE_REGION's. It returns *MissingError for an unset
// variable.
func SuppressionChecker(awsCfg aws.Config, getenv func(string) string, secrets [][]byte) (*suppression.Checker, error) {
	v, err := Require(getenv, "INDEX_TABLE")
	if err != nil {
		return nil, err
	}
	h, err := suppression.NewHasher(secrets, getenv("PHONE_REGION"))
	if err != nil {
		return nil, err
	}
	return &suppression.Checker{Lookup: suppression.New(dynamodb.NewFromConfig(awsCfg), v[0]), Hasher: h}, nil
}

// ErasureService builds the erasure and correction jobs PseudonymizeFunction
// runs and IntakeFunction's /pseudonymize and /corrections routes start,
// from INDEX_TABLE, REQUESTS_TABLE, EXPORTS_BUCKET (inputs and
// certificates, under EXPORTS_KEY_ARN), MASKING_POLICY and PHONE_REGION,
// searching with finder (SearchService). The hmac strategy's tokens are
// keyed by a key derived from the index's active key, never the key
// itself. It returns *MissingError for an unset variable, or the error of
// a bad policy.
func ErasureService(awsCfg aws.Config, getenv func(string) string, finder *search.Service) (*erasure.Service, error) {
	v, err := Require(getenv, "INDEX_TABLE", "REQUESTS_TABLE", "EXPORTS_BUCKET")
	if err != nil {
		return nil, err
	}
	policy, err := masking.PolicyFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	h, err := suppression.NewHasher(finder.Secrets, finder.Region)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, objectstore.ClientOptions)
	files := &access.Files{API: s3c, Presign: s3.NewPresignClient(s3c), Bucket: v[2], KMSKeyID: getenv("EXPORTS_KEY_ARN")}
	return &erasure.Service{
		Search:      finder,
		Index:       indexstore.New(ddb, v[0]),
		Bucket:      objectstore.New(s3c),
		Files:       erasure.BucketFiles{Files: files, API: s3c},
		Jobs:        &erasure.Jobs{API: ddb, Table: v[1]},
		Suppression: suppression.New(ddb, v[0]),
		Hasher:      h,
		Secret:      finder.Secret,
		KeyID:       indexkey.ID(finder.Secret),
		MaskKey:     erasure.MaskKey(finder.Secret),
		Region:      finder.Region,
		Policy:      policy,
	}, nil
}

// RequestStore is the Requests table's store, with its audit trail, that
// IntakeFunction and the workflow's tasks read and change requests with.
func RequestStore(awsCfg aws.Config, table string) *requeststore.Store {
	ddb := dynamodb.NewFromConfig(awsCfg)
	return &requeststore.Store{API: ddb, Table: table, Audit: &audit.Store{API: ddb, Table: table}}
}
