package machine

import "testing"

// TestDecodeVEXUD checks the #UD rules of VEX encodings (SDM 2.3): a
// legacy 66/F2/F3, REX or LOCK prefix, VEX.vvvv not 1111b where unused,
// VEX.L or VEX.W the form does not allow, reserved maps, unimplemented
// opcodes; and that valid encodings decode with the right length.
func TestDecodeVEXUD(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		ok   bool
		n    int
	}{
		{"vpxor xmm0,xmm1,xmm2", []byte{0xc5, 0xf1, 0xef, 0xc2}, true, 4},
		{"vpxor ymm0,ymm1,ymm2 (3-byte)", []byte{0xc4, 0xe1, 0x75, 0xef, 0xc2}, true, 5},
		{"66 prefix", []byte{0x66, 0xc5, 0xf1, 0xef, 0xc2}, false, 0},
		{"f2 prefix", []byte{0xf2, 0xc5, 0xf1, 0xef, 0xc2}, false, 0},
		{"f3 prefix", []byte{0xf3, 0xc5, 0xf1, 0xef, 0xc2}, false, 0},
		{"lock prefix", []byte{0xf0, 0xc5, 0xf1, 0xef, 0xc2}, false, 0},
		{"fs prefix ok", []byte{0x64, 0xc5, 0xf9, 0x6f, 0x00}, true, 5},
		{"vmovdqa with vvvv != 1111", []byte{0xc5, 0xf1, 0x6f, 0xc2}, false, 0},
		{"vzeroupper", []byte{0xc5, 0xf8, 0x77}, true, 3},
		{"vzeroall", []byte{0xc5, 0xfc, 0x77}, true, 3},
		{"vzeroupper with vvvv", []byte{0xc5, 0xf0, 0x77}, false, 0},
		{"map 0", []byte{0xc4, 0xe0, 0x79, 0x6f, 0xc1}, false, 0},
		{"map 4", []byte{0xc4, 0xe4, 0x79, 0x6f, 0xc1}, false, 0},
		{"vpermq with L=0", []byte{0xc4, 0xe3, 0xf9, 0x00, 0xc1, 0x1b}, false, 0},
		{"vpermq with W=0", []byte{0xc4, 0xe3, 0x7d, 0x00, 0xc1, 0x1b}, false, 0},
		{"vpermq ymm0,ymm1,0x1b", []byte{0xc4, 0xe3, 0xfd, 0x00, 0xc1, 0x1b}, true, 6},
		{"vmovd with L=1", []byte{0xc5, 0xfd, 0x6e, 0xc0}, false, 0},
		{"andn with L=1", []byte{0xc4, 0xe2, 0x74, 0xf2, 0xc2}, false, 0},
		{"andn eax,ecx,edx", []byte{0xc4, 0xe2, 0x70, 0xf2, 0xc2}, true, 5},
		{"vmovhlps needs register only... vmovlpd reg form", []byte{0xc5, 0xf1, 0x12, 0xc2}, false, 0},
		{"vpmovmskb with memory", []byte{0xc5, 0xf9, 0xd7, 0x00}, false, 0},
		{"vbroadcastf128 from a register", []byte{0xc4, 0xe2, 0x7d, 0x1a, 0xc1}, false, 0},
		{"rip-relative vmovdqu", []byte{0xc5, 0xfe, 0x6f, 0x05, 1, 2, 3, 4}, true, 8},
		{"sib + disp32", []byte{0xc4, 0xc1, 0x7e, 0x6f, 0x84, 0x8c, 1, 2, 3, 4}, true, 10},
		{"vfmadd (not implemented)", []byte{0xc4, 0xe2, 0xf1, 0xa9, 0xc2}, false, 0},
		{"vpgatherdd (not implemented)", []byte{0xc4, 0xe2, 0x75, 0x90, 0x04, 0x90}, false, 0},
	} {
		var d dinst
		b := append(append([]byte{}, tc.b...), make([]byte, 15)...)[:15]
		err := decode(b, 0x1000, &d)
		if ok := err == decOK; ok != tc.ok {
			t.Errorf("%s: decode %x = %v, want ok=%v", tc.name, tc.b, err, tc.ok)
			continue
		}
		if tc.ok && int(d.len) != tc.n {
			t.Errorf("%s: length %d, want %d", tc.name, d.len, tc.n)
		}
		if tc.ok && (d.op < opVEXFirst || d.op >= opVEXLast) {
			t.Errorf("%s: op %#x outside the VEX range", tc.name, d.op)
		}
	}
	// Every prefix of a valid instruction is truncated, never an error.
	full := []byte{0xc4, 0xc1, 0x7e, 0x6f, 0x84, 0x8c, 1, 2, 3, 4}
	for n := 1; n < len(full); n++ {
		var d dinst
		if err := decode(full[:n], 0x1000, &d); err != decTruncated {
			t.Errorf("decode of %d of %d bytes = %v, want truncated", n, len(full), err)
		}
	}
}
