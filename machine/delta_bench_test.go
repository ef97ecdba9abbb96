package machine

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkCollectDelta measures Memory.CollectDeltaPiecesMax over 256
// changed pages with the recorder's gap (16): pages rewritten with random
// bytes (every byte changes, except one in 256 by chance), pages with one
// changed word per 64-byte line, and pages with one changed byte.
func BenchmarkCollectDelta(b *testing.B) {
	const pages = 256
	fills := []struct {
		name string
		fill func(r *rand.Rand, p []byte)
	}{
		{"random", func(r *rand.Rand, p []byte) {
			for i := range p {
				p[i] = byte(r.Uint32())
			}
		}},
		{"word-per-line", func(r *rand.Rand, p []byte) {
			for i := 0; i < len(p); i += 64 {
				p[i] ^= byte(r.Uint32() | 1)
			}
		}},
		{"one-byte", func(r *rand.Rand, p []byte) { p[r.IntN(len(p))] ^= 0x5a }},
	}
	for _, f := range fills {
		b.Run(f.name, func(b *testing.B) {
			m := NewMemory()
			m.Map(0x100000, pages*PageSize, ProtRead|ProtWrite)
			r := rand.New(rand.NewPCG(1, 2))
			buf := make([]byte, PageSize)
			var n int
			b.SetBytes(pages * PageSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for pg := uint64(0); pg < pages; pg++ {
					a := 0x100000 + pg*PageSize
					if err := m.Read(a, buf); err != nil {
						b.Fatal(err)
					}
					f.fill(r, buf)
					if err := m.Write(a, buf); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				m.CollectDeltaPiecesMax(16, 0, func(_ uint64, d []byte, _ bool) { n += len(d) })
			}
			if n == 0 {
				b.Fatal("no changed bytes collected")
			}
		})
	}
}
