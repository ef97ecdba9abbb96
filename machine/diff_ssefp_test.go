package machine

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"testing"
)

// SSE floating point on edge operands (denormals, zeros, the smallest
// normals, infinities, quiet and signaling NaNs) with the whole MXCSR
// compared, exception flags included: random operands almost never hit
// these classes, and the other SSE snippets mask DE, UE and PE.

var sseEdge64 = []uint64{
	0x0000000000000001, 0x000fffffffffffff, 0x0008000000000000, 0x8000000000000123, // denormals
	0x0000000000000000, 0x8000000000000000, // zeros
	0x0010000000000000, 0x8010000000000000, 0x001fffffffffffff, // smallest normals
	0x3ff0000000000000, 0x4000000000000000, 0xbff8000000000000, 0x7fefffffffffffff, // normals
	0x7ff0000000000000, 0xfff0000000000000, // infinities
	0x7ff8000000000000, 0xfff8000000000001, 0x7ff0000000000001, 0x7ff4000000000000, // QNaN, SNaN
}

var sseEdge32 = []uint32{
	0x00000001, 0x007fffff, 0x00400000, 0x80000123,
	0x00000000, 0x80000000,
	0x00800000, 0x80800000, 0x00ffffff,
	0x3f800000, 0x40000000, 0xbfc00000, 0x7f7fffff,
	0x7f800000, 0xff800000,
	0x7fc00000, 0xffc00001, 0x7f800001, 0x7fa00000,
}

// edgeXMM fills an XMM register image with edge values: doubles or singles
// per lane, a random normal now and then.
func edgeXMM(r *rand.Rand, x *[16]byte, dbl bool) {
	if dbl {
		for j := 0; j < 2; j++ {
			v := sseEdge64[r.Intn(len(sseEdge64))]
			if r.Intn(6) == 0 {
				v = randF64(r)
			}
			binary.LittleEndian.PutUint64(x[8*j:], v)
		}
		return
	}
	for j := 0; j < 4; j++ {
		v := sseEdge32[r.Intn(len(sseEdge32))]
		if r.Intn(6) == 0 {
			v = randF32(r)
		}
		binary.LittleEndian.PutUint32(x[4*j:], v)
	}
}

func sseFPEdgeSnippets() []snippet {
	var s []snippet
	add := func(dbl bool, f string, args ...any) {
		s = append(s, snippet{asm: fmt.Sprintf(f, args...), init: func(st *diffState, r *rand.Rand) {
			for i := 0; i < 4; i++ {
				edgeXMM(r, &st.xmm[i], dbl)
			}
		}})
	}
	ops := []struct {
		op  string
		dbl bool
	}{
		{"sqrtsd", true}, {"sqrtpd", true}, {"sqrtss", false}, {"sqrtps", false},
		{"minsd", true}, {"maxsd", true}, {"minpd", true}, {"maxpd", true},
		{"minss", false}, {"maxss", false}, {"minps", false}, {"maxps", false},
		{"addsd", true}, {"mulsd", true}, {"divsd", true}, {"addps", false}, {"mulps", false}, {"divps", false},
		{"comisd", true}, {"ucomisd", true}, {"comiss", false}, {"ucomiss", false},
		{"cvtsd2ss", true}, {"cvtss2sd", false},
	}
	// MXCSR: all exceptions masked, flags clear, each rounding mode.
	for _, rc := range []int{0x1f80, 0x3f80, 0x5f80, 0x7f80} {
		for _, o := range ops {
			add(o.dbl, "mov dword ptr [r15+200], %d; ldmxcsr [r15+200]; %s xmm0, xmm1; stmxcsr [r15+204]; mov dword ptr [r15+200], 0x1f80; ldmxcsr [r15+200]", rc, o.op)
		}
		for _, p := range []int{0, 1, 2, 3, 4, 5, 6, 7} {
			for _, op := range []string{"cmpsd", "cmppd"} {
				add(true, "mov dword ptr [r15+200], %d; ldmxcsr [r15+200]; %s xmm0, xmm1, %d; stmxcsr [r15+204]; mov dword ptr [r15+200], 0x1f80; ldmxcsr [r15+200]", rc, op, p)
			}
			for _, op := range []string{"cmpss", "cmpps"} {
				add(false, "mov dword ptr [r15+200], %d; ldmxcsr [r15+200]; %s xmm0, xmm1, %d; stmxcsr [r15+204]; mov dword ptr [r15+200], 0x1f80; ldmxcsr [r15+200]", rc, op, p)
			}
		}
	}
	return s
}

func TestDiffSSEFPEdges(t *testing.T) {
	runDiff(t, sseFPEdgeSnippets(), 24)
}

// tinyEdgeXMM fills xmm0 with values at the smallest normal (a few ulps
// either way), xmm1 with values a few ulps from 1, so that products and
// quotients fall just below or at the smallest normal, where x86's
// tininess after rounding decides UE; with cvt, xmm1 holds doubles near
// the smallest single instead.
func tinyEdgeXMM(r *rand.Rand, st *diffState, dbl, cvt bool) {
	sign := func() uint64 { return uint64(r.Intn(2)) }
	for j := 0; j < 4; j++ {
		switch {
		case cvt && j < 2:
			v := uint64(0x3810000000000000) + uint64(r.Int63n(1<<31)) - 1<<30 // 2^-126 ± 2 ulps of a single
			binary.LittleEndian.PutUint64(st.xmm[1][8*j:], sign()<<63|v)
		case dbl && j < 2:
			binary.LittleEndian.PutUint64(st.xmm[0][8*j:], sign()<<63|uint64(0x0010000000000000+r.Intn(9)-4))
			binary.LittleEndian.PutUint64(st.xmm[1][8*j:], sign()<<63|uint64(0x3ff0000000000000+r.Intn(7)-3))
		case !dbl && !cvt:
			binary.LittleEndian.PutUint32(st.xmm[0][4*j:], uint32(sign()<<31)|uint32(0x00800000+r.Intn(9)-4))
			binary.LittleEndian.PutUint32(st.xmm[1][4*j:], uint32(sign()<<31)|uint32(0x3f800000+r.Intn(7)-3))
		}
	}
}

// TestDiffSSETininess: results just below the smallest normal that round
// to it set UE only if rounding with an unbounded exponent stays below it.
func TestDiffSSETininess(t *testing.T) {
	var snips []snippet
	ops := []struct {
		op       string
		dbl, cvt bool
	}{
		{"mulsd", true, false}, {"divsd", true, false}, {"mulpd", true, false}, {"divpd", true, false},
		{"mulss", false, false}, {"divss", false, false}, {"mulps", false, false}, {"divps", false, false},
		{"cvtsd2ss", true, true}, {"cvtpd2ps", true, true},
	}
	for _, rc := range []int{0x1f80, 0x3f80, 0x5f80, 0x7f80} {
		for _, o := range ops {
			o := o
			snips = append(snips, snippet{
				asm:  fmt.Sprintf("mov dword ptr [r15+200], %d; ldmxcsr [r15+200]; %s xmm0, xmm1; stmxcsr [r15+204]; mov dword ptr [r15+200], 0x1f80; ldmxcsr [r15+200]", rc, o.op),
				init: func(st *diffState, r *rand.Rand) { tinyEdgeXMM(r, st, o.dbl, o.cvt) },
			})
		}
	}
	runDiff(t, snips, 64)
}
