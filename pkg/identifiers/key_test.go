package identifiers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestKey(t *testing.T) {
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte("phone:+12125551234"))
	want := hex.EncodeToString(mac.Sum(nil))
	if got := Key(testSecret, Phone, "+12125551234"); got != want {
		t.Fatalf("Key = %s, want %s", got, want)
	}
	k, err := NewKeyer(testSecret)
	if err != nil {
		t.Fatalf("NewKeyer error = %v", err)
	}
	for range 2 { // reused state gives the same key
		if got := k.Key(Phone, "+12125551234"); got != want {
			t.Fatalf("Keyer.Key = %s, want %s", got, want)
		}
	}
	if got := k.Hash(Phone, []byte("+12125551234")).String(); got != want {
		t.Fatalf("Keyer.Hash = %s, want %s", got, want)
	}
}

func TestKeySeparatesKinds(t *testing.T) {
	k, err := NewKeyer(testSecret)
	if err != nil {
		t.Fatalf("NewKeyer error = %v", err)
	}
	seen := map[string]Kind{}
	for _, kind := range []Kind{Phone, Email, CustomerID, AccountNumber} {
		key := k.Key(kind, "12345")
		if other, dup := seen[key]; dup {
			t.Fatalf("Key(%v, v) = Key(%v, v)", kind, other)
		}
		seen[key] = kind
		if strings.Contains(key, "12345") {
			t.Fatalf("key %s holds the value", key)
		}
	}
	if Key(testSecret, Email, "a@b.co") == Key([]byte("another secret 0123456789"), Email, "a@b.co") {
		t.Fatalf("keys with different secrets are equal")
	}
}

func TestNewKeyerShortSecret(t *testing.T) {
	if _, err := NewKeyer([]byte("short")); !errors.Is(err, ErrShortSecret) {
		t.Fatalf("NewKeyer(short) error = %v, want ErrShortSecret", err)
	}
}

func TestHashPrefix(t *testing.T) {
	key := Key(testSecret, Phone, "+12125551234")
	if got := HashPrefix(key); got != key[:HashPrefixLen] {
		t.Fatalf("HashPrefix = %q, want %q", got, key[:HashPrefixLen])
	}
	if got := HashPrefix("abc"); got != "abc" {
		t.Fatalf("HashPrefix(abc) = %q, want abc", got)
	}
}

func TestKindText(t *testing.T) {
	for _, k := range Kinds() {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText error = %v", k, err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Fatalf("UnmarshalText(%s) = %v, %v; want %v", b, back, err, k)
		}
	}
	if _, err := ParseKind("telephone"); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("ParseKind(telephone) error = %v, want ErrUnknownKind", err)
	}
	if _, err := Kind(200).MarshalText(); err == nil {
		t.Fatalf("Kind(200).MarshalText error = nil, want an error")
	}
}

func TestIndexerAppend(t *testing.T) {
	header := []string{"name", "phone", "alt phone", "email", "cust id", "acct", "city"}
	schema, err := Classify(header, nil, ClassifyOptions{})
	if err != nil {
		t.Fatalf("Classify error = %v", err)
	}
	ix, err := NewIndexer(testSecret, schema, "")
	if err != nil {
		t.Fatalf("NewIndexer error = %v", err)
	}
	records := [][]string{
		{"Ann", "(212) 555-1234", "212.555.1234", "Ann@Example.com", "C-1", "0042", "NYC"},
		{"Bob", "(999) 555-1234", "", "bob@", " ", "7"},
		{"Cy", "3125550000"}, // ragged
	}
	var got [][]Entry
	for _, r := range records {
		got = append(got, ix.Append(nil, r))
	}
	want := [][]Entry{
		{
			{Column: 1, Kind: Phone, Hash: mustHash(t, Phone, "+12125551234")}, // alt phone is the same number: one entry
			{Column: 3, Kind: Email, Hash: mustHash(t, Email, "ann@example.com")},
			{Column: 4, Kind: CustomerID, Hash: mustHash(t, CustomerID, "C1")},
			{Column: 5, Kind: AccountNumber, Hash: mustHash(t, AccountNumber, "0042")},
		},
		{{Column: 5, Kind: AccountNumber, Hash: mustHash(t, AccountNumber, "7")}},
		{{Column: 1, Kind: Phone, Hash: mustHash(t, Phone, "+13125550000")}},
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("record %d: %d entries, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("record %d entry %d = %+v, want %+v", i, j, got[i][j], want[i][j])
			}
		}
	}
	if got[0][0].Key() != Key(testSecret, Phone, "+12125551234") {
		t.Fatalf("Entry.Key differs from Key")
	}
	stats := ix.Stats()
	wantStats := []ColumnStats{
		{1, Phone, 2, 0, 1},
		{2, Phone, 1, 2, 0},
		{3, Email, 1, 1, 1},
		{4, CustomerID, 1, 2, 0},
		{5, AccountNumber, 2, 1, 0},
	}
	for i, w := range wantStats {
		if stats[i] != w {
			t.Errorf("Stats()[%d] = %+v, want %+v", i, stats[i], w)
		}
	}
}

func mustHash(t *testing.T, kind Kind, normalized string) Hash {
	t.Helper()
	b, err := hex.DecodeString(Key(testSecret, kind, normalized))
	if err != nil {
		t.Fatalf("hex.DecodeString error = %v", err)
	}
	return Hash(b)
}

func TestIndexerAllocations(t *testing.T) {
	schema, _ := Classify([]string{"phone", "email", "cust id", "acct"}, nil, ClassifyOptions{})
	ix, err := NewIndexer(testSecret, schema, "")
	if err != nil {
		t.Fatalf("NewIndexer error = %v", err)
	}
	rec := []string{"(212) 555-1234", "Ann@Example.com", "C-1", "0042"}
	dst := make([]Entry, 0, 8)
	ix.Append(dst, rec) // builds the NANPA table
	if n := testing.AllocsPerRun(100, func() { dst = ix.Append(dst[:0], rec) }); !raceBuild && n != 0 {
		t.Fatalf("Append allocates %v times per record, want 0", n)
	}
}

func BenchmarkIndexerAppend(b *testing.B) {
	schema, _ := Classify([]string{"phone", "email", "cust id", "acct"}, nil, ClassifyOptions{})
	ix, err := NewIndexer(testSecret, schema, "")
	if err != nil {
		b.Fatal(err)
	}
	rec := []string{"(212) 555-1234", "Ann@Example.com", "C-1", "0042"}
	dst := make([]Entry, 0, 8)
	for b.Loop() {
		dst = ix.Append(dst[:0], rec)
	}
}

// TestHashKeyIsHex: AppendKey and String write what encoding/hex writes,
// for every byte value in every position.
func TestHashKeyIsHex(t *testing.T) {
	var hashes []Hash
	for b := range 256 {
		var h Hash
		for i := range h {
			h[i] = byte(b + i*7)
		}
		hashes = append(hashes, h)
	}
	hashes = append(hashes, Hash{}, Hash{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	for _, h := range hashes {
		want := hex.EncodeToString(h[:])
		if got := h.String(); got != want {
			t.Fatalf("Hash.String = %s, want %s", got, want)
		}
		if got := string(h.AppendKey([]byte("prefix:"))); got != "prefix:"+want {
			t.Fatalf("Hash.AppendKey = %s, want prefix:%s", got, want)
		}
	}
}

func BenchmarkHashString(b *testing.B) {
	h := Hash{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98}
	var buf []byte
	for b.Loop() {
		buf = h.AppendKey(buf[:0])
	}
}

// TestKeyerMatchesHMAC: a Keyer's hash is crypto/hmac's for secrets
// shorter and longer than a SHA-256 block and inputs on both sides of the
// longest that fits one padded block, through the block path and without.
func TestKeyerMatchesHMAC(t *testing.T) {
	for _, secretLen := range []int{MinSecretBytes, 32, 63, 64, 65, 100} {
		secret := make([]byte, secretLen)
		for i := range secret {
			secret[i] = byte(i*13 + secretLen)
		}
		k, err := NewKeyer(secret)
		if err != nil {
			t.Fatalf("NewKeyer error = %v", err)
		}
		if k.block == nil {
			t.Fatalf("secret of %d bytes: no block path; crypto/sha256's state encoding may have changed", secretLen)
		}
		plain := &Keyer{mac: k.mac}
		for n := 0; n <= 2*maxBlockInput; n++ {
			in := make([]byte, n)
			for i := range in {
				in[i] = byte(i*7 + n)
			}
			mac := hmac.New(sha256.New, secret)
			mac.Write(in)
			var want Hash
			mac.Sum(want[:0])
			if got := k.sum(in); got != want {
				t.Fatalf("secret %d bytes, input %d bytes: Keyer hash = %x, want %x", secretLen, n, got, want)
			}
			if got := plain.sum(in); got != want {
				t.Fatalf("secret %d bytes, input %d bytes: crypto/hmac path = %x, want %x", secretLen, n, got, want)
			}
		}
	}
}

func FuzzKeyerMatchesHMAC(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), []byte("phone:+12125551234"))
	f.Add([]byte(strings.Repeat("k", 70)), []byte("email:"+strings.Repeat("a", 49)))
	f.Fuzz(func(t *testing.T, secret, in []byte) {
		k, err := NewKeyer(secret)
		if err != nil {
			return
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(in)
		var want Hash
		mac.Sum(want[:0])
		if got := k.sum(in); got != want {
			t.Fatalf("Keyer hash of %q = %x, want %x", in, got, want)
		}
	})
}

func BenchmarkKeyerHash(b *testing.B) {
	k, err := NewKeyer(testSecret)
	if err != nil {
		b.Fatal(err)
	}
	in := []byte("+12125551234")
	for b.Loop() {
		k.Hash(Phone, in)
	}
}
