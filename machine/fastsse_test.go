package machine

import (
	"math/rand"
	"testing"
)

// TestSSEFastMatchesGeneral runs every fast SSE form on operands chosen to
// hit the edges (zeros, denormals, infinities, NaNs, huge and tiny values,
// integers) under random MXCSR values, and requires that whenever the fast
// path takes an instruction, the result is exactly the general executor's:
// registers, XMM, flags and MXCSR.
func TestSSEFastMatchesGeneral(t *testing.T) {
	forms := []string{
		"f20f58c1", "f20f5cc1", "f20f59c1", "f20f5ec1", "f20f51c1", // addsd subsd mulsd divsd sqrtsd xmm0, xmm1
		"f20f5803", "f20f5c03", "f20f5903", "f20f5e03", "f20f5103", // the same with [rbx]
		"660f58c1", "660f5cc1", "660f59c1", "660f5ec1", // addpd subpd mulpd divpd
		"660f5803", "660f5903", // addpd, mulpd xmm0, [rbx]
		"f20f1003", "f20f1103", "f20f10c1", // movsd load, store, reg
		"660f28c1", "660f2803", "660f2903", "0f28c1", "660f6f03", "660f7f03", // movapd, movaps, movdqa
		"660f10c1", "660f1003", "660f1103", "f30f6f03", "f30f7f03", "0f1003", // movupd, movdqu, movups
		"660fefc1", "0f57c1", "660f57c1", "660fef03", // pxor xorps xorpd
		"660fdbc1", "660f54c1", "660fdfc1", "660f55c1", "660febc1", "660f56c1", // pand andpd pandn andnpd por orpd
		"660f14c1", "660f6cc1", "660f1403", // unpcklpd punpcklqdq
		"660f2ec1", "660f2fc1", "660f2e03", // ucomisd comisd
		"f2480f2ac1", "f20f2ac1", // cvtsi2sd xmm0, rcx / ecx
		"f2480f2cc1", "f20f2cc1", // cvttsd2si rax, xmm1 / eax
		"66480f6ec1", "660f6ec1", "66480f7ec1", "660f7ec1", "f30f7ec1", // movq/movd to and from xmm, movq xmm, xmm
		"660ffec1", "660fd4c1", "660ffac1", "660ffbc1", "660ffe03", // paddd paddq psubd psubq
		"660f62c1", "0f14c1", "660f6ac1", "0f15c1", "660f6dc1", "660f15c1", "660f6a03", // unpack
		"660f74c1", "660f76c1", "660f7403", "660fd7c1", "66480fd7c1", // pcmpeqb pcmpeqd pmovmskb
	}
	vals := []uint64{
		0, 1 << 63, // zeros
		0x3ff0000000000000, 0xbff0000000000000, 0x4000000000000000, 0x3fe0000000000000, // 1 -1 2 0.5
		0x0000000000000001, 0x800fffffffffffff, 0x0010000000000000, 0x0010000000000001, // denormals, smallest normals
		0x7fefffffffffffff, 0xffefffffffffffff, 0x7fe0000000000000, // huge
		0x7ff0000000000000, 0xfff0000000000000, // infinities
		0x7ff8000000000000, 0x7ff4000000000000, 0xfff8000000000001, // NaNs
		0x4340000000000000, 0x43e0000000000000, 0xc3e0000000000000, 0x41e0000000000000, // 2^53 2^63 -2^63 2^31
		0x2000000000000000, 0x1ff0000000000000, 0x3ca0000000000000, // tiny products
	}
	rng := rand.New(rand.NewSource(1))
	pick := func() uint64 {
		if rng.Intn(3) == 0 {
			return rng.Uint64() // any bits
		}
		v := vals[rng.Intn(len(vals))]
		if rng.Intn(3) == 0 {
			v ^= uint64(rng.Intn(16)) // a few ulps off
		}
		return v
	}
	fast := 0
	for _, f := range forms {
		code := unhex(t, f)
		a, b := newTestCPU(t, code), newTestCPU(t, code)
		for i := 0; i < 1000; i++ {
			rbx := testData + uint64(rng.Intn(2))*8 // sometimes misaligned for 16-byte forms
			if rng.Intn(4) == 0 {
				rbx = testData + 0x1000 - 8 // a 16-byte access straddles the page
			}
			rcx := pick()
			if rng.Intn(2) == 0 {
				rcx = uint64(rng.Int63n(1<<60)) - 1<<59
			}
			x0, x1 := vec{pick(), pick()}, vec{pick(), pick()}
			if rng.Intn(3) == 0 { // equal lanes, for the compares
				x1[rng.Intn(2)] = x0[rng.Intn(2)] ^ uint64(rng.Intn(2))<<(8*rng.Intn(8))
			}
			var mem [32]byte
			for j := 0; j < 4; j++ {
				le.PutUint64(mem[8*j:], pick())
			}
			mx := uint32(0x1f80)
			switch rng.Intn(4) {
			case 0:
				mx |= mxPE
			case 1:
				mx = uint32(rng.Intn(0x10000)) & mxcsrMask
			case 2:
				mx |= mxPE | uint32(rng.Intn(4))<<13
			}
			fl := 0x202 | uint64(rng.Intn(2))*FlagCF
			for _, c := range []*CPU{a, b} {
				c.Regs = [16]uint64{}
				c.Regs[RBX], c.Regs[RCX] = rbx, rcx
				c.xmm[0], c.xmm[1] = x0, x1
				c.mxcsr = mx
				c.SetFlags(fl)
				c.Mem.Write(testData, make([]byte, 0x2000))
				c.Mem.Write(rbx, mem[:])
				c.syncTLB()
			}
			warm := a.Clone(a.Mem)
			// Fill a's TLB for the operand: the fast path only takes hits.
			a.rd(rbx, 8)
			a.rd(rbx+8, 8)
			a.wr(rbx, 8, le.Uint64(mem[0:]))
			a.wr(rbx+8, 8, le.Uint64(mem[8:]))
			in, ok := a.fetch(testCode)
			if !ok || in.kind != kSSE {
				t.Fatalf("%s: not a fast SSE form (kind %d)", f, in.kind)
			}
			if !a.sseFast(in) {
				continue
			}
			fast++
			in2, _ := b.fetch(testCode)
			st := b.exec(in2, testCode+uint64(in2.len))
			if st != stOK {
				t.Fatalf("%s: fast path took an instruction the general path faults on (%v): xmm0 %x xmm1 %x rcx %x mem %x mxcsr %#x",
					f, b.pend, warm.xmm[0], warm.xmm[1], warm.Regs[RCX], mem[:16], warm.mxcsr)
			}
			if a.Regs != b.Regs || a.xmm != b.xmm || a.Flags() != b.Flags() || a.mxcsr != b.mxcsr {
				t.Fatalf("%s: fast %x %x flags %#x mxcsr %#x, general %x %x flags %#x mxcsr %#x\n  inputs xmm0 %x xmm1 %x rcx %x mem %x mxcsr %#x",
					f, a.xmm[0], a.Regs[RAX], a.Flags(), a.mxcsr, b.xmm[0], b.Regs[RAX], b.Flags(), b.mxcsr,
					warm.xmm[0], warm.xmm[1], warm.Regs[RCX], mem[:16], warm.mxcsr)
			}
			var ma, mb [32]byte
			a.Mem.Read(a.Regs[RBX], ma[:])
			b.Mem.Read(b.Regs[RBX], mb[:])
			if ma != mb {
				t.Fatalf("%s: memory differs: fast %x general %x", f, ma, mb)
			}
		}
	}
	t.Logf("%d fast-path executions compared", fast)
	if fast < len(forms)*100 {
		t.Errorf("only %d fast-path executions", fast)
	}
}

// TestByteSWAR checks the word-at-a-time byte compares (zeroBytes for
// pcmpeqb, ltBytes for pminub/pmaxub) against byte loops: every pair of
// byte values in every position, and random words; and movmskB
// (pmovmskb) on every combination of top bits.
func TestByteSWAR(t *testing.T) {
	check := func(x, y uint64) {
		var wantZ, wantLT uint64
		for i := 0; i < 64; i += 8 {
			if x>>i&0xff == 0 {
				wantZ |= 0xff << i
			}
			if x>>i&0xff < y>>i&0xff {
				wantLT |= 0xff << i
			}
		}
		if got := zeroBytes(x); got != wantZ {
			t.Fatalf("zeroBytes(%#x) = %#x, want %#x", x, got, wantZ)
		}
		if got := ltBytes(x, y); got != wantLT {
			t.Fatalf("ltBytes(%#x, %#x) = %#x, want %#x", x, y, got, wantLT)
		}
	}
	rng := rand.New(rand.NewSource(5))
	for u := 0; u < 256; u++ {
		for v := 0; v < 256; v++ {
			fill := rng.Uint64()
			pos := uint(rng.Intn(8)) * 8
			x := fill&^(0xff<<pos) | uint64(u)<<pos
			y := rng.Uint64()&^(0xff<<pos) | uint64(v)<<pos
			check(x, y)
			check(uint64(u)*0x0101010101010101, uint64(v)*0x0101010101010101)
		}
	}
	for i := 0; i < 100000; i++ {
		check(rng.Uint64(), rng.Uint64())
	}
	// movmskB: every combination of the eight top bits, under random low
	// bits.
	for m := 0; m < 256; m++ {
		for k := 0; k < 16; k++ {
			x := rng.Uint64() &^ 0x8080808080808080
			for i := 0; i < 8; i++ {
				x |= uint64(m>>i&1) << (8*i + 7)
			}
			if got := movmskB(x); got != uint64(m) {
				t.Fatalf("movmskB(%#x) = %#x, want %#x", x, got, m)
			}
		}
	}
}
