package identifiers

import (
	"errors"
	"flag"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

var fullSweep = flag.Bool("full-sweep", false, "compare the NANPA table with libphonenumber on every area code and exchange")

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		raw    string
		region string
		want   string
		err    error // errors.Is target; nil means success
	}{
		{"2125551234", "", "+12125551234", nil},
		{"(212) 555-1234", "", "+12125551234", nil},
		{"(212)555-1234", "", "+12125551234", nil},
		{"212-555-1234", "", "+12125551234", nil},
		{"212.555.1234", "", "+12125551234", nil},
		{"212 555 1234", "", "+12125551234", nil},
		{"+1 212 555 1234", "", "+12125551234", nil},
		{"+12125551234", "", "+12125551234", nil},
		{"+1 (212) 555-1234", "", "+12125551234", nil},
		{"+1(212)555-1234", "", "+12125551234", nil},
		{"1-212-555-1234", "", "+12125551234", nil},
		{"12125551234", "", "+12125551234", nil},
		{"1 (212) 555-1234", "", "+12125551234", nil},
		{"  212-555-1234\t", "", "+12125551234", nil},
		{"212-555-1234 ext. 55", "", "+12125551234", nil},
		{"212 555 1234 x55", "", "+12125551234", nil},
		{"tel:+1-212-555-1234", "", "+12125551234", nil},
		{"(416) 555-0199", "", "+14165550199", nil}, // Canada, US default region
		{"1-800-FLOWERS", "", "+18003569377", nil},
		{"+44 20 7946 0958", "", "+442079460958", nil},
		{"+44 20 7946 0958\t", "", "+442079460958", nil},   // the library alone rejects the tab
		{"+1 212-555-1234 x5 ", "GB", "+12125551234", nil}, // and the space after an extension
		{"\n", "", "", ErrEmpty},
		{"020 7946 0958", "GB", "+442079460958", nil},
		{"+49 30 901820", "US", "+4930901820", nil},
		{"(416) 555-0199", "CA", "+14165550199", nil},
		{"212-555-1234", "gb", "", ErrInvalid}, // lower-case region accepted; not a GB number
		{"", "", "", ErrEmpty},
		{"   ", "", "", ErrEmpty},
		{"555-1234", "", "", ErrInvalid},       // no area code
		{"(112) 555-1234", "", "", ErrInvalid}, // area code starts with 1
		{"(012) 555-1234", "", "", ErrInvalid}, // area code starts with 0
		{"(212) 155-1234", "", "", ErrInvalid}, // exchange starts with 1
		{"(999) 555-1234", "", "", ErrInvalid}, // unassigned area code
		{"123", "", "", ErrInvalid},
		{"not a phone", "", "", ErrInvalid},
		{"2125551234", "XX", "", ErrUnknownRegion},
		{"212555123", "", "", ErrInvalid},    // nine digits
		{"212555123456", "", "", ErrInvalid}, // twelve digits
		{"+1 212 555 12345", "", "", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.raw+"/"+tc.region, func(t *testing.T) {
			got, err := NormalizePhone(tc.raw, tc.region)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("NormalizePhone(%q, %q) = %q, %v; want error %v", tc.raw, tc.region, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
			}
		})
	}
}

func TestFastNANPSpellings(t *testing.T) {
	tests := []struct {
		raw  string
		want fastResult
	}{
		{"2125551234", fastOK},
		{"(212) 555-1234", fastOK},
		{"212-555-1234", fastOK},
		{"212.555.1234", fastOK},
		{"+1 212 555 1234", fastOK},
		{"1-212-555-1234", fastOK},
		{"+1(212)555-1234", fastOK},
		{"", fastEmpty},
		{" \t", fastEmpty},
		{"212--555-1234", fastDecline},
		{"212-555-1234 x5", fastOK},
		{"212-555-1234 ext. 5", fastOK},
		{"212-555-1234, Extension 5", fastOK},
		{"2125551234#5", fastOK},
		{"212-555-1234 x", fastDecline},           // no extension digits
		{"212-555-1234 ext", fastDecline},         // the library reads the letters as digits
		{"212-555-1234 x1234567890", fastDecline}, // more extension digits than the fast path takes
		{"212-555-1234;ext=5", fastDecline},       // RFC 3966: the library's
		{"212-555-1234 xt 5", fastDecline},
		{"212-555-1234-x5", fastDecline},
		{"x5", fastDecline},
		{"#5", fastDecline},
		{"(21) 2555-1234", fastDecline},
		{"212(555)1234", fastDecline},
		{"+44 20 7946 0958", fastDecline},
		{"0212 555 1234", fastDecline},
		{"1125551234", fastDecline},
		{"+", fastDecline},
		{"()", fastDecline},
	}
	for _, tc := range tests {
		var nsn [nsnDigits]byte
		if got := fastNANP(tc.raw, &nsn); got != tc.want {
			t.Errorf("fastNANP(%q) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}

// TestNANPAMatchesLibphonenumber compares the NANPA table with
// IsValidNumber on every area code and exchange, with a random line number
// each: a sample of the whole number space that visits every prefix the
// metadata distinguishes by its first six digits.
func TestNANPAMatchesLibphonenumber(t *testing.T) {
	tbl, err := loadNANPA()
	if err != nil {
		t.Fatalf("loadNANPA error = %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	step := 11 // every prefix with -full-sweep (~15 s)
	if *fullSweep {
		step = 1
	}
	cc := int32(1)
	for prefix := 200_000; prefix < 1_000_000; prefix += step {
		nn := uint64(prefix)*10_000 + uint64(rng.IntN(10_000))
		num := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn}
		want := phonenumbers.IsValidNumber(num)
		if got := tbl.Valid([]byte(strconv.FormatUint(nn, 10))); got != want {
			t.Fatalf("table says +1%d valid = %v, want %v", nn, got, want)
		}
	}
}

// FuzzPhoneFastPathMatchesLibphonenumber proves the fast path equal to
// libphonenumber: wherever it answers, the answer (validity included) is
// the library's on the trimmed value, extensions included.
func FuzzPhoneFastPathMatchesLibphonenumber(f *testing.F) {
	for _, s := range []string{
		"2125551234", "(212) 555-1234", "212-555-1234", "212.555.1234", "+1 212 555 1234",
		"1-212-555-1234", "+1(212)555-1234", "12125551234", "(999) 555-1234", "(212) 155-1234",
		"(800) 555-0100", "900-555-0100", "876-555-1234", "(340) 555-1234", "787.555.1234",
		"5235551234", "684 555 1234", "  212 555 1234 ", "2125551234.", "(212)-555-1234",
		"+1 416 555 0199", "1 (268) 555-1234", "+12423570000", "2 1 2 5 5 5 1 2 3 4", "",
		"415-555-0168 x123", "415-555-0168 ext. 123", "415-555-0168 ext 123", "415-555-0168 extension 123",
		"415-555-0168 #123", "(415) 555-0168 X 123", "4155550168x123456789", "415-555-0168, ext: 12",
		"415-555-0168 ,, x 1", "(999) 555-1234 x5", "415-555-0168 EXTN 5", "x5", "1 x5", "#123",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	us, err := NewPhoneNormalizer("US")
	if err != nil {
		f.Fatalf("NewPhoneNormalizer error = %v", err)
	}
	ca, err := NewPhoneNormalizer("CA")
	if err != nil {
		f.Fatalf("NewPhoneNormalizer error = %v", err)
	}
	f.Fuzz(func(t *testing.T, raw string, canada bool) {
		p := us
		if canada {
			p = ca
		}
		var nsn [nsnDigits]byte
		res := fastNANP(raw, &nsn)
		if res == fastDecline {
			return
		}
		got, gotErr := p.Normalize(raw)
		// Append gives the library the value trimmed.
		want, wantErr := libE164(strings.TrimSpace(raw), p.Region())
		if (gotErr == nil) != (wantErr == nil) || got != want {
			t.Fatalf("fast path %q (%s) = %q, %v; libphonenumber = %q, %v", raw, p.Region(), got, gotErr, want, wantErr)
		}
	})
}

// TestPhoneExtensions checks that an extension is left out of the E.164
// form, the same on the fast path and in libphonenumber, and through every
// entry point.
func TestPhoneExtensions(t *testing.T) {
	const want = "+14155550168"
	n, err := NewNormalizer("")
	if err != nil {
		t.Fatalf("NewNormalizer error = %v", err)
	}
	ca, err := NewPhoneNormalizer("CA")
	if err != nil {
		t.Fatalf("NewPhoneNormalizer error = %v", err)
	}
	tests := []struct {
		raw  string
		fast bool // the fast path answers
	}{
		{"415-555-0168 x123", true},
		{"415-555-0168 ext. 123", true},
		{"415-555-0168 ext 123", true},
		{"415-555-0168 extension 123", true},
		{"415-555-0168 #123", true},
		{"(415) 555-0168 X 123", true},
		{"415-555-0168x123", true},
		{"415-555-0168 EXT.123", true},
		{"415-555-0168 Ext: 123", true},
		{"415-555-0168, ext. 123", true},
		{"+1 415 555 0168 x 123", true},
		{"1-415-555-0168 extn 1", true},
		{" 4155550168 x123456789\t", true},
		{"415-555-0168;ext=123", false},
		{"tel:+1-415-555-0168;ext=123", false},
		{"415-555-0168 xt 123", false},
		{"415-555-0168 ext. 12345678901", false},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			var nsn [nsnDigits]byte
			res := fastNANP(tc.raw, &nsn)
			if tc.fast && (res != fastOK || "+1"+string(nsn[:]) != want) {
				t.Fatalf("fastNANP(%q) = %d, %q; want %d, %q", tc.raw, res, nsn[:], fastOK, want[2:])
			}
			if !tc.fast && res != fastDecline {
				t.Fatalf("fastNANP(%q) = %d, want %d", tc.raw, res, fastDecline)
			}
			if got, err := libE164(strings.TrimSpace(tc.raw), "US"); err != nil || got != want {
				t.Fatalf("libE164(%q, US) = %q, %v; want %q", tc.raw, got, err, want)
			}
			if got, err := NormalizePhone(tc.raw, ""); err != nil || got != want {
				t.Fatalf("NormalizePhone(%q) = %q, %v; want %q", tc.raw, got, err, want)
			}
			if got, err := n.Normalize(Phone, tc.raw); err != nil || got != want {
				t.Fatalf("Normalize(Phone, %q) = %q, %v; want %q", tc.raw, got, err, want)
			}
			if got, err := ca.Normalize(tc.raw); err != nil || got != want {
				t.Fatalf("Normalize(%q) (CA) = %q, %v; want %q", tc.raw, got, err, want)
			}
		})
	}
	// Without the fast path (another default region) the library strips it.
	if got, err := NormalizePhone("+1 415-555-0168 ext. 123", "GB"); err != nil || got != want {
		t.Fatalf("NormalizePhone(+1 … ext. 123, GB) = %q, %v; want %q", got, err, want)
	}
}

// TestFastNANPExtensionsMatchLibphonenumber compares the fast path with
// libphonenumber on every combination of a small grammar of extension
// spellings, the ones it takes and the ones near them it must decline.
func TestFastNANPExtensionsMatchLibphonenumber(t *testing.T) {
	p, err := NewPhoneNormalizer("US")
	if err != nil {
		t.Fatalf("NewPhoneNormalizer error = %v", err)
	}
	fast := 0
	for _, number := range []string{"4155550168", "(415) 555-0168", "415-555-0168", "415.555.0168", "+1 415 555 0168", "1-415-555-0168", "(999) 555-0168"} {
		for _, before := range []string{"", " ", ",", ", ", " ,", ",,", "  ", "-", ";"} {
			for _, label := range []string{"x", "X", "ext", "Ext", "EXT", "extn", "extension", "Extension", "#", "xt", "e", ""} {
				for _, after := range []string{"", ".", ":", ". ", " ", "  ", "=", "-"} {
					for _, digits := range []string{"1", "123", "123456789", "1234567890", ""} {
						raw := number + before + label + after + digits
						var nsn [nsnDigits]byte
						if fastNANP(raw, &nsn) == fastDecline {
							continue
						}
						fast++
						got, gotErr := p.Normalize(raw)
						want, wantErr := libE164(raw, "US")
						if (gotErr == nil) != (wantErr == nil) || got != want {
							t.Errorf("fast path %q = %q, %v; libphonenumber = %q, %v", raw, got, gotErr, want, wantErr)
						}
					}
				}
			}
		}
	}
	if fast < 1000 {
		t.Fatalf("the fast path took %d spellings, want at least 1000", fast)
	}
}

func BenchmarkNormalizePhone(b *testing.B) {
	p, err := NewPhoneNormalizer("US")
	if err != nil {
		b.Fatal(err)
	}
	for _, raw := range []string{"(212) 555-1234", "(212) 555-1234 x55", "+44 20 7946 0958"} {
		b.Run(raw, func(b *testing.B) {
			var buf []byte
			for b.Loop() {
				buf, _ = p.Append(buf[:0], raw)
			}
		})
	}
}
