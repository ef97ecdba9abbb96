package machine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand"
	"testing"
)

// execOne decodes the instruction in code and runs it with execXSave.
func execOne(t *testing.T, c *CPU, code string) int {
	t.Helper()
	var d dinst
	b := unhex(t, code)
	if err := decode(b, c.RIP, &d); err != decOK {
		t.Fatalf("decode %s: %v", code, err)
	}
	return c.execXSave(&d, c.RIP+uint64(d.len))
}

func randomVectorState(c *CPU, r *rand.Rand) {
	for i := 0; i < 16; i++ {
		c.xmm[i] = vec{r.Uint64(), r.Uint64()}
		c.avx.ymmh[i] = vec{r.Uint64(), r.Uint64()}
	}
	c.mxcsr = 0x1f80 | uint32(r.Intn(4))<<13
	c.fcw = 0x27f
	c.ftop = 5
	c.ftag = 0xe0
	for i := range c.fpr {
		c.fpr[i] = f80{mant: r.Uint64() | 1<<63, se: uint16(r.Intn(0x7fff))}
	}
}

func vectorState(c *CPU) []byte {
	var fx [512]byte
	c.FXSave(&fx)
	b := append([]byte{}, fx[:416]...)
	for i := 0; i < 16; i++ {
		x := c.avx.ymmh[i].bytes()
		b = append(b, x[:]...)
	}
	return b
}

func TestXGETBV(t *testing.T) {
	c := newTestCPU(t, nil)
	c.Regs[RCX] = 0
	if st := execOne(t, c, "0f01d0"); st != stOK || c.Regs[RAX] != 7 || c.Regs[RDX] != 0 {
		t.Errorf("xgetbv: st %d rax %#x rdx %#x, want XCR0 7", st, c.Regs[RAX], c.Regs[RDX])
	}
	c.Regs[RCX] = 1
	if st := execOne(t, c, "0f01d0"); st != stFault || c.pend.Reason != ExitGP {
		t.Errorf("xgetbv ecx=1: st %d %v, want #GP", st, c.pend)
	}
}

func TestXSaveXRstor(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	c := newTestCPU(t, nil)
	randomVectorState(c, r)
	want := vectorState(c)
	// xsave [rsi] with EDX:EAX all ones, onto a buffer of 0xaa.
	c.Regs[RSI] = testData + 64
	c.Regs[RAX], c.Regs[RDX] = 0xffffffff, 0xffffffff
	fill := bytes.Repeat([]byte{0xaa}, XSaveSize+64)
	c.Mem.Write(testData+64, fill)
	if st := execOne(t, c, "0fae26"); st != stOK {
		t.Fatalf("xsave: %v", c.pend)
	}
	area := make([]byte, XSaveSize+64)
	c.Mem.Read(testData+64, area)
	var fx [512]byte
	c.FXSave(&fx)
	if !bytes.Equal(area[:24], fx[:24]) || !bytes.Equal(area[24:32], fx[24:32]) || !bytes.Equal(area[32:416], fx[32:416]) {
		t.Errorf("xsave legacy region differs from the FXSAVE image")
	}
	if !bytes.Equal(area[416:512], fill[416:512]) {
		t.Errorf("xsave wrote the reserved legacy bytes")
	}
	if bv := binary.LittleEndian.Uint64(area[512:]); bv != 0xaaaaaaaaaaaaaaaf {
		t.Errorf("XSTATE_BV %#x, want the old bits with 0-2 set", bv)
	}
	if !bytes.Equal(area[520:576], fill[520:576]) {
		t.Errorf("xsave wrote header bytes other than XSTATE_BV")
	}
	for i := 0; i < 16; i++ {
		x := c.avx.ymmh[i].bytes()
		if !bytes.Equal(area[576+16*i:592+16*i], x[:]) {
			t.Errorf("YMM%d_H at %d differs", i, 576+16*i)
		}
	}
	if !bytes.Equal(area[XSaveSize:], fill[XSaveSize:]) {
		t.Errorf("xsave wrote past the area")
	}
	// A clean header, then xrstor after scrambling the state.
	binary.LittleEndian.PutUint64(area[512:], 7)
	clear(area[520:576])
	c.Mem.Write(testData+64, area)
	randomVectorState(c, r)
	if st := execOne(t, c, "0fae2e"); st != stOK {
		t.Fatalf("xrstor: %v", c.pend)
	}
	if got := vectorState(c); !bytes.Equal(got, want) {
		t.Errorf("xrstor did not restore the saved state")
	}

	// RFBM = SSE only: XMM and MXCSR saved; x87 and YMM_H bytes untouched.
	c.Mem.Write(testData+64, fill)
	c.Regs[RAX], c.Regs[RDX] = 2, 0
	if st := execOne(t, c, "480fae26"); st != stOK { // xsave64
		t.Fatalf("xsave64: %v", c.pend)
	}
	c.Mem.Read(testData+64, area)
	if !bytes.Equal(area[:24], fill[:24]) || !bytes.Equal(area[32:160], fill[32:160]) || !bytes.Equal(area[576:XSaveSize], fill[576:XSaveSize]) {
		t.Errorf("xsave with RFBM 2 wrote x87 or AVX state")
	}
	if !bytes.Equal(area[160:416], fx[160:416]) || binary.LittleEndian.Uint32(area[24:]) != c.mxcsr {
		t.Errorf("xsave with RFBM 2 did not write XMM and MXCSR")
	}

	// XSTATE_BV clear: xrstor puts the components in their initial state
	// but still loads MXCSR.
	clear(area)
	binary.LittleEndian.PutUint32(area[24:], 0x3f80)
	c.Mem.Write(testData+64, area)
	randomVectorState(c, r)
	c.Regs[RAX], c.Regs[RDX] = 7, 0
	if st := execOne(t, c, "0fae2e"); st != stOK {
		t.Fatalf("xrstor init: %v", c.pend)
	}
	if c.xmm != [16]vec{} || c.avx.ymmh != [16]vec{} || c.fcw != 0x37f || c.ftag != 0 || c.mxcsr != 0x3f80 {
		t.Errorf("xrstor of XSTATE_BV 0: xmm0 %x ymmh0 %x fcw %#x ftag %#x mxcsr %#x", c.xmm[0], c.avx.ymmh[0], c.fcw, c.ftag, c.mxcsr)
	}

	// #GP: misaligned, XSTATE_BV beyond XCR0, XCOMP_BV set, reserved
	// header bytes, reserved MXCSR bits; the state is unchanged.
	for _, tc := range []struct {
		name string
		off  uint64
		mod  func(b []byte)
	}{
		{"misaligned", 16, func([]byte) {}},
		{"XSTATE_BV bit 3", 0, func(b []byte) { b[512] = 8 }},
		{"compacted", 0, func(b []byte) { b[527] = 0x80 }},
		{"reserved header byte", 0, func(b []byte) { b[540] = 1 }},
		{"reserved MXCSR bit", 0, func(b []byte) { b[24+2] = 1 }},
	} {
		clear(area)
		binary.LittleEndian.PutUint32(area[24:], 0x1f80)
		tc.mod(area)
		c.Mem.Write(testData+64, area)
		randomVectorState(c, r)
		before := vectorState(c)
		c.Regs[RSI] = testData + 64 + tc.off
		if st := execOne(t, c, "0fae2e"); st != stFault || c.pend.Reason != ExitGP {
			t.Errorf("xrstor %s: st %d %v, want #GP", tc.name, st, c.pend)
		}
		if !bytes.Equal(vectorState(c), before) {
			t.Errorf("xrstor %s changed the state", tc.name)
		}
	}
	c.Regs[RSI] = testData + 32
	if st := execOne(t, c, "0fae26"); st != stFault || c.pend.Reason != ExitGP {
		t.Errorf("misaligned xsave: %v, want #GP", c.pend)
	}
}

// TestAVXStateCloneHash: snapshots (Clone) keep the upper YMM halves and
// the state hash covers them.
func TestAVXStateCloneHash(t *testing.T) {
	c := newTestCPU(t, nil)
	var zero [16]byte
	h0 := sha256.New()
	c.Hash(h0)
	c.SetYMMHigh(3, [16]byte{1, 2, 3})
	n := c.Clone(c.Mem)
	if n.YMMHigh(3) != c.YMMHigh(3) {
		t.Errorf("Clone lost YMM3_H: %x", n.YMMHigh(3))
	}
	h1 := sha256.New()
	c.Hash(h1)
	if bytes.Equal(h0.Sum(nil), h1.Sum(nil)) {
		t.Errorf("Hash ignores the upper YMM halves")
	}
	c.SetYMMHigh(3, zero)
	h2 := sha256.New()
	c.Hash(h2)
	if !bytes.Equal(h0.Sum(nil), h2.Sum(nil)) {
		t.Errorf("Hash of a state without AVX state changed")
	}
}

// TestXSaveRun runs XGETBV, XSAVE and XRSTOR through Run.
func TestXSaveRun(t *testing.T) {
	// xor ecx, ecx; xgetbv; mov eax, 7; xor edx, edx; xsave [rsi];
	// vpcmpeqb ymm0, ymm0, ymm0; xrstor [rsi]; int3
	c := newTestCPU(t, unhex(t, "31c9 0f01d0 b807000000 31d2 0fae26 c5fd74c0 0fae2e cc"))
	c.Regs[RSI] = testData
	c.SetYMMHigh(0, [16]byte{9})
	if ex := c.Run(100); ex.Reason != ExitBreakpoint {
		t.Fatalf("Run = %+v", ex)
	}
	if c.YMMHigh(0) != [16]byte{9} || c.XMM(0) != [16]byte{} {
		t.Errorf("after xrstor ymm0 = %x:%x", c.YMMHigh(0), c.XMM(0))
	}
}
