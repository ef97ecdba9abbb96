package machine

import (
	"math"

	"golang.org/x/arch/x86/x86asm"
)

// Fast paths for the commonest SSE2 forms compilers emit for double
// arithmetic: scalar and packed add/sub/mul/div, sqrtsd, moves, logic,
// unpcklpd, (u)comisd and the integer conversions.
//
// A fast path runs only where its result and its MXCSR effect are those of
// the general executor (sse.go, sse_float.go) without the exactness
// analysis: finite, non-denormal operands, a normal (or exactly zero)
// result, and, for an operation that may be inexact, round-to-nearest with
// the precision exception masked and its flag already set (so an inexact
// result changes nothing more). Memory is accessed only through TLB hits.
// Anything else — NaN, infinity, denormal, overflow, underflow, another
// rounding mode, a TLB miss, a misaligned operand — returns false having
// changed nothing, and the instruction takes the general path, which also
// reports any fault.

// Fast SSE operations (dinst.sub of kSSE).
const (
	sseAddSD = iota
	sseSubSD
	sseMulSD
	sseDivSD
	sseSqrtSD
	sseAddPD
	sseSubPD
	sseMulPD
	sseDivPD
	sseMovSDLoad  // movsd xmm, m64
	sseMovSDStore // movsd m64, xmm
	sseMovSDReg   // movsd xmm, xmm
	sseMovRR      // movapd/movaps/movdqa/movupd/movups/movdqu xmm, xmm
	sseLoadA      // movapd/movaps/movdqa xmm, m128
	sseStoreA     // the same to memory
	sseLoadU      // movupd/movups/movdqu xmm, m128
	sseStoreU
	sseXor // pxor, xorps, xorpd
	sseAnd
	sseAndn
	sseOr
	sseUnpcklQ  // unpcklpd, punpcklqdq
	sseComiSD   // comisd, ucomisd
	sseCvtSI2SD // cvtsi2sd xmm, r32/r64
	sseCvttSD2SI
	sseMovToX   // movq xmm, r64; movd xmm, r32
	sseMovFromX // movq r64, xmm; movd r32, xmm
	sseMovQX    // movq xmm, xmm
	ssePaddD
	ssePaddQ
	ssePsubD
	ssePsubQ
	ssePunpckLDQ // punpckldq, unpcklps
	ssePunpckHDQ // punpckhdq, unpckhps
	sseUnpckhQ   // punpckhqdq, unpckhpd
	ssePcmpeqB
	ssePcmpeqD
	ssePmovmskB // pmovmskb r, xmm
)

// classifySSE marks the forms of d that have a fast path as kSSE.
func classifySSE(d *dinst) {
	if d.narg != 2 {
		return
	}
	a0, a1 := d.args[0], d.args[1]
	x0, x1 := a0.kind == akXMM, a1.kind == akXMM
	simpleMem := d.seg == 0 && !d.a32
	m0, m1 := a0.kind == akMem && simpleMem, a1.kind == akMem && simpleMem
	sub := -1
	switch x86asm.Op(d.op) {
	case x86asm.ADDSD, x86asm.SUBSD, x86asm.MULSD, x86asm.DIVSD, x86asm.SQRTSD:
		if x0 && (x1 || m1) {
			switch x86asm.Op(d.op) {
			case x86asm.ADDSD:
				sub = sseAddSD
			case x86asm.SUBSD:
				sub = sseSubSD
			case x86asm.MULSD:
				sub = sseMulSD
			case x86asm.DIVSD:
				sub = sseDivSD
			default:
				sub = sseSqrtSD
			}
		}
	case x86asm.ADDPD, x86asm.SUBPD, x86asm.MULPD, x86asm.DIVPD:
		if x0 && (x1 || m1) {
			switch x86asm.Op(d.op) {
			case x86asm.ADDPD:
				sub = sseAddPD
			case x86asm.SUBPD:
				sub = sseSubPD
			case x86asm.MULPD:
				sub = sseMulPD
			default:
				sub = sseDivPD
			}
		}
	case x86asm.MOVSD_XMM:
		switch {
		case x0 && m1:
			sub = sseMovSDLoad
		case m0 && x1:
			sub = sseMovSDStore
		case x0 && x1:
			sub = sseMovSDReg
		}
	case x86asm.MOVAPD, x86asm.MOVAPS, x86asm.MOVDQA:
		switch {
		case x0 && x1:
			sub = sseMovRR
		case x0 && m1:
			sub = sseLoadA
		case m0 && x1:
			sub = sseStoreA
		}
	case x86asm.MOVUPD, x86asm.MOVUPS, x86asm.MOVDQU:
		switch {
		case x0 && x1:
			sub = sseMovRR
		case x0 && m1:
			sub = sseLoadU
		case m0 && x1:
			sub = sseStoreU
		}
	case x86asm.PXOR, x86asm.XORPS, x86asm.XORPD:
		if x0 && (x1 || m1) {
			sub = sseXor
		}
	case x86asm.PAND, x86asm.ANDPS, x86asm.ANDPD:
		if x0 && (x1 || m1) {
			sub = sseAnd
		}
	case x86asm.PANDN, x86asm.ANDNPS, x86asm.ANDNPD:
		if x0 && (x1 || m1) {
			sub = sseAndn
		}
	case x86asm.POR, x86asm.ORPS, x86asm.ORPD:
		if x0 && (x1 || m1) {
			sub = sseOr
		}
	case x86asm.UNPCKLPD, x86asm.PUNPCKLQDQ:
		if x0 && (x1 || m1) {
			sub = sseUnpcklQ
		}
	case x86asm.PADDD, x86asm.PADDQ, x86asm.PSUBD, x86asm.PSUBQ, x86asm.PUNPCKLDQ, x86asm.UNPCKLPS,
		x86asm.PUNPCKHDQ, x86asm.UNPCKHPS, x86asm.PUNPCKHQDQ, x86asm.UNPCKHPD, x86asm.PCMPEQB, x86asm.PCMPEQD:
		if x0 && (x1 || m1) {
			switch x86asm.Op(d.op) {
			case x86asm.PADDD:
				sub = ssePaddD
			case x86asm.PADDQ:
				sub = ssePaddQ
			case x86asm.PSUBD:
				sub = ssePsubD
			case x86asm.PSUBQ:
				sub = ssePsubQ
			case x86asm.PUNPCKLDQ, x86asm.UNPCKLPS:
				sub = ssePunpckLDQ
			case x86asm.PUNPCKHDQ, x86asm.UNPCKHPS:
				sub = ssePunpckHDQ
			case x86asm.PUNPCKHQDQ, x86asm.UNPCKHPD:
				sub = sseUnpckhQ
			case x86asm.PCMPEQB:
				sub = ssePcmpeqB
			default:
				sub = ssePcmpeqD
			}
		}
	case x86asm.PMOVMSKB:
		if a0.kind == akReg && (a0.size == 4 || a0.size == 8) && x1 {
			sub = ssePmovmskB
		}
	case x86asm.COMISD, x86asm.UCOMISD:
		if x0 && (x1 || m1) {
			sub = sseComiSD
		}
	case x86asm.CVTSI2SD:
		if x0 && a1.kind == akReg && (a1.size == 4 || a1.size == 8) {
			sub = sseCvtSI2SD
		}
	case x86asm.CVTTSD2SI:
		if a0.kind == akReg && (a0.size == 4 || a0.size == 8) && x1 {
			sub = sseCvttSD2SI
		}
	case x86asm.MOVQ, x86asm.MOVD:
		switch {
		case x0 && a1.kind == akReg && (a1.size == 4 || a1.size == 8):
			sub = sseMovToX
		case a0.kind == akReg && (a0.size == 4 || a0.size == 8) && x1:
			sub = sseMovFromX
		case x0 && x1 && x86asm.Op(d.op) == x86asm.MOVQ:
			sub = sseMovQX
		}
	}
	if sub >= 0 {
		d.kind = kSSE
		d.sub = uint8(sub)
	}
}

// ordinary reports a finite, non-denormal double (zero included).
func ordinary(b uint64) bool {
	e := b >> 52 & 0x7ff
	return e != 0x7ff && (e != 0 || b<<1 == 0)
}

// normal reports a normal double (not zero, denormal, infinite or NaN).
func normal(b uint64) bool {
	e := b >> 52 & 0x7ff
	return e != 0 && e != 0x7ff
}

// arithD computes a op b for two ordinary doubles, reporting whether the
// result is one the general path gives with no exception but PE.
func arithD(op uint8, a, b uint64) (uint64, bool) {
	if !ordinary(a) || !ordinary(b) {
		return 0, false
	}
	x, y := math.Float64frombits(a), math.Float64frombits(b)
	var s float64
	switch op {
	case sseAddSD:
		s = x + y
		if s == 0 {
			return math.Float64bits(s), true // exact cancellation
		}
	case sseSubSD:
		s = x - y
		if s == 0 {
			return math.Float64bits(s), true
		}
	case sseMulSD:
		s = x * y
		if x == 0 || y == 0 {
			return math.Float64bits(s), true
		}
	case sseDivSD:
		if y == 0 {
			return 0, false
		}
		s = x / y
		if x == 0 {
			return math.Float64bits(s), true
		}
	}
	r := math.Float64bits(s)
	return r, normal(r)
}

// sseFast executes kSSE instruction in if it can, reporting whether it
// did; if not, nothing changed.
func (c *CPU) sseFast(in *dinst) bool {
	// Inexact results need round to nearest, PE masked and already set.
	const rcPE = 3<<13 | 1<<12 | mxPE
	inexactOK := c.mxcsr&rcPE == 1<<12|mxPE
	d, s := in.args[0].reg&15, in.args[1].reg&15
	switch in.sub {
	case sseAddSD, sseSubSD, sseMulSD, sseDivSD:
		if !inexactOK {
			return false
		}
		b := c.xmm[s][0]
		if in.args[1].kind == akMem {
			var ok bool
			if b, ok = c.rd8(c.eaFast(in)); !ok {
				return false
			}
		}
		// arithD, inline.
		a := c.xmm[d][0]
		if !ordinary(a) || !ordinary(b) {
			return false
		}
		x, y := math.Float64frombits(a), math.Float64frombits(b)
		var r float64
		var exact bool
		switch in.sub {
		case sseAddSD:
			r = x + y
			exact = r == 0
		case sseSubSD:
			r = x - y
			exact = r == 0
		case sseMulSD:
			r = x * y
			exact = x == 0 || y == 0
		default:
			if y == 0 {
				return false
			}
			r = x / y
			exact = x == 0
		}
		if rb := math.Float64bits(r); exact || normal(rb) {
			c.xmm[d][0] = rb
		} else {
			return false
		}
	case sseSqrtSD:
		if !inexactOK {
			return false
		}
		b := c.xmm[s][0]
		if in.args[1].kind == akMem {
			var ok bool
			if b, ok = c.rd8(c.eaFast(in)); !ok {
				return false
			}
		}
		if !ordinary(b) || b>>63 != 0 && b<<1 != 0 {
			return false
		}
		c.xmm[d][0] = math.Float64bits(math.Sqrt(math.Float64frombits(b)))
	case sseAddPD, sseSubPD, sseMulPD, sseDivPD:
		if !inexactOK {
			return false
		}
		b, ok := c.src128(in, s)
		if !ok {
			return false
		}
		op := in.sub - sseAddPD + sseAddSD
		r0, ok0 := arithD(op, c.xmm[d][0], b[0])
		r1, ok1 := arithD(op, c.xmm[d][1], b[1])
		if !ok0 || !ok1 {
			return false
		}
		c.xmm[d] = vec{r0, r1}
	case sseMovSDLoad:
		v, ok := c.rd8(c.eaFast(in))
		if !ok {
			return false
		}
		c.xmm[d] = vec{v, 0}
	case sseMovSDStore:
		if !c.wr8(c.eaFast(in), c.xmm[s][0]) {
			return false
		}
	case sseMovSDReg, sseMovQX:
		v := c.xmm[s][0]
		if in.sub == sseMovQX {
			c.xmm[d] = vec{v, 0}
		} else {
			c.xmm[d][0] = v
		}
	case sseMovRR:
		c.xmm[d] = c.xmm[s]
	case sseLoadA, sseLoadU:
		a := c.eaFast(in)
		if in.sub == sseLoadA && a&15 != 0 || a&0xfff > PageSize-16 {
			return false
		}
		lo, ok := c.rd8(a)
		if !ok {
			return false
		}
		hi, _ := c.rd8(a + 8)
		c.xmm[d] = vec{lo, hi}
	case sseStoreA, sseStoreU:
		a := c.eaFast(in)
		if in.sub == sseStoreA && a&15 != 0 || a&0xfff > PageSize-16 {
			return false
		}
		v := c.xmm[s]
		if !c.wr8(a, v[0]) {
			return false
		}
		c.wr8(a+8, v[1])
	case sseXor, sseAnd, sseAndn, sseOr, sseUnpcklQ, ssePaddD, ssePaddQ, ssePsubD, ssePsubQ,
		ssePunpckLDQ, ssePunpckHDQ, sseUnpckhQ, ssePcmpeqB, ssePcmpeqD:
		b, ok := c.src128(in, s)
		if !ok {
			return false
		}
		a := c.xmm[d]
		switch in.sub {
		case sseXor:
			a = vec{a[0] ^ b[0], a[1] ^ b[1]}
		case sseAnd:
			a = vec{a[0] & b[0], a[1] & b[1]}
		case sseAndn:
			a = vec{^a[0] & b[0], ^a[1] & b[1]}
		case sseOr:
			a = vec{a[0] | b[0], a[1] | b[1]}
		case sseUnpcklQ:
			a = vec{a[0], b[0]}
		case sseUnpckhQ:
			a = vec{a[1], b[1]}
		case ssePaddQ:
			a = vec{a[0] + b[0], a[1] + b[1]}
		case ssePsubQ:
			a = vec{a[0] - b[0], a[1] - b[1]}
		case ssePaddD:
			a = vec{add32x2(a[0], b[0]), add32x2(a[1], b[1])}
		case ssePsubD:
			a = vec{sub32x2(a[0], b[0]), sub32x2(a[1], b[1])}
		case ssePunpckLDQ:
			a = vec{a[0]&0xffffffff | b[0]<<32, a[0]>>32 | b[0]>>32<<32}
		case ssePunpckHDQ:
			a = vec{a[1]&0xffffffff | b[1]<<32, a[1]>>32 | b[1]>>32<<32}
		case ssePcmpeqB:
			a = vec{zeroBytes(a[0] ^ b[0]), zeroBytes(a[1] ^ b[1])}
		default:
			a = vec{eqMask(a[0]^b[0], 32), eqMask(a[1]^b[1], 32)}
		}
		c.xmm[d] = a
	case sseComiSD:
		b := c.xmm[s][0]
		if in.args[1].kind == akMem {
			var ok bool
			if b, ok = c.rd8(c.eaFast(in)); !ok {
				return false
			}
		}
		a := c.xmm[d][0]
		if !ordinary(a) || !ordinary(b) {
			return false
		}
		x, y := math.Float64frombits(a), math.Float64frombits(b)
		var f uint64
		switch {
		case x < y:
			f = FlagCF
		case x == y:
			f = FlagZF
		}
		c.setArith(f)
	case sseCvtSI2SD:
		v := int64(c.Regs[s])
		if in.args[1].size == 4 {
			v = int64(int32(v))
		}
		if !inexactOK && (v > 1<<53 || v < -1<<53) {
			return false
		}
		c.xmm[d][0] = math.Float64bits(float64(v))
	case sseCvttSD2SI:
		b := c.xmm[s][0]
		if !ordinary(b) {
			return false
		}
		x := math.Float64frombits(b)
		t := math.Trunc(x)
		if t != x && !inexactOK {
			return false
		}
		if in.args[0].size == 8 {
			if t >= 0x1p63 || t < -0x1p63 {
				return false
			}
			c.Regs[d] = uint64(int64(t))
		} else {
			if t >= 0x1p31 || t < -0x1p31 {
				return false
			}
			c.Regs[d] = uint64(uint32(int32(t)))
		}
	case ssePmovmskB:
		v := c.xmm[s]
		c.Regs[d] = movmskB(v[0]) | movmskB(v[1])<<8
	case sseMovToX:
		c.xmm[d] = vec{c.Regs[s] & sizeMask[in.args[1].size], 0}
	case sseMovFromX:
		c.Regs[d] = c.xmm[s][0] & sizeMask[in.args[0].size]
	default:
		return false
	}
	return true
}

// add32x2 adds the two 32-bit lanes of a and b.
func add32x2(a, b uint64) uint64 {
	return uint64(uint32(a)+uint32(b)) | uint64(uint32(a>>32)+uint32(b>>32))<<32
}

func sub32x2(a, b uint64) uint64 {
	return uint64(uint32(a)-uint32(b)) | uint64(uint32(a>>32)-uint32(b>>32))<<32
}

// eqMask returns, for each w-bit lane of x, all ones if it is zero, else
// zero.
func eqMask(x uint64, w uint) uint64 {
	var r uint64
	m := uint64(1)<<w - 1
	for i := uint(0); i < 64; i += w {
		if x>>i&m == 0 {
			r |= m << i
		}
	}
	return r
}

// movmskB gathers the top bits of the 8 bytes of v: bit 7 of byte i
// becomes bit i. The multiply adds each bit (at 8i after the shift) into
// bit 56+i and nowhere else at or above 56, without carries.
func movmskB(v uint64) uint64 {
	return (v >> 7 & 0x0101010101010101) * 0x0102040810204080 >> 56
}

// src128 reads the 128-bit source of a legacy SSE instruction: register s
// or an aligned memory operand hit in the TLB.
func (c *CPU) src128(in *dinst, s uint8) (vec, bool) {
	if in.args[1].kind != akMem {
		return c.xmm[s], true
	}
	a := c.eaFast(in)
	if a&15 != 0 {
		return vec{}, false
	}
	lo, ok := c.rd8(a)
	if !ok {
		return vec{}, false
	}
	hi, _ := c.rd8(a + 8)
	return vec{lo, hi}, true
}
