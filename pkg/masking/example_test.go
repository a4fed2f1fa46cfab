package masking_test

import (
	"fmt"

	"github.com/veil-privacy/veil/pkg/identifiers"
	"github.com/veil-privacy/veil/pkg/masking"
)

func ExampleMaskAlternate() {
	fmt.Println(masking.MaskAlternate("1223334444"))
	fmt.Println(masking.MaskAlternate("someone@example.com"))
	fmt.Println(masking.MaskAlternate(masking.MaskAlternate("someone@example.com")))
	// Output:
	// 12XX33XX44
	// soXXonXXexXXplXXcoX
	// soXXonXXexXXplXXcoX
}

func ExampleMasker_EditRow() {
	policy, err := masking.ParsePolicy("GDPR=hmac")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := masking.NewMasker(masking.Config{Strategy: policy.Strategy("CCPA")})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := m.EditRow(
		[]string{"Campaign", "Name", "Mobile"},
		[]string{"business", "full_name", "phone"},
		[]string{"Spring", "Zoë Ångström", "1223334444"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q %v\n", e.Fields, e.Changed)
	// Output: ["Spring" "ZoXXÅnXXtrXX" "12XX33XX44"] [1 2]
}

func ExampleMasker_Mask_hmac() {
	m, err := masking.NewMasker(masking.Config{Strategy: masking.HMAC, Key: []byte("an example key, not a real one")})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := m.Mask(identifiers.Phone, "(212) 555-0147")
	b := m.Mask(identifiers.Phone, "212-555-0147")
	fmt.Println(a == b, masking.IsToken(a), m.Mask(identifiers.Phone, a) == a)
	// Output: true true true
}

func ExampleNewCorrector() {
	cr, err := masking.NewCorrector(masking.Correction{Set: map[string]string{
		"email":     "new@example.com",
		"last_name": "Ortega-Ruiz",
	}}, "US")
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := cr.EditRow(
		[]string{"Email", "Last", "Notes"},
		[]string{"email", "last_name", "business"},
		[]string{"old@example.com", "Ortega", "VIP"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q %v\n", e.Fields, e.Changed)

	_, err = masking.NewCorrector(masking.Correction{Set: map[string]string{"phone": "555-CALL-ANN"}}, "US")
	fmt.Println(err)
	// Output:
	// ["new@example.com" "Ortega-Ruiz" "VIP"] [0 1]
	// set.phone: not a valid phone number
}

func ExamplePolicyFromEnv() {
	// A main passes os.Getenv.
	p, err := masking.PolicyFromEnv(func(string) string { return "GDPR=hmac,US-*=redact" })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Strategy("GDPR"), p.Strategy("US-TX"), p.Strategy("CCPA"), p.Strategy("PIPEDA"))
	// Output: hmac redact alternate redact
}
