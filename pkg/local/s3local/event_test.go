// EventJSON must produce what S3 puts on the queue, in the shape the index
// function decodes with aws-lambda-go's events.S3Event.
package s3local

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

func TestEncodeKey(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{name: "plain", key: "lists/2024/leads.csv", want: "lists/2024/leads.csv"},
		{name: "space becomes plus", key: "my leads.csv", want: "my+leads.csv"},
		{name: "plus is escaped", key: "a+b.csv", want: "a%2Bb.csv"},
		{name: "slash kept", key: "a/b c/d", want: "a/b+c/d"},
		{name: "unicode as UTF-8 bytes", key: "über/é.csv", want: "%C3%BCber/%C3%A9.csv"},
		{name: "percent", key: "50%.csv", want: "50%25.csv"},
		{name: "reserved characters", key: "a=b&c?d#e", want: "a%3Db%26c%3Fd%23e"},
		{name: "unreserved characters kept", key: "a-b_c.d~e", want: "a-b_c.d~e"},
		{name: "empty", key: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodeKey(tc.key); got != tc.want {
				t.Fatalf("EncodeKey(%q) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}

func ExampleEncodeKey() {
	fmt.Println(EncodeKey("lead lists/Zoë+co.csv"))
	// Output: lead+lists/Zo%C3%AB%2Bco.csv
}

func TestEventJSONRoundTrip(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)
	tests := []struct {
		name string
		n    Notification
	}{
		{name: "put", n: Notification{EventName: "ObjectCreated:Put", Bucket: "veil-leads-000000000000", Key: "lists/q2 leads+extra/ü.csv",
			Size: 1234, ETag: "0cc175b9c0f1b6a831c399e269772661", VersionID: "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", Sequencer: "0017D2C5A4B1E9F000", Time: at}},
		{name: "delete marker", n: Notification{EventName: "ObjectRemoved:DeleteMarkerCreated", Bucket: "b", Key: "k",
			VersionID: "v2", Sequencer: "0017D2C5A4B1E9F001", Time: at}},
		{name: "unversioned delete", n: Notification{EventName: "ObjectRemoved:Delete", Bucket: "b", Key: "a b", Sequencer: "01", Time: at}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := EventJSON(tc.n, "us-east-1")
			if err != nil {
				t.Fatalf("EventJSON error = %v", err)
			}
			var ev events.S3Event
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatalf("events.S3Event unmarshal error = %v", err)
			}
			if len(ev.Records) != 1 {
				t.Fatalf("records = %d, want 1", len(ev.Records))
			}
			r := ev.Records[0]
			checks := []struct{ field, got, want string }{
				{"eventVersion", r.EventVersion, "2.1"},
				{"eventSource", r.EventSource, "aws:s3"},
				{"awsRegion", r.AWSRegion, "us-east-1"},
				{"eventName", r.EventName, tc.n.EventName},
				{"eventTime", r.EventTime.Format(time.RFC3339Nano), tc.n.Time.Format(time.RFC3339Nano)},
				{"s3.schemaVersion", r.S3.SchemaVersion, "1.0"},
				{"s3.bucket.name", r.S3.Bucket.Name, tc.n.Bucket},
				{"s3.bucket.arn", r.S3.Bucket.Arn, "arn:aws:s3:::" + tc.n.Bucket},
				{"s3.object.key", r.S3.Object.Key, EncodeKey(tc.n.Key)},
				{"s3.object.urlDecodedKey", r.S3.Object.URLDecodedKey, tc.n.Key},
				{"s3.object.eTag", r.S3.Object.ETag, tc.n.ETag},
				{"s3.object.versionId", r.S3.Object.VersionID, tc.n.VersionID},
				{"s3.object.sequencer", r.S3.Object.Sequencer, tc.n.Sequencer},
				{"s3.object.size", fmt.Sprint(r.S3.Object.Size), fmt.Sprint(tc.n.Size)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			// The wire format uses S3's field names, not Go's.
			var raw map[string][]map[string]any
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatalf("unmarshal error = %v", err)
			}
			obj := raw["Records"][0]["s3"].(map[string]any)["object"].(map[string]any)
			if got := obj["key"]; got != EncodeKey(tc.n.Key) {
				t.Fatalf(`raw "s3.object.key" = %v, want %q`, got, EncodeKey(tc.n.Key))
			}
		})
	}
}

func FuzzEncodeKey(f *testing.F) {
	for _, s := range []string{"", "a b", "a+b", "dir/ü.csv", "%2F", "a//b", "~!*'()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		enc := EncodeKey(key)
		if strings.ContainsAny(enc, " \n") {
			t.Fatalf("EncodeKey(%q) = %q, has a raw space or newline", key, enc)
		}
		if strings.Count(enc, "/") != strings.Count(key, "/") {
			t.Fatalf("EncodeKey(%q) = %q, want every '/' kept as is", key, enc)
		}
		dec, err := url.QueryUnescape(enc)
		if err != nil {
			t.Fatalf("QueryUnescape(EncodeKey(%q) = %q) error = %v", key, enc, err)
		}
		if dec != key {
			t.Fatalf("QueryUnescape(EncodeKey(%q)) = %q, want the key back", key, dec)
		}
	})
}

func FuzzEventJSON(f *testing.F) {
	f.Add("ObjectCreated:Put", "leads", "a b/c+d.csv", "v1", int64(3))
	f.Add("ObjectRemoved:DeleteMarkerCreated", "b", "ü", "", int64(0))
	f.Fuzz(func(t *testing.T, name, bucket, key, version string, size int64) {
		for _, s := range []string{name, bucket, key, version} {
			if !utf8.ValidString(s) {
				// S3 keys and names are UTF-8; JSON cannot carry other bytes unchanged.
				return
			}
		}
		n := Notification{EventName: name, Bucket: bucket, Key: key, VersionID: version, Size: size, Sequencer: "01", Time: time.Unix(0, 0).UTC()}
		body, err := EventJSON(n, "us-east-1")
		if err != nil {
			t.Fatalf("EventJSON error = %v", err)
		}
		var ev events.S3Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatalf("events.S3Event unmarshal of %s error = %v", body, err)
		}
		r := ev.Records[0]
		if r.EventName != name || r.S3.Bucket.Name != bucket || r.S3.Object.VersionID != version || r.S3.Object.Size != size {
			t.Fatalf("round trip = %+v, want %+v", r, n)
		}
		if r.S3.Object.URLDecodedKey != key {
			t.Fatalf("urlDecodedKey = %q, want %q", r.S3.Object.URLDecodedKey, key)
		}
	})
}
