package machine

import (
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// Fast paths for the x87 transcendental instructions: the same correctly
// rounded results as the multi-precision code (x87_trans.go,
// x87_bigmath.go), without allocating, for all but a vanishing fraction of
// the finite in-domain operands. Special operands (zeros, infinities,
// NaNs, unsupported encodings, out-of-range arguments, and the tiny ones
// handled as x(1 ± tiny)) keep their code in x87_trans.go, which does not
// allocate either; only the rounding of an undecided value does.
//
// Each function is evaluated in xf, a binary floating point format with a
// 128-bit significand, and the approximation is rounded directly when the
// whole interval it is known to lie in rounds to the same f80 (Ziv's
// rounding test, xfRound). Otherwise the caller falls back to the exact
// path, which is also where exact results (whose approximations always lie
// within the error bound of a rounding boundary) end up.
//
// Error analysis. Write u = 2^-126. xfMul, xfAdd and the constants return
// their exact value times (1+δ) with |δ| <= u, xfDiv with |δ| < 8u:
//   - xfMul computes the top 192 bits of the 256-bit product exactly and
//     truncates to 128 bits: |δ| < 2^-127.
//   - xfAdd aligns the smaller operand into a 192-bit window (truncating
//     what falls below it) and truncates the normalized sum to 128 bits.
//     An exponent difference of at most 1 loses nothing in the window (the
//     only case with cancellation); a larger one leaves a result of at
//     least half the larger operand, so the window's loss is below 2^-190
//     relative and the final truncation dominates: |δ| < 2^-127 + 2^-190.
//   - constants (from math/big, truncated) carry |δ| < 2^-127.
//   - xfDiv multiplies by a reciprocal from a 64-bit estimate and one
//     Newton step; its error is argued at xfRecip: |δ| < 8u.
//
// Polynomials are evaluated in fx, 128-bit fixed point (fxPoly), where
// the error is absolute: below (2.5n+3.5)u for n+1 coefficients (see
// fxPoly); every polynomial here has a value of at least 1/2, which turns
// that into a relative bound.
//
// Each evaluation below argues a relative error bound for its result; all
// are below 2^8 u = 2^-118 (the largest is F2XM1's, 168u), and xfRound is
// called with the uniform bound 2^-112 (fastErrBits), a margin of a factor
// 64.

// u in the comments is 2^-126; fastErrBits is the relative error bound, in
// bits, that every fast evaluation guarantees.
const fastErrBits = 112

// xf is the value (-1)^neg * (hi:lo) * 2^(e-127), where hi:lo is a 128-bit
// significand with bit 127 set, so that the leading bit has weight 2^e; or
// zero when hi is 0.
type xf struct {
	hi, lo uint64
	e      int
	neg    bool
}

var xfOne = xf{hi: 1 << 63}

func (a xf) isZero() bool { return a.hi == 0 }
func (a xf) chs() xf      { a.neg = !a.neg; return a }

// xfFromF80 converts a finite nonzero f80 exactly.
func xfFromF80(x f80) xf {
	neg, e, m := x.unpack()
	return xf{hi: m, e: e, neg: neg}
}

// xfFromInt converts v exactly.
func xfFromInt(v int64) xf {
	neg := v < 0
	m := uint64(v)
	if neg {
		m = -m
	}
	return xfNorm(neg, 63+128, 0, 0, m)
}

// xfNorm normalizes the 192-bit magnitude w2:w1:w0 whose bit 191 has
// weight 2^e, truncating to 128 bits.
func xfNorm(neg bool, e int, w2, w1, w0 uint64) xf {
	if w2 == 0 {
		if w1 == 0 {
			if w0 == 0 {
				return xf{}
			}
			w2, w1, w0, e = w0, 0, 0, e-128
		} else {
			w2, w1, w0, e = w1, w0, 0, e-64
		}
	}
	n := uint(bits.LeadingZeros64(w2))
	// Go defines shifts by 64 as giving 0, so n == 0 needs no branch.
	w2 = w2<<n | w1>>(64-n)
	w1 = w1<<n | w0>>(64-n)
	return xf{hi: w2, lo: w1, e: e - int(n), neg: neg}
}

// xfMul returns a*b (|δ| < 2^-127).
func xfMul(a, b xf) xf {
	if a.hi == 0 || b.hi == 0 {
		return xf{}
	}
	h11, l11 := bits.Mul64(a.hi, b.hi)
	h10, l10 := bits.Mul64(a.hi, b.lo)
	h01, l01 := bits.Mul64(a.lo, b.hi)
	h00, _ := bits.Mul64(a.lo, b.lo)
	// The product is p3:p2:p1:p0; p0 (the low half of lo*lo) is not
	// needed, everything above it is summed exactly.
	p1, c1 := bits.Add64(l10, l01, 0)
	p1, c2 := bits.Add64(p1, h00, 0)
	p2, k1 := bits.Add64(l11, h10, 0)
	p2, k2 := bits.Add64(p2, h01, 0)
	p2, k3 := bits.Add64(p2, c1+c2, 0)
	p3 := h11 + k1 + k2 + k3
	// a*b = (p3:p2:p1:p0) * 2^(a.e+b.e-254): bit 255 has weight
	// 2^(a.e+b.e+1), and it or bit 254 (the product of two significands
	// in [2^127, 2^128)) is the leading bit.
	e := a.e + b.e + 1
	if p3>>63 == 0 {
		p3, p2 = p3<<1|p2>>63, p2<<1|p1>>63
		e--
	}
	return xf{hi: p3, lo: p2, e: e, neg: a.neg != b.neg}
}

// shr192 shifts w2:w1:w0 right by d >= 0, discarding the bits shifted out.
func shr192(w2, w1, w0 uint64, d int) (uint64, uint64, uint64) {
	switch {
	case d >= 192:
		return 0, 0, 0
	case d >= 128:
		w2, w1, w0 = 0, 0, w2
		d -= 128
	case d >= 64:
		w2, w1, w0 = 0, w2, w1
		d -= 64
	}
	s := uint(d)
	w0 = w0>>s | w1<<(64-s)
	w1 = w1>>s | w2<<(64-s)
	w2 >>= s
	return w2, w1, w0
}

// xfAdd returns a+b (|δ| < 2^-127 + 2^-190; see the package comment).
func xfAdd(a, b xf) xf {
	if a.hi == 0 {
		return b
	}
	if b.hi == 0 {
		return a
	}
	if b.e > a.e || b.e == a.e && (b.hi > a.hi || b.hi == a.hi && b.lo > a.lo) {
		a, b = b, a
	}
	b2, b1, b0 := shr192(b.hi, b.lo, 0, a.e-b.e)
	if a.neg == b.neg {
		s1, c := bits.Add64(a.lo, b1, 0)
		s2, c := bits.Add64(a.hi, b2, c)
		if c != 0 {
			return xfNorm(a.neg, a.e+1, 1<<63|s2>>1, s2<<63|s1>>1, s1<<63|b0>>1)
		}
		return xfNorm(a.neg, a.e, s2, s1, b0)
	}
	// |a| >= |b|.
	s0, bw := bits.Sub64(0, b0, 0)
	s1, bw := bits.Sub64(a.lo, b1, bw)
	s2, _ := bits.Sub64(a.hi, b2, bw)
	return xfNorm(a.neg, a.e, s2, s1, s0)
}

// xfSub returns a-b.
func xfSub(a, b xf) xf { return xfAdd(a, b.chs()) }

// xfRecip returns 1/b for a nonzero b with a relative error below 7u, and
// zero for a zero b.
//
// With b = bm * 2^b.e, bm = B/2^127 in [1, 2) (B the 128-bit significand),
// the estimate r0 = q0/2^64, q0 = floor((2^127-1)/b.hi), is within 2^-62
// of 1/bm relatively: B/2^64 lies in [b.hi, b.hi+1) (2^-63 relatively),
// and the floor and the -1 lose less than 1.01 of q0 >= 2^63-1. A Newton
// step r1 = r0 + r0(1 - bm r0) squares the relative error (2^-124 = 4u),
// and adds rounding: bm r0 has |δ| < u, 1 - bm r0 is then computed exactly
// (exponent difference 0 or 1) with an absolute error below 1.01u,
// r0(1 - bm r0) is below 2^-61 and adds u times that, and the final
// addition adds u: below 4u + 2.1u < 7u.
func xfRecip(b xf) xf {
	if b.hi == 0 {
		return xf{} // no caller divides by zero; xfRound refuses a zero
	}
	q0, _ := bits.Div64(1<<63-1, ^uint64(0), b.hi) // b.hi >= 2^63 > the high word
	r := xfNorm(false, 63, 0, q0, 0)
	bm := xf{hi: b.hi, lo: b.lo}
	r = xfAdd(r, xfMul(r, xfSub(xfOne, xfMul(bm, r))))
	r.e -= b.e
	r.neg = b.neg
	return r
}

// xfDiv returns a/b for a nonzero b (relative error below 7u + u = 8u);
// zero for a zero b.
func xfDiv(a, b xf) xf { return xfMul(a, xfRecip(b)) }

// fx is a fixed-point number: the two's complement 128-bit integer hi:lo
// times 2^-126, so its range is [-2, 2). Polynomials with a bounded
// argument and bounded partial sums are evaluated in it: an addition is
// exact and a multiplication needs no normalization.
type fx struct{ hi, lo uint64 }

func (a fx) isNeg() bool { return int64(a.hi) < 0 }

func (a fx) negate() fx {
	lo, b := bits.Sub64(0, a.lo, 0)
	hi, _ := bits.Sub64(0, a.hi, b)
	return fx{hi, lo}
}

// fxFromXf converts a with |a| < 2 (a.e <= 0), truncating its magnitude:
// the error is below 2^-126 = u.
func fxFromXf(a xf) fx {
	if a.hi == 0 {
		return fx{}
	}
	// |a| * 2^126 = hi:lo * 2^(e-1).
	hi, lo := a.hi, a.lo
	switch s := 1 - a.e; {
	case s >= 128:
		return fx{}
	case s >= 64:
		hi, lo = 0, hi>>uint(s-64)
	default:
		hi, lo = hi>>uint(s), lo>>uint(s)|hi<<uint(64-s)
	}
	r := fx{hi, lo}
	if a.neg {
		r = r.negate()
	}
	return r
}

// xf converts a exactly.
func (a fx) xf() xf {
	neg := a.isNeg()
	if neg {
		a = a.negate()
	}
	// The value is hi:lo * 2^-126: bit 191 of hi:lo:0 has weight 2^1.
	return xfNorm(neg, 1, a.hi, a.lo, 0)
}

// fxPoly returns c[0] + z*(c[1] + z*(c[2] + ...)) by Horner's rule, for
// |z| <= 1 and partial sums Σ_{i>=k} c[i] z^(i-k) within (-2, 2).
//
// Error, absolute: with n = len(c)-1, each coefficient carries below 1.5u
// (the xf constant 2^-127 relatively, of a value below 1, and the
// conversion u), each multiplication u, the additions nothing. An error
// in a partial sum is multiplied by |z| <= 1 at each later step, so they
// add up to at most 1.5u + 2.5n u. An error ε in z itself moves the value
// by at most max|P'| ε; for every polynomial here |P'| < 1 on the
// arguments used, and ε < 2u (a conversion u, plus, for an xf square
// below 1 with relative error below 19u and a value below 1/32 or with
// relative error u, below u). Total: below (2.5n + 3.5)u.
//
// Each step multiplies the magnitudes of r and z (|r*z| < 2), truncating
// the 256-bit product to the 126 fraction bits (an error below u), applies
// the sign, and adds c[i] in two's complement (exactly).
func fxPoly(z fx, c []fx) fx {
	zneg := z.isNeg()
	if zneg {
		z = z.negate()
	}
	rh, rl := c[len(c)-1].hi, c[len(c)-1].lo
	for i := len(c) - 2; i >= 0; i-- {
		neg := zneg
		if int64(rh) < 0 {
			neg = !neg
			var b uint64
			rl, b = bits.Sub64(0, rl, 0)
			rh, _ = bits.Sub64(0, rh, b)
		}
		h11, l11 := bits.Mul64(rh, z.hi)
		h10, l10 := bits.Mul64(rh, z.lo)
		h01, l01 := bits.Mul64(rl, z.hi)
		h00, _ := bits.Mul64(rl, z.lo)
		p1, c1 := bits.Add64(l10, l01, 0)
		p1, c2 := bits.Add64(p1, h00, 0)
		p2, k1 := bits.Add64(l11, h10, 0)
		p2, k2 := bits.Add64(p2, h01, 0)
		p2, k3 := bits.Add64(p2, c1+c2, 0)
		p3 := h11 + k1 + k2 + k3
		rh, rl = p3<<2|p2>>62, p2<<2|p1>>62
		if neg {
			var b uint64
			rl, b = bits.Sub64(0, rl, 0)
			rh, _ = bits.Sub64(0, rh, b)
		}
		var cy uint64
		rl, cy = bits.Add64(rl, c[i].lo, 0)
		rh, _ = bits.Add64(rh, c[i].hi, cy)
	}
	return fx{rh, rl}
}

// xfPoly evaluates fxPoly at z (|z| <= 1) and returns the result as an xf.
func xfPoly(z xf, c []fx) xf { return fxPoly(fxFromXf(z), c).xf() }

// fastDelta is the distance, in units of the last place of the 128-bit
// significand, that the approximation keeps from a rounding boundary: a
// relative error below 2^-fastErrBits is below 2^(128-fastErrBits) units
// (the value is below 2^128 units), and one more bit gives the strict
// inequality room.
const fastDelta = 1 << (128 - fastErrBits + 1)

// xfRound rounds the approximation v of a value with a relative error
// below 2^-fastErrBits to an f80 with rounding mode rc, when it can decide
// the rounding of the exact value: that value is then not representable
// (so #P, and #U for a denormal result, as round80 reports it for either
// value). ok is false otherwise.
//
// The rounding boundaries of all four modes are the f80 values and the
// midpoints between them. For a normal result those are where the low 64
// bits of the 128-bit significand are 0 or 1<<63; for a denormal one,
// with sh = -16382 - v.e bits fewer, where the low 64+sh bits are 0 or
// 1<<(63+sh). When those bits are at least fastDelta away from both,
// every value within the error bound of v lies strictly between the same
// two boundaries: it rounds to the same result with the same C1, and is
// tiny exactly when v is (crossing 2^-16382 would cross a boundary). A v
// at least 2^16384 is above the largest finite value (2^16384 - 2^16320)
// with every value within its error bound, so both overflow alike; results
// below 2^-16444 (sh > 62) are left to the exact path.
func xfRound(v xf, rc uint16) (f80, uint16, bool) {
	if v.hi == 0 {
		return f80{}, 0, false
	}
	switch sh := -16382 - v.e; {
	case v.e >= 16384:
	case sh <= 0:
		low := v.lo &^ (1 << 63)
		if low < fastDelta || low > 1<<63-fastDelta {
			return f80{}, 0, false
		}
	case sh <= 62:
		// The low 63+sh bits: mhi:lo.
		mask := uint64(1)<<uint(sh-1) - 1
		mhi := v.hi & mask
		if mhi == 0 && v.lo < fastDelta || mhi == mask && v.lo > ^uint64(0)-fastDelta {
			return f80{}, 0, false
		}
	default:
		return f80{}, 0, false
	}
	r, exc := round80(v.neg, v.e, v.hi, v.lo, 3, rc)
	return r, exc, true
}

// Constants of the fast paths, computed once with math/big. The
// polynomial coefficients are all below 1 in magnitude.
var (
	fastOnce    sync.Once
	fastPi      xf     // π
	fastPiHalf  xf     // π/2
	fastLog2e   xf     // 1/ln 2
	fastExp2    [14]fx // ln(2)^(k+1) / (k+1)!: 2^x - 1 = x * Σ c[k] x^k
	fastPow2    [65]xf // 2^(j/32) for j = -32..32 (index j+32)
	fastPow2m1  [65]xf // 2^(j/32) - 1
	fastLnTab   [92]xf // ln(j/64) for j = 45..91
	fastSin     [7]fx  // (-1)^k / (2k+1)!: sin d = d * Σ c[k] d^2k
	fastCos     [7]fx  // (-1)^k / (2k)!: cos d = Σ c[k] d^2k
	fastSinTab  [51]xf // sin(j/64)
	fastCosTab  [51]xf // cos(j/64)
	fastAtanh   [9]fx  // 1/(2k+1): atanh s = s * Σ c[k] s^2k
	fastAtan    [14]fx // (-1)^k/(2k+1): atan u = u * Σ c[k] u^2k
	fastAtanTab [17]xf // atan(j/16)
)

// xfFromBig converts a finite nonzero big.Float, truncating to 128 bits.
func xfFromBig(f *big.Float) xf {
	m := new(big.Float)
	e := f.MantExp(m) // |m| in [0.5, 1)
	m.Abs(m)
	m.SetMantExp(m, 128)
	i, _ := m.Int(nil)
	var buf [16]byte
	i.FillBytes(buf[:])
	hi, lo := uint64(0), uint64(0)
	for k := 0; k < 8; k++ {
		hi = hi<<8 | uint64(buf[k])
		lo = lo<<8 | uint64(buf[8+k])
	}
	return xf{hi: hi, lo: lo, e: e - 1, neg: f.Signbit()}
}

// fxCoef converts a coefficient (-1)^neg * f, |f| < 1.
func fxCoef(f *big.Float, neg bool) fx {
	v := xfFromBig(f)
	v.neg = neg
	return fxFromXf(v)
}

func fastConsts() {
	fastOnce.Do(func() {
		const p = 256
		one := bigInt(1, p)
		fastPi = xfFromBig(piBig(p))
		fastPiHalf = fastPi
		fastPiHalf.e--
		l2 := ln2(p)
		fastLog2e = xfFromBig(new(big.Float).SetPrec(p).Quo(one, l2))
		fact := bigInt(1, p)  // k!
		power := bigInt(1, p) // ln(2)^k
		fastCos[0] = fxFromXf(xfOne)
		for k := 1; k <= max(2*len(fastSin), 2*len(fastCos), len(fastExp2)); k++ {
			fact.Mul(fact, bigInt(int64(k), p))
			power.Mul(power, l2)
			inv := new(big.Float).SetPrec(p).Quo(one, fact)
			i := k / 2
			if k&1 == 0 && i < len(fastCos) {
				fastCos[i] = fxCoef(inv, i&1 != 0)
			}
			if k&1 == 1 && i < len(fastSin) {
				fastSin[i] = fxCoef(inv, i&1 != 0)
			}
			if k-1 < len(fastExp2) {
				fastExp2[k-1] = fxCoef(inv.Mul(inv, power), false)
			}
		}
		for k := 0; k < max(len(fastAtanh), len(fastAtan)); k++ {
			c := new(big.Float).SetPrec(p).Quo(one, bigInt(int64(2*k+1), p))
			if k < len(fastAtanh) {
				fastAtanh[k] = fxCoef(c, false)
			}
			if k < len(fastAtan) {
				fastAtan[k] = fxCoef(c, k&1 != 0)
			}
		}
		for j := -32; j <= 32; j++ {
			if j == 0 {
				fastPow2[32] = xfOne
				continue
			}
			t := new(big.Float).SetPrec(p).Mul(l2, bigInt(int64(j), p))
			t.SetMantExp(t, -5)
			m1 := bigExpm1(t, p)
			fastPow2m1[j+32] = xfFromBig(m1)
			fastPow2[j+32] = xfFromBig(m1.Add(m1, one))
		}
		for j := 45; j < len(fastLnTab); j++ {
			if j != 64 {
				fastLnTab[j] = xfFromBig(lnNear1(new(big.Float).SetPrec(p).Quo(bigInt(int64(j), p), bigInt(64, p)), p))
			}
		}
		fastCosTab[0] = xfOne
		for j := 1; j < len(fastSinTab); j++ {
			t := new(big.Float).SetPrec(p).Quo(bigInt(int64(j), p), bigInt(64, p))
			fastSinTab[j] = xfFromBig(bigSinOrCos(t, p, false))
			fastCosTab[j] = xfFromBig(bigSinOrCos(t, p, true))
		}
		for j := 1; j < len(fastAtanTab); j++ {
			t := new(big.Float).SetPrec(p).Quo(bigInt(int64(j), p), bigInt(16, p))
			fastAtanTab[j] = xfFromBig(bigAtan(t, p))
		}
	})
}

// fastF2xm1 approximates 2^x - 1 for a finite nonzero x with |x| < 1,
// with a relative error below 190u.
//
// With j = round(32x) and d = x - j/32 (exact: x has 64 bits, j/32 six,
// and their exponents are close), |d| <= 1/64 and 2^x - 1 = (2^(j/32) - 1)
// + 2^(j/32) (2^d - 1), from the tables. 2^d - 1 = d * P(d), P(d) =
// Σ_{k<14} ln(2)^(k+1)/(k+1)! d^k: the omitted tail is below 2^-84 *
// 0.7^15/15! < 2^-132, and P(d) = (2^d-1)/d >= 0.689 on [-1/64, 1/64], so
// the truncation is below 2^-131 relatively. P's partial sums are below
// 0.7 and |P'| < 0.25, d converts to fx exactly (|d| >= 2^-64) or with an
// error below u: fxPoly's error is below (2.5*13 + 3.5)u = 36u, 52.3u
// relatively; times d: 53.3u. For j = 0 (|x| <= 1/64, d = x) that is the
// result. Otherwise the product with 2^(j/32) (u/2) adds 1.5u, and the sum
// with 2^(j/32) - 1 (u/2) may cancel partly, but the sum of the terms'
// magnitudes is at most 3.03 times the result (the worst case is j = ±1,
// |d| = 1/64; checked over all j): 3.03 * 54.8u + u < 168u.
func fastF2xm1(x f80) xf {
	fastConsts()
	xv := xfFromF80(x)
	neg, e, m := x.unpack()
	j := 0
	if e >= -6 {
		// floor(64|x|) = m >> (57-e); j = round(32|x|), ties away.
		j = int((m>>uint(57-e) + 1) >> 1)
		if neg {
			j = -j
		}
	}
	if j == 0 {
		return xfMul(xv, xfPoly(xv, fastExp2[:]))
	}
	c := xfFromInt(int64(j))
	c.e -= 5
	d := xfSub(xv, c)
	em1 := xfMul(d, xfPoly(d, fastExp2[:]))
	return xfAdd(fastPow2m1[j+32], xfMul(fastPow2[j+32], em1))
}

// sqrt2Sig is √2 * 2^63 rounded down: significands above it are halved
// so that log arguments lie in [√2/2, √2] (to within 2^-63).
const sqrt2Sig = 0xB504F333F9DE6484

// xfLn returns ln(m) for m in [√2/2, √2] (up to 2^-63; m has at most 128
// significant bits and exponent -1 or 0), with a relative error below
// 104u.
//
// With c = j/64 nearest m (j in [45, 91]), ln m = ln c + 2 atanh(s), s =
// (m-c)/(m+c), |s| <= (1/128)/(m+c) < 0.005525, s² < 2^-14.99. m-c is
// exact (at most 128 + 7 bits, exponents at most one apart); m+c has
// |δ| < u; the division adds 8u: s is within 9u. atanh s = s * A(s²), A =
// Σ_{k<9} s^2k/(2k+1): the omitted tail is below 2^-134.9/19 < 2^-139,
// with A >= 1 (all terms positive), A' < 0.34, s² carrying 19u of a value
// below 2^-14: fxPoly's error is below (2.5*8 + 3.5)u = 23.5u. 2 s A:
// 9u + 23.5u + u; the doubling is exact. For j = 64 (c = 1) that is ln m.
// Otherwise the sum with the table's ln c (u/2) may cancel partly, but the
// sum of the terms' magnitudes is at most 3.02 times |ln m| (the worst
// cases are j = 63 and 65, |m - c| = 1/128; checked over all j): 3.02 *
// 33.5u + u < 103u.
func xfLn(m xf) xf {
	// floor(128m) = hi >> (56-e); j = round(64m).
	j := int((m.hi>>uint(56-m.e) + 1) >> 1)
	c := xfFromInt(int64(j))
	c.e -= 6
	s := xfDiv(xfSub(m, c), xfAdd(m, c))
	a := xfMul(s, xfPoly(xfMul(s, s), fastAtanh[:]))
	a.e++
	if j == 64 {
		return a
	}
	return xfAdd(fastLnTab[j], a)
}

// xfLog2 returns log2(z) for a positive z (relative error below 105u).
//
// z = m * 2^k with m in [√2/2, √2]: log2 z = k + ln(m)/ln 2. ln m has 103u
// (xfLn), times the constant 1/ln 2 (u/2) adds 1.5u. For k = 0 that is
// the result. Otherwise |k| >= 1 > 2 |log2 m|, so the terms cannot cancel:
// the result is at least half of |k| and at least twice |log2 m|, and the
// errors (104.5u of |log2 m|, plus u of the sum) stay below 54u relative
// to it.
func xfLog2(z xf) xf {
	k := z.e
	m := xf{hi: z.hi, lo: z.lo}
	if z.hi > sqrt2Sig {
		m.e = -1
		k++
	}
	l := xfMul(xfLn(m), fastLog2e)
	if k == 0 {
		return l
	}
	return xfAdd(xfFromInt(int64(k)), l)
}

// fastFyl2x approximates y * log2(x) for a finite positive x and a finite
// nonzero y: 105u (xfLog2) + u.
func fastFyl2x(x, y f80) xf {
	fastConsts()
	return xfMul(xfFromF80(y), xfLog2(xfFromF80(x)))
}

// fastFyl2xp1 approximates y * log2(1 + x) for finite nonzero x > -1 and
// y, with a relative error below 107u.
//
// For |x| >= 2^-64, 1+x is exact up to |x| < 2^127 (its bits span at most
// 128 places), beyond which its |δ| < u moves log2 by 1.5u absolutely,
// against log2(1+x) > 127: xfLog2's 105u and y's u. For |x| < 2^-64:
// ln(1+x) = 2 atanh(s), s = x/(2+x), with 2+x within u and s within 9u as
// in xfLn (s² < 2^-128, so the bounds of xfLn's series hold with room):
// 33.5u, times 1/ln 2 and y: 36u.
func fastFyl2xp1(x, y f80) xf {
	fastConsts()
	xv := xfFromF80(x)
	var l xf
	if xv.e < -64 {
		two := xf{hi: 1 << 63, e: 1}
		s := xfDiv(xv, xfAdd(two, xv))
		l = xfMul(s, xfPoly(xfMul(s, s), fastAtanh[:]))
		l.e++
		l = xfMul(l, fastLog2e)
	} else {
		l = xfLog2(xfAdd(xfOne, xv))
	}
	return xfMul(xfFromF80(y), l)
}

// fastFpatan approximates atan2(y, x) for finite nonzero x and y, with a
// relative error below 60u.
//
// With t = min(|x|,|y|)/max(|x|,|y|) in (0, 1], atan t = atan c + atan u
// for c = j/16 nearest t (found from a float64 estimate of t, so |t - c|
// <= 1/32 + 2^-50) and u = (t-c)/(1+tc) = (b - c*a)/(a + c*b), where b/a
// is the ratio t. c*a and c*b are exact (j has 5 bits, a and b 64), b -
// c*a is exact (the operands have at most 69 bits and exponents at most
// two apart, as t/c is in [1/2, 3/2] up to 2^-50 when c != 0; when c = 0
// it is b itself), a + c*b carries u and the division 8u: u is within 9u
// relatively, and |u| <= 1/31. atan u = u * Σ_{k<14} (-1)^k u^2k/(2k+1):
// the omitted tail is below (1/31)^28/29 < 2^-143; the polynomial is at
// least 0.999, its partial sums below 1 and its derivative below 1/3, u²
// carries 19u of a value below 2^-9: fxPoly's error is below (2.5*13 +
// 3.5)u = 36u, 36.1u relatively; times u and its 9u: under 47u. When c =
// 0 that is atan t. Otherwise the table value atan c (u/2) is at least
// atan(1/16) > 1.93 |atan u| for |u| <= 1/31, so the sum does not cancel:
// it is at least 0.483 atan c, and the errors, 47u of |atan u| <= 0.517
// atan c and u/2 of atan c, plus u of the sum, stay below (47*0.517 +
// 0.5)/0.483 + 1 < 53.4u.
//
// The quadrant corrections π/2 - a (a <= π/4, so the result R is at least
// π/4 and at least a) and π - a (a <= π/2: R >= π/2, R >= a) keep a's
// error relative to R and add u/2 * π/2 <= u R (the constant) and u R
// (the subtraction) each: below 53.4u + 2u + 2u < 60u in all.
func fastFpatan(x, y f80) xf {
	fastConsts()
	a, b := xfFromF80(x), xfFromF80(y)
	a.neg, b.neg = false, false
	swap := b.e > a.e || b.e == a.e && b.hi > a.hi
	if swap {
		a, b = b, a
	}
	// t = b/a <= 1; the float64 estimate only picks the table entry. Any
	// j within 1/2 + 2^-50 of 16t keeps the bounds above, and the result
	// is the correctly rounded value whichever j it is (or the exact path
	// runs), so the details of float64 evaluation on the host (such as
	// fused multiply-adds) cannot reach the guest.
	tf := math.Ldexp(float64(b.hi>>11)/float64(a.hi>>11), b.e-a.e)
	j := int(tf*16 + 0.5)
	if j > 16 {
		j = 16
	}
	var at xf
	if j == 0 {
		u := xfDiv(b, a)
		at = xfMul(u, xfPoly(xfMul(u, u), fastAtan[:]))
	} else {
		c := xfFromInt(int64(j))
		c.e -= 4
		u := xfDiv(xfSub(b, xfMul(c, a)), xfAdd(a, xfMul(c, b)))
		at = xfAdd(fastAtanTab[j], xfMul(u, xfPoly(xfMul(u, u), fastAtan[:])))
	}
	if swap {
		at = xfSub(fastPiHalf, at)
	}
	if x.neg() {
		at = xfSub(fastPi, at)
	}
	at.neg = y.neg()
	return at
}

// reducePiHi and reducePiLo are reducePi (x87_trans.go) as two words.
const (
	reducePiHi = 0xC
	reducePiLo = 0x90FDAA22168C234C
)

// fastTrigReduce is trigReduce without allocation: the quadrant and
// r = x - k*P/2, exactly, for a finite nonzero x with |x| < 2^63.
func fastTrigReduce(x f80) (quad int, r xf) {
	neg, e, m := x.unpack()
	if e < -1 {
		return 0, xf{hi: m, e: e, neg: neg}
	}
	// X = x * 2^67 = m << (e+4), below 2^130; k = round(X / reducePi).
	s := uint(e + 4)
	var x2, x1, x0 uint64
	if s >= 64 {
		x2, x1 = m>>(128-s), m<<(s-64)
	} else {
		x1, x0 = m>>(64-s), m<<s
	}
	// k0 = floor(floor(X/16) / d), d = floor(reducePi/16) + 1, so 16d =
	// reducePi + 4, underestimates the quotient q = floor(X/reducePi) by
	// at most q*4/reducePi + 1 + 1/d < 2 (q < 2^63, reducePi > 2^67), so
	// at most two subtractions of reducePi finish the division. Div64 needs
	// the high word below the divisor: X/16 < 2^126, its high word < 2^62.
	d := uint64(reducePiHi<<60|reducePiLo>>4) + 1
	k, _ := bits.Div64(x2<<60|x1>>4, x1<<60|x0>>4, d)
	// X -= k*reducePi.
	ph, pl := bits.Mul64(k, reducePiLo)
	p2, p1 := bits.Mul64(k, reducePiHi)
	p1, c := bits.Add64(p1, ph, 0)
	p2 += c
	var bw uint64
	x0, bw = bits.Sub64(x0, pl, 0)
	x1, bw = bits.Sub64(x1, p1, bw)
	x2, _ = bits.Sub64(x2, p2, bw)
	for i := 0; i < 3 && (x2 != 0 || x1 > reducePiHi || x1 == reducePiHi && x0 >= reducePiLo); i++ {
		x0, bw = bits.Sub64(x0, reducePiLo, 0)
		x1, bw = bits.Sub64(x1, reducePiHi, bw)
		x2, _ = bits.Sub64(x2, 0, bw)
		k++
	}
	// The remainder x1:x0 is below reducePi < 2^68; round k to nearest.
	rneg := false
	t1, t0 := x1<<1|x0>>63, x0<<1
	if t1 > reducePiHi || t1 == reducePiHi && t0 >= reducePiLo {
		k++
		var bw uint64
		x0, bw = bits.Sub64(reducePiLo, x0, 0)
		x1, _ = bits.Sub64(reducePiHi, x1, bw)
		rneg = true
	}
	quad = int(k & 3)
	// r = remainder * 2^-67: bit 191 of 0:x1:x0 has weight 2^124.
	r = xfNorm(rneg, 124, 0, x1, x0)
	if neg {
		r = r.chs()
		quad = (4 - quad) & 3
	}
	return quad, r
}

// xfSinCos returns sin r and cos r for |r| <= 0.786 (the reduced
// arguments are within P/4 < π/4), with relative errors below 65u and 23u.
//
// With c = j/64 nearest |r| (with r's sign) and d = r - c (exact: r has at
// most 68 bits, c six, and r/c is within [1/2, 3/2]), |d| <= 1/128 and
// sin r = sin c cos d + cos c sin d, cos r = cos c cos d - sin c sin d,
// with sin c and cos c from the tables. sin d = d * Sd(d²), cos d =
// Cd(d²), Sd = Σ_{k<7} (-1)^k d^2k/(2k+1)!, Cd = Σ_{k<7} (-1)^k
// d^2k/(2k)!: the omitted tails are below 2^-138 and 2^-134, both
// polynomials are within 2^-15 of 1 with partial sums below 1 and
// derivatives below 1/2, and d² (relative error u) is below 2^-14:
// fxPoly's errors are below (2.5*6 + 3.5)u = 18.5u, 18.6u relatively; sin
// d: 19.6u (d is exact), cos d: 18.6u. For j = 0 these are the results.
// Otherwise each product with a table value (u/2) adds 1.5u: 21.1u and
// 20.1u, and the sums may cancel partly, but the sum of the terms'
// magnitudes is at most 3.0 times |sin r| and 1.02 times cos r (worst
// cases j = 1 and |d| = 1/128; checked over all j): 3.0 * 21.1u + u < 65u
// and 1.02 * 21.1u + u < 23u.
func xfSinCos(r xf) (sin, cos xf) {
	j := 0
	if r.e >= -7 {
		// floor(128|r|) = hi >> (56-e); j = round(64|r|).
		j = int((r.hi>>uint(56-r.e) + 1) >> 1)
	}
	d := r
	if j != 0 {
		c := xfFromInt(int64(j))
		c.e -= 6
		c.neg = r.neg
		d = xfSub(r, c)
	}
	z := fxFromXf(xfMul(d, d))
	sd := xfMul(d, fxPoly(z, fastSin[:]).xf())
	cd := fxPoly(z, fastCos[:]).xf()
	if j == 0 {
		return sd, cd
	}
	sc, cc := fastSinTab[j], fastCosTab[j]
	sc.neg = r.neg
	sin = xfAdd(xfMul(sc, cd), xfMul(cc, sd))
	cos = xfSub(xfMul(cc, cd), xfMul(sc, sd))
	return sin, cos
}

// fastSinCos approximates sin x and cos x for a finite nonzero x with
// |x| < 2^63 from its reduction (fastTrigReduce: the quadrant and the
// exact r = x - k*P/2): below 65u each (xfSinCos).
func fastSinCos(quad int, r xf) (sin, cos xf) {
	fastConsts()
	s, c := xfSinCos(r)
	switch quad {
	case 1: // sin(r + π/2) = cos r, cos(r + π/2) = -sin r
		return c, s.chs()
	case 2:
		return s.chs(), c.chs()
	case 3:
		return c.chs(), s
	}
	return s, c
}

// fastTan approximates tan x as fastSinCos does sin and cos: 65u + 23u +
// 8u = 96u.
func fastTan(quad int, r xf) xf {
	fastConsts()
	s, c := xfSinCos(r)
	if quad&1 != 0 {
		// tan(r + π/2) = -cos r / sin r.
		return xfDiv(c, s).chs()
	}
	return xfDiv(s, c)
}
