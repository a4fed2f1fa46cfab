package benchmarks

import "testing"

func TestEncodingRatesIndexBothLists(t *testing.T) {
	u, w, err := EncodingRates(2000, 1)
	if err != nil {
		t.Fatalf("EncodingRates error = %v", err)
	}
	if u <= 0 || w <= 0 {
		t.Fatalf("rates = %v, %v; want both positive", u, w)
	}
}
