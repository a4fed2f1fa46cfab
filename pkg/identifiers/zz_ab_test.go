package identifiers

import "testing"

func BenchmarkZZAB(b *testing.B) {
	k, _ := NewKeyer(testSecret)
	plain := &Keyer{mac: k.mac}
	in := []byte("phone:+12125551234")
	for i := 0; i < 3; i++ {
		b.Run("hmac", func(b *testing.B) {
			for b.Loop() {
				plain.sum(in)
			}
		})
		b.Run("block", func(b *testing.B) {
			for b.Loop() {
				k.sum(in)
			}
		})
	}
}
