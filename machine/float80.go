package machine

import (
	"math"
	"math/bits"
)

// Software x87 extended precision: sign, 15-bit exponent, 64-bit
// significand with explicit integer bit. + - * / sqrt are correctly
// rounded to the precision control (24, 53 or 64 bits) in the four
// rounding modes, with the extended exponent range; conversions to float32
// and float64 round to their formats.

// x87 exception bits (FSW and FCW mask positions).
const (
	feIE = 1 << 0
	feDE = 1 << 1
	feZE = 1 << 2
	feOE = 1 << 3
	feUE = 1 << 4
	fePE = 1 << 5
	feSF = 1 << 6
	feC1 = 1 << 9 // not an exception: the result was rounded up (FSW.C1)
)

var (
	f80Indefinite = f80{mant: 0xc000000000000000, se: 0xffff}
	f80One        = f80{mant: 1 << 63, se: 0x3fff}
)

func (x f80) neg() bool   { return x.se&0x8000 != 0 }
func (x f80) exp() int    { return int(x.se & 0x7fff) }
func (x f80) isNaN() bool { return x.exp() == 0x7fff && x.mant<<1 != 0 }
func (x f80) isSNaN() bool {
	return x.isNaN() && x.mant&(1<<62) == 0
}
func (x f80) isInf() bool  { return x.exp() == 0x7fff && x.mant<<1 == 0 }
func (x f80) isZero() bool { return x.mant == 0 && x.exp() != 0x7fff }
func (x f80) quiet() f80   { x.mant |= 3 << 62; return x }
func (x f80) abs() f80     { x.se &= 0x7fff; return x }
func (x f80) chs() f80     { x.se ^= 0x8000; return x }
func (x f80) isDenormal() bool {
	return x.exp() == 0 && x.mant != 0
}

// unnormal: a nonzero exponent with a clear integer bit; invalid operand.
func (x f80) isUnsupported() bool {
	return x.exp() != 0 && x.mant>>63 == 0
}

func f80Zero(neg bool) f80 {
	if neg {
		return f80{se: 0x8000}
	}
	return f80{}
}

func f80Inf(neg bool) f80 {
	x := f80{mant: 1 << 63, se: 0x7fff}
	if neg {
		x.se |= 0x8000
	}
	return x
}

// unpack returns a finite nonzero value as sign, unbiased exponent of the
// leading bit and a significand with bit 63 set.
func (x f80) unpack() (neg bool, e int, m uint64) {
	neg = x.neg()
	m = x.mant
	e = x.exp() - 16383
	if x.exp() == 0 {
		e = 1 - 16383
	}
	n := bits.LeadingZeros64(m)
	return neg, e - n, m << n
}

// shr128 shifts hi:lo right by n with a sticky bit.
func shr128(hi, lo uint64, n int) (uint64, uint64) {
	switch {
	case n <= 0:
		return hi, lo
	case n >= 128:
		if hi|lo != 0 {
			return 0, 1
		}
		return 0, 0
	case n == 64:
		if lo != 0 {
			return 0, hi | 1
		}
		return 0, hi
	case n > 64:
		s := lo != 0 || hi<<(128-n) != 0
		lo = hi >> (n - 64)
		if s {
			lo |= 1
		}
		return 0, lo
	}
	sticky := lo<<(64-n) != 0
	lo = lo>>n | hi<<(64-n)
	hi >>= n
	if sticky {
		lo |= 1
	}
	return hi, lo
}

// roundPack rounds the value hi:lo * 2^(e-127) (hi bit 63 set, so the
// leading bit has exponent e) to prec significant bits in a format with
// the given exponent bias and maximum biased exponent, with rounding mode
// rc. It returns the biased exponent, the significand (prec bits,
// right-aligned, explicit leading bit) and exception flags.
func roundPack(neg bool, e int, hi, lo uint64, prec int, bias, maxExp int, rc uint16) (be int, m uint64, exc uint16) {
	be = e + bias
	// Tininess is detected after rounding (SDM 4.9.1.5: the result rounded
	// to prec bits with an unbounded exponent is below the smallest
	// normal): a value just below it that rounds up to it is not tiny.
	tiny := false
	if be <= 0 {
		tiny = true
		if be == 0 {
			if kept, up, _ := roundBits(neg, hi, lo, prec, rc); up && kept == 1<<prec-1 {
				tiny = false
			}
		}
		hi, lo = shr128(hi, lo, 1-be)
		be = 0
	}
	kept, up, inexact := roundBits(neg, hi, lo, prec, rc)
	if up {
		kept++
		if kept == 1<<prec || prec == 64 && kept == 0 {
			if prec == 64 {
				kept = 1 << 63
			} else {
				kept >>= 1
			}
			be++
		} else if be == 0 && kept>>(prec-1) != 0 {
			be = 1
		}
	}
	if inexact {
		exc |= fePE
		if tiny {
			exc |= feUE
		}
		if up {
			exc |= feC1
		}
	}
	if be >= maxExp {
		exc |= feOE | fePE
		if rc == 0 || rc == 1 && neg || rc == 2 && !neg {
			return maxExp, 1 << (prec - 1), exc | feC1
		}
		exc &^= feC1
		return maxExp - 1, 1<<prec - 1, exc
	}
	if kept == 0 {
		be = 0
	}
	return be, kept, exc
}

// roundBits splits hi:lo into its top prec bits (kept) and the rest, and
// reports whether rounding mode rc rounds kept up and whether the rest is
// nonzero (inexact).
func roundBits(neg bool, hi, lo uint64, prec int, rc uint16) (kept uint64, up, inexact bool) {
	drop := 64 - prec
	kept = hi >> drop
	// Remainder below the kept bits, as a 128-bit value relative to half.
	var remHi, remLo uint64
	if drop > 0 {
		remHi = hi << (64 - drop)
		remLo = lo
	} else {
		remHi = lo
		remLo = 0
	}
	inexact = remHi|remLo != 0
	switch rc {
	case 0:
		half := uint64(1) << 63
		up = remHi > half || remHi == half && (remLo != 0 || kept&1 != 0)
	case 1:
		up = neg && inexact
	case 2:
		up = !neg && inexact
	}
	return kept, up, inexact
}

// round80 rounds to an f80 with precision control pc (0: 24, 2: 53, 3: 64 bits).
func round80(neg bool, e int, hi, lo uint64, pc, rc uint16) (f80, uint16) {
	prec := 64
	switch pc {
	case 0:
		prec = 24
	case 2:
		prec = 53
	}
	be, m, exc := roundPack(neg, e, hi, lo, prec, 16383, 0x7fff, rc)
	r := f80{mant: m << (64 - prec), se: uint16(be)}
	if neg {
		r.se |= 0x8000
	}
	return r, exc
}

// propagateNaN picks the NaN result of a two-operand operation.
func propagateNaN(a, b f80) (f80, uint16) {
	var exc uint16
	if a.isSNaN() || b.isSNaN() {
		exc = feIE
	}
	switch {
	case a.isNaN() && b.isNaN():
		if a.mant<<1 >= b.mant<<1 {
			if a.mant<<1 == b.mant<<1 && !a.neg() {
				return a.quiet(), exc
			}
			return a.quiet(), exc
		}
		return b.quiet(), exc
	case a.isNaN():
		return a.quiet(), exc
	}
	return b.quiet(), exc
}

func f80Add(a, b f80, sub bool, pc, rc uint16) (f80, uint16) {
	// An unsupported operand is invalid even next to a NaN.
	if a.isUnsupported() || b.isUnsupported() {
		return f80Indefinite, feIE
	}
	if sub {
		b = b.chs()
	}
	if a.isNaN() || b.isNaN() {
		if sub {
			b = b.chs()
		}
		return propagateNaN(a, b)
	}
	var exc uint16
	if a.isDenormal() || b.isDenormal() {
		exc |= feDE
	}
	switch {
	case a.isInf() && b.isInf():
		if a.neg() != b.neg() {
			return f80Indefinite, feIE
		}
		return a, exc
	case a.isInf():
		return a, exc
	case b.isInf():
		return b, exc
	case a.isZero() && b.isZero():
		if a.neg() == b.neg() {
			return a, exc
		}
		return f80Zero(rc == 1), exc
	case a.isZero():
		r, e := f80Normalize(b, pc, rc)
		return r, exc | e
	case b.isZero():
		r, e := f80Normalize(a, pc, rc)
		return r, exc | e
	}
	an, ae, am := a.unpack()
	bn, be, bm := b.unpack()
	if ae < be || ae == be && am < bm {
		an, ae, am, bn, be, bm = bn, be, bm, an, ae, am
	}
	// Leading bit at position 126 so that a carry fits.
	ahi, alo := am>>1, am<<63
	bhi, blo := shr128(bm>>1, bm<<63, ae-be)
	var hi, lo uint64
	if an == bn {
		var c uint64
		lo, c = bits.Add64(alo, blo, 0)
		hi, _ = bits.Add64(ahi, bhi, c)
	} else {
		var br uint64
		lo, br = bits.Sub64(alo, blo, 0)
		hi, _ = bits.Sub64(ahi, bhi, br)
	}
	if hi == 0 && lo == 0 {
		return f80Zero(rc == 1), exc
	}
	e := ae + 1
	n := bits.LeadingZeros64(hi)
	if hi == 0 {
		n = 64 + bits.LeadingZeros64(lo)
	}
	hi, lo = shl128(hi, lo, n)
	e -= n
	r, e2 := round80(an, e, hi, lo, pc, rc)
	return r, exc | e2
}

func shl128(hi, lo uint64, n int) (uint64, uint64) {
	switch {
	case n == 0:
		return hi, lo
	case n >= 64:
		return lo << (n - 64), 0
	}
	return hi<<n | lo>>(64-n), lo << n
}

// f80Normalize rounds a finite value to the precision control.
func f80Normalize(a f80, pc, rc uint16) (f80, uint16) {
	if a.isZero() || a.isNaN() || a.isInf() {
		return a, 0
	}
	n, e, m := a.unpack()
	return round80(n, e, m, 0, pc, rc)
}

func f80Mul(a, b f80, pc, rc uint16) (f80, uint16) {
	// An unsupported operand is invalid even next to a NaN.
	if a.isUnsupported() || b.isUnsupported() {
		return f80Indefinite, feIE
	}
	if a.isNaN() || b.isNaN() {
		return propagateNaN(a, b)
	}
	var exc uint16
	if a.isDenormal() || b.isDenormal() {
		exc |= feDE
	}
	neg := a.neg() != b.neg()
	switch {
	case a.isInf() || b.isInf():
		if a.isZero() || b.isZero() {
			return f80Indefinite, feIE
		}
		return f80Inf(neg), exc
	case a.isZero() || b.isZero():
		return f80Zero(neg), exc
	}
	_, ae, am := a.unpack()
	_, be, bm := b.unpack()
	hi, lo := bits.Mul64(am, bm)
	e := ae + be + 1
	if hi>>63 == 0 {
		hi, lo = shl128(hi, lo, 1)
		e--
	}
	r, e2 := round80(neg, e, hi, lo, pc, rc)
	return r, exc | e2
}

func f80Div(a, b f80, pc, rc uint16) (f80, uint16) {
	// An unsupported operand is invalid even next to a NaN.
	if a.isUnsupported() || b.isUnsupported() {
		return f80Indefinite, feIE
	}
	if a.isNaN() || b.isNaN() {
		return propagateNaN(a, b)
	}
	var exc uint16
	if a.isDenormal() || b.isDenormal() {
		exc |= feDE
	}
	neg := a.neg() != b.neg()
	switch {
	case a.isInf() && b.isInf(), a.isZero() && b.isZero():
		return f80Indefinite, feIE
	case a.isInf():
		return f80Inf(neg), exc
	case b.isInf():
		return f80Zero(neg), exc
	case b.isZero():
		return f80Inf(neg), feZE
	case a.isZero():
		return f80Zero(neg), exc
	}
	_, ae, am := a.unpack()
	_, be, bm := b.unpack()
	e := ae - be
	var nhi, nlo uint64
	if am >= bm {
		nhi, nlo = am>>1, am<<63
	} else {
		nhi, nlo = am, 0
		e--
	}
	q1, r := bits.Div64(nhi, nlo, bm)
	q2, r := bits.Div64(r, 0, bm)
	if r != 0 {
		q2 |= 1
	}
	res, e2 := round80(neg, e, q1, q2, pc, rc)
	return res, exc | e2
}

func f80Sqrt(a f80, pc, rc uint16) (f80, uint16) {
	if a.isNaN() {
		var exc uint16
		if a.isSNaN() {
			exc = feIE
		}
		return a.quiet(), exc
	}
	if a.isUnsupported() {
		return f80Indefinite, feIE
	}
	if a.isZero() {
		return a, 0
	}
	if a.neg() {
		return f80Indefinite, feIE
	}
	if a.isInf() {
		return a, 0
	}
	var exc uint16
	if a.isDenormal() {
		exc = feDE
	}
	_, e, m := a.unpack()
	E := e - 63 // value = m * 2^E
	var nhi, nlo uint64
	var k int
	if E&1 == 0 {
		nhi, nlo = m, 0 // m * 2^64
		k = (E - 64) / 2
	} else {
		nhi, nlo = m>>1, m<<63 // m * 2^63
		k = (E - 63) / 2
	}
	r := isqrt128(nhi, nlo)
	// remainder = N - r^2
	sh, sl := bits.Mul64(r, r)
	rl, b := bits.Sub64(nlo, sl, 0)
	rh, _ := bits.Sub64(nhi, sh, b)
	var lo uint64
	if rh != 0 || rl > r {
		lo = 1<<63 | 1
	} else if rl != 0 {
		lo = 1
	}
	res, e2 := round80(false, k+63, r, lo, pc, rc)
	return res, exc | e2
}

// isqrt128 returns floor(sqrt(hi:lo)) for hi:lo in [2^126, 2^128).
func isqrt128(hi, lo uint64) uint64 {
	f := math.Sqrt(float64(hi)*0x1p64 + float64(lo))
	var r uint64
	if f >= 0x1p64 {
		r = math.MaxUint64
	} else {
		r = uint64(f)
	}
	for i := 0; i < 3; i++ {
		if r == 0 || hi >= r {
			break
		}
		q, _ := bits.Div64(hi, lo, r)
		s, c := bits.Add64(r, q, 0)
		r = s>>1 | c<<63
	}
	// Fix up: r*r <= N < (r+1)^2.
	for {
		h, l := bits.Mul64(r, r)
		if h > hi || h == hi && l > lo {
			r--
			continue
		}
		break
	}
	for r != math.MaxUint64 {
		h, l := bits.Mul64(r+1, r+1)
		if h < hi || h == hi && l <= lo {
			r++
			continue
		}
		break
	}
	return r
}

// f80Cmp compares: -1, 0, 1, or 2 for unordered.
func f80Cmp(a, b f80) int {
	if a.isNaN() || b.isNaN() || a.isUnsupported() || b.isUnsupported() {
		return 2
	}
	if a.isZero() && b.isZero() {
		return 0
	}
	an, bn := a.neg(), b.neg()
	if a.isZero() {
		if bn {
			return 1
		}
		return -1
	}
	if b.isZero() {
		if an {
			return -1
		}
		return 1
	}
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	// Same sign: compare magnitudes via normalized exponent/significand.
	var ae, be int
	var am, bm uint64
	if a.isInf() {
		ae, am = 1<<20, 1<<63
	} else {
		_, ae, am = a.unpack()
	}
	if b.isInf() {
		be, bm = 1<<20, 1<<63
	} else {
		_, be, bm = b.unpack()
	}
	c := 0
	switch {
	case ae > be || ae == be && am > bm:
		c = 1
	case ae < be || ae == be && am < bm:
		c = -1
	}
	if an {
		c = -c
	}
	return c
}

// f80FromF64 converts exactly.
func f80FromF64(b uint64) (f80, uint16) {
	neg := b>>63 != 0
	e := int(b >> 52 & 0x7ff)
	frac := b & (1<<52 - 1)
	var r f80
	var exc uint16
	switch {
	case e == 0x7ff:
		r = f80{mant: 1<<63 | frac<<11, se: 0x7fff}
		if frac != 0 {
			if frac&(1<<51) == 0 {
				exc = feIE
			}
			r.mant |= 1 << 62
		}
	case e == 0 && frac == 0:
		r = f80{}
	case e == 0:
		exc = feDE
		n := bits.LeadingZeros64(frac) - 11
		r = f80{mant: frac << (11 + n), se: uint16(1 - 1023 + 16383 - n)}
	default:
		r = f80{mant: 1<<63 | frac<<11, se: uint16(e - 1023 + 16383)}
	}
	if neg {
		r.se |= 0x8000
	}
	return r, exc
}

func f80FromF32(b uint32) (f80, uint16) {
	neg := b>>31 != 0
	e := int(b >> 23 & 0xff)
	frac := uint64(b & (1<<23 - 1))
	var r f80
	var exc uint16
	switch {
	case e == 0xff:
		r = f80{mant: 1<<63 | frac<<40, se: 0x7fff}
		if frac != 0 {
			if frac&(1<<22) == 0 {
				exc = feIE
			}
			r.mant |= 1 << 62
		}
	case e == 0 && frac == 0:
	case e == 0:
		exc = feDE
		n := bits.LeadingZeros64(frac) - 40
		r = f80{mant: frac << (40 + n), se: uint16(1 - 127 + 16383 - n)}
	default:
		r = f80{mant: 1<<63 | frac<<40, se: uint16(e - 127 + 16383)}
	}
	if neg {
		r.se |= 0x8000
	}
	return r, exc
}

func f80FromInt(v int64) f80 {
	if v == 0 {
		return f80{}
	}
	neg := v < 0
	m := uint64(v)
	if neg {
		m = -m
	}
	n := bits.LeadingZeros64(m)
	r := f80{mant: m << n, se: uint16(16383 + 63 - n)}
	if neg {
		r.se |= 0x8000
	}
	return r
}

// toFloat rounds to an IEEE binary format with prec bits (24 or 53).
func (a f80) toFloat(prec, ebits int, rc uint16) (uint64, uint16) {
	bias := 1<<(ebits-1) - 1
	maxE := 1<<ebits - 1
	sign := uint64(0)
	if a.neg() {
		sign = 1 << (prec - 1 + ebits)
	}
	switch {
	case a.isUnsupported():
		// The indefinite: a negative quiet NaN.
		return 1<<(prec-1+ebits) | uint64(maxE)<<(prec-1) | 1<<(prec-2), feIE
	case a.isNaN():
		var exc uint16
		if a.isSNaN() {
			exc = feIE
		}
		return sign | uint64(maxE)<<(prec-1) | 1<<(prec-2) | (a.mant<<1)>>(64-(prec-1)), exc
	case a.isInf():
		return sign | uint64(maxE)<<(prec-1), 0
	case a.isZero():
		return sign, 0
	}
	// No #D for a denormal source: FST reports only #IA, #U, #O, #P
	// (SDM FST/FSTP), as the hardware does.
	var exc uint16
	neg, e, m := a.unpack()
	be, mm, e2 := roundPack(neg, e, m, 0, prec, bias, maxE, rc)
	exc |= e2
	if be >= maxE {
		return sign | uint64(maxE)<<(prec-1), exc
	}
	return sign | uint64(be)<<(prec-1) | mm&(1<<(prec-1)-1), exc
}

// roundToInt rounds a finite value to an integral value (FRNDINT).
func (a f80) roundToInt(rc uint16) (f80, uint16) {
	if a.isNaN() || a.isInf() || a.isZero() {
		return a, 0
	}
	neg, e, m := a.unpack()
	if e >= 63 {
		return a, 0
	}
	var intPart uint64
	var frac uint64 // fraction scaled by 2^64
	var sticky bool
	if e >= 0 {
		intPart = m >> (63 - e)
		frac = m << (e + 1)
	} else {
		sh := -e - 1 // value = m * 2^(e-63) = (m >> (sh)) * 2^-64
		if sh >= 64 {
			frac = 0
			sticky = true
		} else {
			frac = m >> sh
			sticky = m<<(64-sh) != 0 && sh > 0
		}
	}
	inexact := frac != 0 || sticky
	up := false
	switch rc {
	case 0:
		up = frac > 1<<63 || frac == 1<<63 && (sticky || intPart&1 != 0)
	case 1:
		up = neg && inexact
	case 2:
		up = !neg && inexact
	}
	if up {
		intPart++
	}
	var exc uint16
	if inexact {
		exc = fePE
	}
	if up {
		// C1 reports that the magnitude was rounded up (SDM FRNDINT and
		// FIST/FISTP: "C1 ... indicates rounding direction if #P").
		exc |= feC1
	}
	if intPart == 0 {
		return f80Zero(neg), exc
	}
	n := bits.LeadingZeros64(intPart)
	r := f80{mant: intPart << n, se: uint16(16383 + 63 - n)}
	if neg {
		r.se |= 0x8000
	}
	return r, exc
}

// toInt converts to a signed integer of size bytes (2, 4, 8) with rc;
// out of range gives the integer indefinite value and IE.
func (a f80) toInt(size int, rc uint16) (uint64, uint16) {
	indef := uint64(1) << (8*size - 1)
	if a.isNaN() || a.isInf() || a.isUnsupported() {
		return indef, feIE
	}
	r, exc := a.roundToInt(rc)
	if r.isZero() {
		return 0, exc
	}
	neg, e, m := r.unpack()
	if e > 63 || e == 63 && !(neg && m == 1<<63) {
		return indef, feIE
	}
	v := m >> (63 - e)
	lim := uint64(1) << (8*size - 1)
	if neg {
		if v > lim {
			return indef, feIE
		}
		return -v & sizeMask[size], exc
	}
	if v >= lim {
		return indef, feIE
	}
	return v, exc
}
