package main

// verify checks that every object's entries in the Index table are what its
// manifest counts (pkg/indexstore Verify) and, with -repair, re-indexes the
// objects that differ the way `veil backfill -force` does: by invoking
// IndexFunction with them as a forced backfill batch, so that
// indexing.Service.Apply reconciles each (Reconcile and Force), rereading
// its current version and deleting every other version's entries. Only the
// objects that differ are repaired; each is verified again afterwards.
// Exit status 1 says some object differs (after -repair: still differs).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/veil-privacy/veil/pkg/backfill"
	"github.com/veil-privacy/veil/pkg/indexstore"
)

// verifyReport is what `veil verify -json` prints.
type verifyReport struct {
	Bucket     string `json:"bucket"`
	Prefix     string `json:"prefix"`
	Checked    int    `json:"checked"`
	OK         int    `json:"ok"`
	Differing  int    `json:"differing"`
	InProgress int    `json:"inProgress"`
	// Repaired says -repair ran; Fixed counts the differing objects that
	// agree with their manifest after it.
	Repaired bool `json:"repaired"`
	Fixed    int  `json:"fixed"`
	// Objects are the differing objects, by bucket and key; never null.
	Objects []verifiedObject `json:"objects"`
}

// verifiedObject is one differing object, and what repairing it did.
type verifiedObject struct {
	indexstore.Finding
	// After is the object verified again after its repair.
	After *indexstore.Finding `json:"after,omitempty"`
	// RepairError is why IndexFunction could not index the object (it may
	// still be fixed: a list that cannot be indexed must have no entries).
	RepairError string `json:"repairError,omitempty"`
}

// fixed says the object no longer differs after its repair (it agrees, or
// a change claimed it meanwhile and is indexing it).
func (v verifiedObject) fixed() bool {
	return v.After != nil && v.After.Verdict != indexstore.VerdictDiffers
}

// stillDiffering counts the differing objects a repair did not fix (all
// of them when none ran).
func (r verifyReport) stillDiffering() int {
	if !r.Repaired {
		return r.Differing
	}
	return r.Differing - r.Fixed
}

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bucket := fs.String("bucket", "", "the leads bucket (default: every bucket the index knows)")
	prefix := fs.String("prefix", "", "verify only the keys under this prefix, e.g. campaigns/")
	table := fs.String("table", "veil-index", "the index table")
	function := fs.String("function", backfill.DefaultFunction, "IndexFunction's name or ARN (for -repair)")
	repair := fs.Bool("repair", false, "re-index the objects that differ, then verify them again")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "veil verify: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "veil verify: aws config:", err)
		return exitUsage
	}
	store := indexstore.New(dynamodb.NewFromConfig(awsCfg), *table)
	rep := verifyReport{Bucket: *bucket, Prefix: *prefix, Objects: []verifiedObject{}}
	err = store.Verify(ctx, *bucket, *prefix, func(f indexstore.Finding) error {
		rep.Checked++
		switch f.Verdict {
		case indexstore.VerdictOK:
			rep.OK++
		case indexstore.VerdictInProgress:
			rep.InProgress++
		default:
			rep.Differing++
			rep.Objects = append(rep.Objects, verifiedObject{Finding: f})
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(stderr, "veil verify:", err)
		return exitUsage
	}
	sort.Slice(rep.Objects, func(i, j int) bool {
		a, b := rep.Objects[i], rep.Objects[j]
		return a.Bucket < b.Bucket || a.Bucket == b.Bucket && a.Key < b.Key
	})
	if *repair {
		err = repairObjects(ctx, store, lambda.NewFromConfig(awsCfg), *function, &rep)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printVerify(stdout, rep)
	}
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "veil verify:", err)
		return exitUsage
	case rep.stillDiffering() > 0:
		return exitFailed
	}
	return exitOK
}

// Rechecking a repaired object: ByObject is eventually consistent, so a
// repair that worked may take a moment to show.
const (
	recheckAttempts = 3
	recheckWait     = time.Second
)

// repairObjects re-indexes rep's differing objects through IndexFunction,
// one forced backfill per bucket, then verifies each again. It returns an
// error when a backfill cannot go on (see backfill.Run) or an object
// cannot be read back; rep holds what was done until then.
func repairObjects(ctx context.Context, store *indexstore.Store, fn backfill.Invoker, function string, rep *verifyReport) error {
	rep.Repaired = true
	if len(rep.Objects) == 0 {
		return nil
	}
	byBucket := map[string][]string{}
	var buckets []string
	for _, o := range rep.Objects {
		if byBucket[o.Bucket] == nil {
			buckets = append(buckets, o.Bucket)
		}
		byBucket[o.Bucket] = append(byBucket[o.Bucket], o.Key)
	}
	failures := map[[2]string]string{}
	for _, b := range buckets {
		sum, err := backfill.Run(ctx, keyList(byBucket[b]), fn, backfill.Options{Bucket: b, Function: function, Force: true})
		for _, f := range sum.Failed {
			failures[[2]string{b, f.Key}] = f.Reason
		}
		if err != nil {
			return fmt.Errorf("repair s3://%s: %w", b, err)
		}
	}
	for i := range rep.Objects {
		o := &rep.Objects[i]
		o.RepairError = failures[[2]string{o.Bucket, o.Key}]
		after, err := recheck(ctx, store, o.Bucket, o.Key)
		if err != nil {
			return fmt.Errorf("repair s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
		o.After = &after
		if o.fixed() {
			rep.Fixed++
		}
	}
	return nil
}

// recheck verifies a repaired object, again while it still differs, up
// to recheckAttempts times.
func recheck(ctx context.Context, store *indexstore.Store, bucket, key string) (indexstore.Finding, error) {
	wait := recheckWait
	for attempt := 1; ; attempt++ {
		f, err := store.VerifyObject(ctx, bucket, key)
		if err != nil || f.Verdict != indexstore.VerdictDiffers || attempt == recheckAttempts {
			return f, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return f, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// keyList is a backfill.Lister of keys already known, listed as one page:
// the objects to repair go through backfill.Run, so they are re-indexed by
// the same invocations, retries and per-key reports as `veil backfill
// -force`, without listing the bucket.
type keyList []string

var _ backfill.Lister = keyList(nil)

func (l keyList) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out := &s3.ListObjectsV2Output{Contents: make([]s3types.Object, len(l)), IsTruncated: aws.Bool(false)}
	for i, k := range l {
		out.Contents[i] = s3types.Object{Key: aws.String(k)}
	}
	return out, nil
}

// printVerify writes one aligned line per differing object (with what
// repairing it did) and a summary line.
func printVerify(w io.Writer, r verifyReport) {
	where := fmt.Sprintf("s3://%s/%s", r.Bucket, r.Prefix)
	if r.Bucket == "" {
		where = fmt.Sprintf("every bucket, prefix %q", r.Prefix)
	}
	if len(r.Objects) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "STATUS\tOBJECT\tANSWERING\tWANT\tGOT"
		if r.Repaired {
			head += "\tREPAIR"
		}
		fmt.Fprintln(tw, head)
		for _, o := range r.Objects {
			line := fmt.Sprintf("%s\ts3://%s/%s\t%s\t%d\t%s", o.Status, o.Bucket, o.Key, answering(o.Finding), o.Want, counts(o.Finding))
			if r.Repaired {
				line += "\t" + repairOutcome(o)
			}
			fmt.Fprintln(tw, line)
		}
		_ = tw.Flush()
	}
	differing := strconv.Itoa(r.Differing) + " differing"
	if r.Repaired && r.Differing > 0 {
		differing += fmt.Sprintf(" (%d fixed, %d still differing)", r.Fixed, r.stillDiffering())
	}
	fmt.Fprintf(w, "verify %s: %d objects checked, %d ok, %s, %d in progress\n", where, r.Checked, r.OK, differing, r.InProgress)
}

// answering names the version a finding answers from: "-" for none, and
// S3's "null" for an unversioned object's.
func answering(f indexstore.Finding) string {
	if !f.Answers {
		return "-"
	}
	return versionName(f.Answering)
}

func versionName(v string) string {
	if v == "" {
		return "null"
	}
	return v
}

// counts writes a finding's entries by version as count@version (an
// object's key@version elsewhere), the answering version first, then the
// others by ID; "0" for none.
func counts(f indexstore.Finding) string {
	versions := make([]string, 0, len(f.Got))
	for v := range f.Got {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool {
		ai, aj := f.Answers && versions[i] == f.Answering, f.Answers && versions[j] == f.Answering
		if ai != aj {
			return ai
		}
		return versions[i] < versions[j]
	})
	if len(versions) == 0 {
		return "0"
	}
	parts := make([]string, len(versions))
	for i, v := range versions {
		parts[i] = fmt.Sprintf("%d@%s", f.Got[v], versionName(v))
	}
	return strings.Join(parts, " ")
}

func repairOutcome(o verifiedObject) string {
	var out string
	switch {
	case o.After == nil:
		out = "not repaired"
	case o.After.Verdict == indexstore.VerdictInProgress:
		out = "in progress (a change claimed it meanwhile)"
	case o.fixed():
		out = "fixed"
	default:
		out = fmt.Sprintf("still differs: want %d, got %s", o.After.Want, counts(*o.After))
	}
	if o.RepairError != "" {
		out += "; " + oneLine(o.RepairError)
	}
	return out
}
