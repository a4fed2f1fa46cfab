package suppression

// A list's scrub report: which of its rows hold a suppressed identifier,
// and what was done about them. It holds row numbers, actions and
// origins, never a value. One item per object, beside its manifest in the
// Index table:
//
//	report  PK OBJ#<bucket>/<key>  SK SCRUB  the report as JSON

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/veil-privacy/veil/pkg/dynamo"
	"github.com/veil-privacy/veil/pkg/veil"
)

// Report is the scrub of one version of a list.
type Report struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId"`
	// Checked is when the version was checked against the list ("" until
	// it is: a version the scrub wrote, whose masked rows are recorded,
	// before the index read it).
	Checked time.Time `json:"checked,omitzero"`
	// Rows are the rows to skip, by sheet and row number.
	Rows []ReportRow `json:"rows"`
	// Masked, Flagged and DoNotContact count the rows by what was done.
	Masked       int `json:"masked"`
	Flagged      int `json:"flagged"`
	DoNotContact int `json:"doNotContact"`
}

// ReportRow is one row that holds a suppressed identifier.
type ReportRow struct {
	Sheet string `json:"sheet,omitempty"`
	// Row is the record number of a text list (1 for the first data
	// record), the spreadsheet row of a workbook.
	Row int64 `json:"row"`
	// Actions are the suppression entries' actions, Origins their origins
	// (a request, an import), in the same order.
	Actions []Action `json:"actions"`
	Origins []string `json:"origins"`
	// Masked says the scrub masked the row's personal data.
	Masked bool `json:"masked,omitempty"`
}

// Sort orders the report's rows and counts them.
func (r *Report) Sort() {
	sort.Slice(r.Rows, func(i, j int) bool {
		if r.Rows[i].Sheet != r.Rows[j].Sheet {
			return r.Rows[i].Sheet < r.Rows[j].Sheet
		}
		return r.Rows[i].Row < r.Rows[j].Row
	})
	r.Masked, r.Flagged, r.DoNotContact = 0, 0, 0
	for _, row := range r.Rows {
		switch {
		case row.Masked:
			r.Masked++
		case contains(row.Actions, DoNotContact):
			r.DoNotContact++
		default:
			r.Flagged++
		}
	}
	if r.Rows == nil {
		r.Rows = []ReportRow{}
	}
}

func contains(as []Action, a Action) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

// ReportAPI is the part of the DynamoDB client Reports calls.
type ReportAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Reports keeps scrub reports in the Index table.
type Reports struct {
	API   ReportAPI
	Table string
}

const reportSK = "SCRUB"

type reportItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Version string `dynamodbav:"versionId"`
	Report  string `dynamodbav:"report"`
}

func reportPK(bucket, key string) string { return "OBJ#" + bucket + "/" + key }

// Put records r as the object's report, over the one before.
func (s *Reports) Put(ctx context.Context, r Report) error {
	r.Sort()
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	item, err := attributevalue.MarshalMap(reportItem{PK: reportPK(r.Bucket, r.Key), SK: reportSK, Version: r.VersionID, Report: string(body)})
	if err != nil {
		return err
	}
	if _, err := s.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item}); err != nil {
		return fmt.Errorf("scrub report of s3://%s/%s: %w", r.Bucket, r.Key, err)
	}
	return nil
}

// Get returns the object's report; none wraps veil.ErrNotFound.
func (s *Reports) Get(ctx context.Context, bucket, key string) (Report, error) {
	out, err := s.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), ConsistentRead: aws.Bool(true),
		Key: dynamo.Key(reportPK(bucket, key), reportSK)})
	if err != nil {
		return Report{}, fmt.Errorf("scrub report of s3://%s/%s: %w", bucket, key, err)
	}
	if out.Item == nil {
		return Report{}, fmt.Errorf("scrub report of s3://%s/%s: %w", bucket, key, veil.ErrNotFound)
	}
	var it reportItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Report{}, err
	}
	var r Report
	if err := json.Unmarshal([]byte(it.Report), &r); err != nil {
		return Report{}, fmt.Errorf("scrub report of s3://%s/%s: %w", bucket, key, err)
	}
	return r, nil
}
