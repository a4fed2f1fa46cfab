package lambdafn

// The services several functions build, each from the named settings it
// needs: a function's Config holds these pieces, read once.

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

// SearchConfig is what a search needs: the Index table (INDEX_TABLE), the
// index's keyring (INDEX_KEY_SECRET_ARN) and the region phones without a
// country code are read in (PHONE_REGION, optional).
type SearchConfig struct {
	IndexTable        string
	IndexKeySecretARN string
	PhoneRegion       string
}

// ReadSearchConfig reads a SearchConfig from e.
func ReadSearchConfig(e *Env) SearchConfig {
	return SearchConfig{IndexTable: e.Need("INDEX_TABLE"), IndexKeySecretARN: e.Need("INDEX_KEY_SECRET_ARN"), PhoneRegion: e.Get("PHONE_REGION")}
}

// SearchConfigFromEnv reads a SearchConfig through getenv; it returns
// *MissingError for an unset variable.
func SearchConfigFromEnv(getenv func(string) string) (SearchConfig, error) {
	e := NewEnv(getenv)
	c := ReadSearchConfig(e)
	return c, e.Err()
}

// ExportsConfig is the exports bucket (EXPORTS_BUCKET) and the KMS key its
// objects are written under (EXPORTS_KEY_ARN, optional: the bucket's
// default).
type ExportsConfig struct {
	Bucket string
	KeyARN string
}

// ReadExportsConfig reads an ExportsConfig from e.
func ReadExportsConfig(e *Env) ExportsConfig {
	return ExportsConfig{Bucket: e.Need("EXPORTS_BUCKET"), KeyARN: e.Get("EXPORTS_KEY_ARN")}
}

// Files is the exports bucket's file store on s3c (writes under the
// exports key, presigned GETs).
func (c ExportsConfig) Files(s3c *s3.Client) *access.Files {
	return &access.Files{API: s3c, Presign: s3.NewPresignClient(s3c), Bucket: c.Bucket, KMSKeyID: c.KeyARN}
}

// SearchService builds the search from c, searching under every key of
// the keyring. It returns the error of loading the keyring.
func SearchService(ctx context.Context, awsCfg aws.Config, c SearchConfig) (*search.Service, error) {
	// Every key of the keyring: during a rotation, lists are indexed under
	// the old key or the new one.
	ring, err := indexkey.LoadKeyring(ctx, secretsmanager.NewFromConfig(awsCfg), c.IndexKeySecretARN)
	if err != nil {
		return nil, err
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), c.IndexTable)
	store.CountMaxAge = indexstore.SearchCountMaxAge
	return &search.Service{
		Index:   store,
		Objects: objectstore.New(s3.NewFromConfig(awsCfg, objectstore.ClientOptions)),
		Secret:  ring.Active.Secret,
		Secrets: ring.Secrets(),
		Region:  c.PhoneRegion,
	}, nil
}

// AccessConfig is what the export service needs beyond the search: the
// exports bucket, the Requests table (REQUESTS_TABLE: exports and their
// downloads), the Index table (catalogs), the link secret
// (EXPORT_LINK_SECRET_ARN) and how many days a link works
// (EXPORT_LINK_DAYS, optional).
type AccessConfig struct {
	Exports       ExportsConfig
	RequestsTable string
	IndexTable    string
	LinkSecretARN string
	LinkDays      int
}

// ReadAccessConfig reads an AccessConfig from e; it returns an error for
// an EXPORT_LINK_DAYS that is not a whole number of days.
func ReadAccessConfig(e *Env) (AccessConfig, error) {
	c := AccessConfig{Exports: ReadExportsConfig(e), RequestsTable: e.Need("REQUESTS_TABLE"), IndexTable: e.Need("INDEX_TABLE"),
		LinkSecretARN: e.Need("EXPORT_LINK_SECRET_ARN")}
	if d := e.Get("EXPORT_LINK_DAYS"); d != "" {
		days, err := strconv.Atoi(d)
		if err != nil || days < 1 {
			return c, fmt.Errorf("EXPORT_LINK_DAYS %q: want a whole number of days, at least 1", d)
		}
		c.LinkDays = days
	}
	return c, nil
}

// AccessConfigFromEnv reads an AccessConfig through getenv; it returns
// *MissingError for an unset variable.
func AccessConfigFromEnv(getenv func(string) string) (AccessConfig, error) {
	e := NewEnv(getenv)
	c, err := ReadAccessConfig(e)
	if err == nil {
		err = e.Err()
	}
	return c, err
}

// AccessService builds the export service ExportFunction runs from c,
// searching with finder (SearchService). It returns the error of loading
// the link secret.
func AccessService(ctx context.Context, awsCfg aws.Config, c AccessConfig, finder *search.Service) (*access.Service, error) {
	secret, err := indexkey.Load(ctx, secretsmanager.NewFromConfig(awsCfg), c.LinkSecretARN)
	if err != nil {
		return nil, fmt.Errorf("export link secret: %w", err)
	}
	signer := &access.Signer{Secret: secret}
	if c.LinkDays > 0 {
		signer.Life = time.Duration(c.LinkDays) * 24 * time.Hour
	}
	s3c := s3.NewFromConfig(awsCfg, objectstore.ClientOptions)
	return &access.Service{
		Search:   finder,
		Catalogs: indexstore.New(dynamodb.NewFromConfig(awsCfg), c.IndexTable),
		Uploads:  objectstore.New(s3c),
		Files:    c.Exports.Files(s3c),
		Exports:  &access.Exports{API: dynamodb.NewFromConfig(awsCfg), Table: c.RequestsTable},
		Signer:   signer,
	}, nil
}

// SuppressionChecker builds the check of the suppression list in the Index
// table indexTable, keying values under secrets (every key of the
// keyring, as SearchService loaded it: search.Service.Secrets) and reading
// phones as region's.
func SuppressionChecker(awsCfg aws.Config, indexTable string, secrets [][]byte, region string) (*suppression.Checker, error) {
	h, err := suppression.NewHasher(secrets, region)
	if err != nil {
		return nil, err
	}
	return &suppression.Checker{Lookup: suppression.New(dynamodb.NewFromConfig(awsCfg), indexTable), Hasher: h}, nil
}

// ErasureConfig is what erasure and correction jobs need beyond the
// search: the Index and Requests tables, the exports bucket (inputs and
// certificates) and the masking policy (MASKING_POLICY, optional).
type ErasureConfig struct {
	IndexTable    string
	RequestsTable string
	Exports       ExportsConfig
	MaskingPolicy string
}

// ReadErasureConfig reads an ErasureConfig from e.
func ReadErasureConfig(e *Env) ErasureConfig {
	return ErasureConfig{IndexTable: e.Need("INDEX_TABLE"), RequestsTable: e.Need("REQUESTS_TABLE"), Exports: ReadExportsConfig(e),
		MaskingPolicy: e.Get(masking.PolicyEnv)}
}

// ErasureConfigFromEnv reads an ErasureConfig through getenv; it returns
// *MissingError for an unset variable.
func ErasureConfigFromEnv(getenv func(string) string) (ErasureConfig, error) {
	e := NewEnv(getenv)
	c := ReadErasureConfig(e)
	return c, e.Err()
}

// ErasureService builds the erasure and correction jobs PseudonymizeFunction
// previews, starts and runs, from c, searching with finder
// (SearchService). The hmac strategy's tokens are keyed by a key derived
// from the index's active key, never the key itself. It returns the error
// of a bad policy.
func ErasureService(awsCfg aws.Config, c ErasureConfig, finder *search.Service) (*erasure.Service, error) {
	policy, err := masking.PolicyFromEnv(func(string) string { return c.MaskingPolicy })
	if err != nil {
		return nil, err
	}
	h, err := suppression.NewHasher(finder.Secrets, finder.Region)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, objectstore.ClientOptions)
	return &erasure.Service{
		Search:      finder,
		Index:       indexstore.New(ddb, c.IndexTable),
		Bucket:      objectstore.New(s3c),
		Files:       erasure.BucketFiles{Files: c.Exports.Files(s3c), API: s3c},
		Jobs:        &erasure.Jobs{API: ddb, Table: c.RequestsTable},
		Suppression: suppression.New(ddb, c.IndexTable),
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
