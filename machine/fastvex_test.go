package machine

import (
	"math/rand"
	"testing"
)

// randVecBytes fills b with bytes that often repeat and sit on the edges
// of the byte compares (0, 0x7f, 0x80, 0xff), so pcmpeqb, pminub and
// vptest see equal, smaller and larger bytes, whole-zero and all-ones
// words.
func randVecBytes(rng *rand.Rand, b []byte) {
	alpha := []byte{0, 'a', 'b', 0x7f, 0x80, 0xff}
	mode := rng.Intn(4)
	for i := range b {
		switch mode {
		case 0:
			b[i] = byte(rng.Intn(256))
		case 1:
			b[i] = 0
			if rng.Intn(16) == 0 {
				b[i] = alpha[rng.Intn(len(alpha))]
			}
		default:
			b[i] = alpha[rng.Intn(len(alpha))]
		}
	}
}

// TestVEXFastMatchesGeneral compares the kVEX fast paths (fastvex.go)
// with execVEX on random vector registers and memory: the lane operations
// in 128 and 256 bits from registers and memory, the moves (aligned ones
// on misaligned addresses too, and a RIP-relative one), vpmovmskb,
// vptest, vpbroadcastb, vmovd/vmovq and vzeroupper/vzeroall.
func TestVEXFastMatchesGeneral(t *testing.T) {
	forms := []fastForm{
		{"c5f9efc0", kVEX}, {"c5edefcb", kVEX}, {"c5e9ef0b", kVEX}, {"c5edef0b", kVEX}, {"c4c16def cb", kVEX},
		{"c5edebcb", kVEX}, {"c5e9eb0b", kVEX}, {"c5eddbcb", kVEX}, {"c5eddfcb", kVEX}, {"c5e9df0b", kVEX},
		{"c5ec57cb", kVEX}, {"c5ed57cb", kVEX}, {"c5ec56cb", kVEX}, {"c5ec54cb", kVEX}, {"c5ec55cb", kVEX},
		{"c5ed74cb", kVEX}, {"c5ed740b", kVEX}, {"c5e974cb", kVEX}, {"c5e9740b", kVEX}, {"c5ed76cb", kVEX},
		{"c5eddacb", kVEX}, {"c5edda0b", kVEX}, {"c5e9dacb", kVEX}, {"c5eddecb", kVEX}, {"c5e9de0b", kVEX},
		{"c5edfecb", kVEX}, {"c5edfacb", kVEX}, {"c5edd4cb", kVEX}, {"c5edfbcb", kVEX}, {"c5e9fe0b", kVEX},
		{"c5fe6f0b", kVEX}, {"c5fe7f0b", kVEX}, {"c5fa6f0b", kVEX}, {"c5fa7f0b", kVEX}, {"c5fe6fca", kVEX},
		{"c5fa6fca", kVEX}, {"c5fd6f0b", kVEX}, {"c5fd7f0b", kVEX}, {"c5f96f0b", kVEX}, {"c5f97f0b", kVEX},
		{"c5fc100b", kVEX}, {"c5fc110b", kVEX}, {"c5f8290b", kVEX}, {"c5fc280b", kVEX}, {"c5fdd70b", kSlow},
		{"c5fe6f0df8002000", kVEX}, {"c5ff f00b", kVEX}, {"c4e27d2a0b", kVEX}, {"c5fde70b", kVEX},
		{"c5fdd7c1", kVEX}, {"c5f9d7c1", kVEX}, {"c4c17dd7c7", kVEX},
		{"c5f877", kVEX}, {"c5fc77", kVEX},
		{"c4e27d17ca", kVEX}, {"c4e27917ca", kVEX}, {"c4e27d170b", kVEX}, {"c4e279170b", kVEX},
		{"c4e27d78ca", kVEX}, {"c4e27978ca", kVEX}, {"c4e2797803", kSlow},
		{"c5f96ec8", kVEX}, {"c4e1f96ec8", kVEX}, {"c4c1796ecf", kVEX},
	}
	var keep []fastForm
	for _, f := range forms {
		if f.kind == kVEX { // the others only check that they stay off the fast path
			keep = append(keep, f)
		}
	}
	for _, f := range forms {
		if f.kind != kVEX {
			c := newTestCPU(t, unhex(t, f.code))
			if in, ok := c.fetch(testCode); ok && in.kind == kVEX {
				t.Errorf("%s: kVEX, want the general path", f.code)
			}
		}
	}
	matchGeneral(t, keep, 6, 300, func(rng *rand.Rand, c *CPU) {
		for i := range c.xmm {
			var b [32]byte
			randVecBytes(rng, b[:])
			c.xmm[i] = vecOf([16]byte(b[:16]))
			c.avx.ymmh[i] = vecOf([16]byte(b[16:]))
		}
		var m [0x1000]byte
		randVecBytes(rng, m[:])
		c.Mem.Write(testData, m[:])
		if rng.Intn(2) == 0 {
			c.Regs[RBX] &^= 31 // aligned for vmovdqa
		}
	})
}
