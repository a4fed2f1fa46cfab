package indexstore

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/veil-privacy/veil/pkg/indexing"
)

// entryAttributes is built by hand for speed; it must store exactly what
// marshalling entryItem does, which is what every reader unmarshals.
func TestEntryAttributesAreEntryItem(t *testing.T) {
	for name, e := range map[string]indexing.Entry{
		"csv":         {Key: "k1", Kind: "phone", Bucket: "b", ObjectKey: "campaigns/a.csv", VersionID: "v1", Row: 7, Offset: 120, Length: 44},
		"sheet":       {Key: "k2", Kind: "email", Bucket: "b", ObjectKey: "campaigns/a.xlsx", VersionID: "v2", Sheet: "Leads", Row: 3},
		"placeholder": {Key: "k3", Kind: "email", Bucket: "b", ObjectKey: "a.csv", Row: 1, Placeholder: true, KeyID: "key-1"},
		"unversioned": {Key: "k4", Kind: "customer_id", Bucket: "b", ObjectKey: "a.csv", Row: 1 << 40, Offset: 1 << 41, Length: 9},
	} {
		sk := rowSK(e.Bucket, e.ObjectKey, e.VersionID, e.Sheet, e.Row)
		want, err := attributevalue.MarshalMap(entryItem{
			PK: entryPK(e), SK: sk, GSI1PK: objectRef(e.Bucket, e.ObjectKey), GSI1SK: sk[len(rowPrefix):],
			Kind: e.Kind, Bucket: e.Bucket, Key: e.ObjectKey, VersionID: e.VersionID, Sheet: e.Sheet, Row: e.Row, Offset: e.Offset, Length: e.Length,
			Placeholder: e.Placeholder, KeyID: e.KeyID,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := entryAttributes(e); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: entryAttributes = %#v, want %#v", name, got, want)
		}
	}
}
