package machine

import (
	"encoding/binary"
	"math/big"
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// The x87 transcendental instructions (F2XM1, FYL2X, FYL2XP1, FPTAN,
// FPATAN, FSIN, FCOS, FSINCOS), computed in multi-precision arithmetic
// (x87_bigmath.go) and rounded once to the 64-bit significand in the
// control word's rounding mode. x87_fast.go gives the same results from
// 128-bit arithmetic without allocating whenever its error bound decides
// the rounding (almost always); the multi-precision code is the fallback
// and the reference its tests compare with. The precision control does
// not apply to them (SDM Vol. 1, 8.1.5.2: it affects only add, subtract,
// multiply, divide and square root). The results are the correctly
// rounded values of the functions below, which is what the hardware
// delivers in all but a few per cent of cases (its own results are not
// always correctly rounded; see diff_x87_test.go for the measured
// agreement).
//
// Where the hardware deviates from the mathematical function in a
// documented or reproducible way, the deviation is modelled:
//   - FSIN, FCOS, FSINCOS and FPTAN reduce their argument with a 66-bit
//     approximation of π (SDM Vol. 1, 8.3.10, "Transcendental Instruction
//     Accuracy"): the result is f(x - k*P/2) for P = 0xC90FDAA22168C234C /
//     2^66, with the reduction done exactly. |x| >= 2^63 sets C2 and leaves
//     the operand alone.
//   - F2XM1 outside [-1, 1] is undefined in the SDM; AMD processors return
//     the operand with #P (and -1 for -∞), and treat ±1 as inexact.
//   - FYL2X of an exact power of two reports #P, as the hardware does.

// reducePi is the 68-bit significand of the hardware's π (66 bits of π
// followed by two zero bits): π ≈ reducePi * 2^-66.
var reducePi, _ = new(big.Int).SetString("C90FDAA22168C234C", 16)

// f80Big converts a finite f80 exactly.
func f80Big(x f80) *big.Float {
	f := new(big.Float).SetPrec(64)
	if x.isZero() {
		if x.neg() {
			f.Neg(f)
		}
		return f
	}
	neg, e, m := x.unpack()
	f.SetUint64(m)
	f.SetMantExp(f, e-63)
	if neg {
		f.Neg(f)
	}
	return f
}

// bigToF80 rounds v to an f80 with rounding mode rc (64-bit precision).
func bigToF80(v *big.Float, rc uint16) (f80, uint16) {
	neg := v.Signbit()
	if v.Sign() == 0 {
		return f80Zero(neg), 0
	}
	m := new(big.Float)
	e := v.MantExp(m) // |m| in [0.5, 1)
	m.Abs(m)
	m.SetMantExp(m, 128)
	i, acc := m.Int(nil)
	var buf [16]byte
	i.FillBytes(buf[:])
	hi, lo := binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:])
	if acc != big.Exact {
		lo |= 1
	}
	return round80(neg, e-1, hi, lo, 3, rc)
}

// zivRound evaluates f at increasing precision until the rounding of its
// value to an f80 is decided (Ziv's strategy). eval(prec) must return the
// function value with a relative error below 2^-(prec-8) and must not be
// exactly representable boundary cases (callers handle exact results).
func zivRound(eval func(prec uint) *big.Float, rc uint16) (f80, uint16) {
	for prec := uint(zivStart); ; prec *= 2 {
		v := eval(prec)
		if prec >= zivMax || v.Sign() == 0 {
			return bigToF80(v, rc)
		}
		eps := new(big.Float).SetPrec(v.Prec()).SetMantExp(v, -(int(prec) - 8))
		eps.Abs(eps)
		lo := new(big.Float).SetPrec(v.Prec()+64).Sub(v, eps)
		hi := new(big.Float).SetPrec(v.Prec()+64).Add(v, eps)
		r1, e1 := bigToF80(lo, rc)
		r2, e2 := bigToF80(hi, rc)
		if r1 == r2 && e1 == e2 {
			return r1, e1
		}
	}
}

// roundPiMul rounds (-1)^neg * num * π / 2^shift to an f80; fast as
// for f2xm1 (the 128-bit π times a small num is within 1.5 * 2^-126).
func roundPiMul(num int64, shift int, neg bool, rc uint16, fast bool) (f80, uint16) {
	if fast {
		fastConsts()
		v := xfMul(xfFromInt(num), fastPi)
		v.e -= shift
		v.neg = neg
		if r, exc, ok := xfRound(v, rc); ok {
			return r, exc
		}
	}
	v := piBig(constMax)
	v.Mul(v, bigInt(num, constMax))
	v.SetMantExp(v, -shift)
	if neg {
		v.Neg(v)
	}
	return bigToF80(v, rc)
}

// roundNudged rounds a value that lies strictly between the finite
// nonzero v and its neighbour (closer to v than any rounding boundary):
// just above |v| for up, just below otherwise. It gives f(x) for tiny x
// where f(x) = x(1 ± x²/k) or 1 - x²/2, whose correction lies below any
// working precision.
//
// When the result is a normal number, #U is not reported even if the
// exact value lies just below the smallest normal: the hardware's
// internal value is v itself there (measured: FSIN of ±2^-16382).
func roundNudged(v f80, up bool, rc uint16) (f80, uint16) {
	neg, e, m := v.unpack()
	var r f80
	var exc uint16
	switch {
	case up:
		r, exc = round80(neg, e, m, 1, 3, rc)
	case m == 1<<63:
		r, exc = round80(neg, e-1, ^uint64(0), ^uint64(0), 3, rc)
	default:
		r, exc = round80(neg, e, m-1, ^uint64(0), 3, rc)
	}
	if r.exp() != 0 {
		exc &^= feUE
	}
	return r, exc
}

// tinyExp bounds the arguments treated with roundNudged: for |x| < 2^-40
// the relative corrections x²/k are below 2^-80, far below half an ulp.
const tinyExp = -40

// tanTinyExp is the bound below which FPTAN returns its tiny operand
// rounded as a value just below it (see ftan).
const tanTinyExp = -34

// nanOrInvalid returns the result for a single operand that is a NaN or
// in an unsupported format, and whether it was one.
func nanOrInvalid(x f80) (f80, uint16, bool) {
	switch {
	case x.isUnsupported():
		return f80Indefinite, feIE, true
	case x.isNaN():
		if x.isSNaN() {
			return x.quiet(), feIE, true
		}
		return x, 0, true
	}
	return f80{}, 0, false
}

// f2xm1 computes 2^x - 1. fast enables the fast path (x87_fast.go); the
// result is the same without it, which the tests check.
func f2xm1(x f80, rc uint16, fast bool) (f80, uint16) {
	if r, e, ok := nanOrInvalid(x); ok {
		return r, e
	}
	var exc uint16
	if x.isDenormal() {
		exc = feDE
	}
	switch {
	case x.isZero():
		return x, 0
	case x.isInf():
		if x.neg() {
			return f80{mant: 1 << 63, se: 0xbfff}, 0
		}
		return x, 0
	}
	neg, e, m := x.unpack()
	if e > 0 || e == 0 && m != 1<<63 {
		// Outside [-1, 1]: the operand, reported inexact.
		return x, exc | fePE
	}
	if e == 0 {
		if neg {
			return f80{mant: 1 << 63, se: 0xbffe}, exc | fePE
		}
		// 2^1 - 1 behaves as a value just below 1.
		r, e2 := round80(false, -1, ^uint64(0), ^uint64(0), 3, rc)
		return r, exc | e2
	}
	if fast {
		if r, e2, ok := xfRound(fastF2xm1(x), rc); ok {
			return r, exc | e2
		}
	}
	r, e2 := zivRound(f2xm1Eval(x), rc)
	return r, exc | e2
}

// f2xm1Eval evaluates 2^x - 1 for a finite x with |x| < 1.
func f2xm1Eval(x f80) func(prec uint) *big.Float {
	xb := f80Big(x)
	return func(prec uint) *big.Float {
		t := new(big.Float).SetPrec(prec+64).Mul(xb, ln2(prec+64))
		return bigExpm1(t, prec)
	}
}

// fyl2x computes y * log2(x); fast as for f2xm1.
func fyl2x(x, y f80, rc uint16, fast bool) (f80, uint16) {
	// An unsupported operand is invalid even next to a NaN.
	if x.isUnsupported() || y.isUnsupported() {
		return f80Indefinite, feIE
	}
	if x.isNaN() || y.isNaN() {
		return propagateNaN(x, y)
	}
	var exc uint16
	if x.isDenormal() || y.isDenormal() {
		exc = feDE
	}
	if x.neg() && !x.isZero() {
		return f80Indefinite, feIE
	}
	yneg := y.neg()
	switch {
	case x.isZero():
		switch {
		case y.isZero():
			return f80Indefinite, feIE
		case y.isInf():
			return f80Inf(!yneg), exc
		}
		// #Z alone: the hardware does not report #D here.
		return f80Inf(!yneg), feZE
	case x.isInf():
		if y.isZero() {
			return f80Indefinite, feIE
		}
		return f80Inf(yneg), exc
	}
	_, xe, xm := x.unpack()
	if xm == 1<<63 {
		// log2(x) = xe exactly.
		if xe == 0 {
			if y.isInf() {
				return f80Indefinite, feIE
			}
			return f80Zero(yneg), exc
		}
		if y.isZero() || y.isInf() {
			return f80Mul(y, f80FromInt(int64(xe)), 3, rc)
		}
		r, e2 := f80Mul(y, f80FromInt(int64(xe)), 3, rc)
		return r, exc | e2 | forcedPE(r)
	}
	less := xe < 0 // log2(x) < 0
	if y.isZero() || y.isInf() {
		if less {
			y = y.chs()
		}
		return y, exc
	}
	if fast {
		if r, e2, ok := xfRound(fastFyl2x(x, y), rc); ok {
			return r, exc | e2
		}
	}
	r, e2 := zivRound(fyl2xEval(x, y), rc)
	return r, exc | e2
}

// fyl2xEval evaluates y * log2(x) for finite nonzero y and positive
// finite x other than a power of two.
func fyl2xEval(x, y f80) func(prec uint) *big.Float {
	xb, yb := f80Big(x), f80Big(y)
	return func(prec uint) *big.Float {
		l := bigLog2(xb, prec+16)
		return l.Mul(l, yb)
	}
}

// fyl2xp1 computes y * log2(x + 1); fast as for f2xm1.
func fyl2xp1(x, y f80, rc uint16, fast bool) (f80, uint16) {
	// An unsupported operand is invalid even next to a NaN.
	if x.isUnsupported() || y.isUnsupported() {
		return f80Indefinite, feIE
	}
	if x.isNaN() || y.isNaN() {
		return propagateNaN(x, y)
	}
	var exc uint16
	if x.isDenormal() || y.isDenormal() {
		exc = feDE
	}
	switch {
	case x.isZero():
		if y.isInf() {
			return f80Indefinite, feIE
		}
		return f80Zero(x.neg() != y.neg()), exc
	case x.isInf():
		if x.neg() || y.isZero() {
			return f80Indefinite, feIE
		}
		return f80Inf(y.neg()), exc
	}
	neg, xe, _ := x.unpack()
	if neg && xe >= 0 {
		// x <= -1, outside the domain of log2(1+x) (and of the
		// instruction, whose result the SDM leaves undefined): AMD
		// processors return x, inexact, or -y for a zero or infinite y.
		if y.isZero() || y.isInf() {
			return y.chs(), exc
		}
		return x, exc | fePE
	}
	if k, ok := log2Exact1p(x); ok && !y.isZero() && !y.isInf() {
		// 1+x = 2^k (x outside the documented range): exact, yet
		// reported inexact as FYL2X does.
		r, e2 := f80Mul(y, f80FromInt(int64(k)), 3, rc)
		return r, exc | e2 | forcedPE(r)
	}
	if y.isZero() || y.isInf() {
		if neg {
			y = y.chs()
		}
		return y, exc
	}
	if fast {
		if r, e2, ok := xfRound(fastFyl2xp1(x, y), rc); ok {
			return r, exc | e2
		}
	}
	r, e2 := zivRound(fyl2xp1Eval(x, y), rc)
	return r, exc | e2
}

// forcedPE is the #P (and, for a denormal result, #U) that FYL2X and
// FYL2XP1 report for an exact power-of-two argument.
func forcedPE(r f80) uint16 {
	if r.isDenormal() {
		return fePE | feUE
	}
	return fePE
}

// log2Exact1p reports whether 1+x is an exact power of two 2^k, k != 0
// (x finite, nonzero, > -1).
//
// For x > 0, 1+x = 2^k means x = 2^k - 1: an integer of k ones, so k <= 64
// leading ones in the significand, nothing after them, and exponent k-1.
// For x < 0 (so x > -1), 1+x = 2^-j means x = -(1 - 2^-j) = -0.11...1
// (j ones): j <= 64 leading ones, nothing after them, exponent -1.
func log2Exact1p(x f80) (int, bool) {
	neg, xe, m := x.unpack()
	ones := bits.LeadingZeros64(^m)
	if ones < 64 && m<<uint(ones) != 0 {
		return 0, false // not a run of ones followed by zeros
	}
	switch {
	case !neg && xe == ones-1:
		return ones, true
	case neg && xe == -1:
		return -ones, true
	}
	return 0, false
}

// fyl2xp1Eval evaluates y * log2(1 + x) for finite nonzero y and finite
// nonzero x > -1.
func fyl2xp1Eval(x, y f80) func(prec uint) *big.Float {
	xb, yb := f80Big(x), f80Big(y)
	return func(prec uint) *big.Float {
		l := bigLog2p1(xb, prec+16)
		return l.Mul(l, yb)
	}
}

// fpatan computes atan2(y, x); fast as for f2xm1.
func fpatan(x, y f80, rc uint16, fast bool) (f80, uint16) {
	// An unsupported operand is invalid even next to a NaN.
	if x.isUnsupported() || y.isUnsupported() {
		return f80Indefinite, feIE
	}
	if x.isNaN() || y.isNaN() {
		return propagateNaN(x, y)
	}
	var exc uint16
	if x.isDenormal() || y.isDenormal() {
		exc = feDE
	}
	yneg, xneg := y.neg(), x.neg()
	piMul := func(num int64, shift int) (f80, uint16) {
		r, e := roundPiMul(num, shift, yneg, rc, fast)
		return r, exc | e
	}
	switch {
	case y.isInf() && x.isInf():
		if xneg {
			return piMul(3, 2)
		}
		return piMul(1, 2)
	case y.isInf(), x.isZero() && !y.isZero():
		return piMul(1, 1)
	case y.isZero():
		if xneg {
			return piMul(1, 0)
		}
		return f80Zero(yneg), exc
	case x.isInf():
		if xneg {
			return piMul(1, 0)
		}
		return f80Zero(yneg), exc
	}
	if t, ok := exactTinyRatio(y, x); ok {
		// atan t = t - t³/3 for an exactly representable tiny t.
		r, e2 := roundNudged(t, false, rc)
		return r, exc | e2
	}
	if fast {
		if r, e2, ok := xfRound(fastFpatan(x, y), rc); ok {
			return r, exc | e2
		}
	}
	r, e2 := zivRound(fpatanEval(x, y), rc)
	return r, exc | e2
}

// exactTinyRatio returns y/x when x is positive, |y/x| < 2^tinyExp and the
// quotient is exactly an f80 (normal or denormal).
func exactTinyRatio(y, x f80) (f80, bool) {
	if x.neg() {
		return f80{}, false
	}
	yneg, ye, ym := y.unpack()
	_, xe, xm := x.unpack()
	e := ye - xe
	if e >= tinyExp-1 {
		return f80{}, false
	}
	// The quotient of the significands, scaled to 64 bits: ym/xm is in
	// [1, 2) or (1/2, 1). A nonzero remainder means more than 64 bits.
	var q, rem uint64
	if ym >= xm {
		q, rem = bits.Div64(ym>>1, ym<<63, xm) // ym*2^63/xm
	} else {
		q, rem = bits.Div64(ym, 0, xm) // ym*2^64/xm
		e--
	}
	if rem != 0 {
		return f80{}, false
	}
	r, exc := round80(yneg, e, q, 0, 3, 0)
	if exc&fePE != 0 || r.isZero() {
		return f80{}, false
	}
	return r, true
}

// fpatanEval evaluates atan2(y, x) for finite nonzero x and y.
func fpatanEval(x, y f80) func(prec uint) *big.Float {
	xb, yb := f80Big(x), f80Big(y)
	xb.Abs(xb)
	yb.Abs(yb)
	swap := yb.Cmp(xb) > 0
	xneg, yneg := x.neg(), y.neg()
	return func(prec uint) *big.Float {
		w := prec + 16
		var t *big.Float
		if swap {
			t = new(big.Float).SetPrec(w).Quo(xb, yb)
		} else {
			t = new(big.Float).SetPrec(w).Quo(yb, xb)
		}
		a := bigAtan(t, w)
		if swap {
			h := piBig(w + 8)
			h.SetMantExp(h, -1)
			a.Sub(h, a)
		}
		if xneg {
			a.Sub(piBig(w+8), a)
		}
		if yneg {
			a.Neg(a)
		}
		return a
	}
}

// trigReduce splits a finite nonzero x with |x| < 2^63 into the quadrant
// k mod 4 and r = x - k*P/2 (exact), where P is the hardware's 66-bit π
// and k is the nearest integer to x/(P/2).
func trigReduce(x f80) (quad int, r *big.Float) {
	neg, e, m := x.unpack()
	xb := f80Big(x)
	if e < -1 {
		// |x| < 1/2 < P/4: no reduction.
		return 0, xb
	}
	// x*2^67 = m * 2^(e-63+67), an integer since e >= -1 ... ok for e >= -4.
	X := new(big.Int).SetUint64(m)
	X.Lsh(X, uint(e+4))
	// k = round(X / reducePi).
	k, rem := new(big.Int).QuoRem(X, reducePi, new(big.Int))
	twice := new(big.Int).Lsh(rem, 1)
	if twice.Cmp(reducePi) >= 0 {
		k.Add(k, big.NewInt(1))
		rem.Sub(rem, reducePi)
	}
	quad = int(k.Uint64() & 3)
	r = new(big.Float).SetPrec(160).SetInt(rem)
	r.SetMantExp(r, -67)
	if neg {
		r.Neg(r)
		quad = (4 - quad) & 3
	}
	return quad, r
}

// fsincos computes sin(x) and cos(x) (which are chosen by wantSin and
// wantCos) for FSIN, FCOS and FSINCOS; outOfRange reports |x| >= 2^63.
// The flags of each result are separate (C1 differs); both include the
// operand's #D. fast is as for f2xm1.
func fsincos(x f80, rc uint16, wantSin, wantCos, fast bool) (s, c f80, excS, excC uint16, outOfRange bool) {
	if r, e, ok := nanOrInvalid(x); ok {
		return r, r, e, e, false
	}
	if x.isInf() {
		return f80Indefinite, f80Indefinite, feIE, feIE, false
	}
	var exc uint16
	if x.isDenormal() {
		exc = feDE
	}
	if x.isZero() {
		return x, f80One, exc, exc, false
	}
	_, e, _ := x.unpack()
	if e >= 63 {
		return x, x, 0, 0, true
	}
	if e < tinyExp {
		// sin x = x - x³/6, cos x = 1 - x²/2.
		s, excS = roundNudged(x, false, rc)
		c, excC = roundNudged(f80One, false, rc)
		return s, c, exc | excS, exc | excC, false
	}
	okS, okC := !wantSin, !wantCos
	if fast {
		sv, cv := fastSinCos(fastTrigReduce(x))
		if wantSin {
			s, excS, okS = xfRound(sv, rc)
		}
		if wantCos {
			c, excC, okC = xfRound(cv, rc)
		}
	}
	if !okS {
		s, excS = zivRound(trigEval(x, trigSin), rc)
	}
	if !okC {
		c, excC = zivRound(trigEval(x, trigCos), rc)
	}
	return s, c, exc | excS, exc | excC, false
}

// Functions for trigEval.
const (
	trigSin = iota
	trigCos
	trigTan
)

// trigEval evaluates sin, cos or tan of a finite nonzero x with
// |x| < 2^63, reduced with the hardware's π.
func trigEval(x f80, fn int) func(prec uint) *big.Float {
	quad, r := trigReduce(x)
	return func(prec uint) *big.Float {
		if fn != trigTan {
			// sin(x) by quadrant: sin r, cos r, -sin r, -cos r;
			// cos(x) is sin(x + π/2).
			q := quad
			if fn == trigCos {
				q = (q + 1) & 3
			}
			v := bigSinOrCos(r, prec+16, q&1 != 0)
			if q&2 != 0 {
				v.Neg(v)
			}
			return v
		}
		sv, cv := bigSinCos(r, prec+16)
		if quad&1 != 0 {
			// tan(r + π/2) = -cos r / sin r.
			cv.Quo(cv, sv)
			return cv.Neg(cv)
		}
		return sv.Quo(sv, cv)
	}
}

// ftan computes tan(x) for FPTAN; fast is as for f2xm1.
func ftan(x f80, rc uint16, fast bool) (f80, uint16, bool) {
	if r, e, ok := nanOrInvalid(x); ok {
		return r, e, false
	}
	if x.isInf() {
		return f80Indefinite, feIE, false
	}
	var exc uint16
	if x.isDenormal() {
		exc = feDE
	}
	if x.isZero() {
		return x, exc, false
	}
	_, e, _ := x.unpack()
	if e >= 63 {
		return x, 0, true
	}
	if e < tanTinyExp {
		// tan x = x + x³/3, just above |x|. AMD processors return a
		// tiny power of two as exactly x (inexact, C1 clear) in every
		// rounding mode (measured for every exponent from -35 down);
		// for other tiny x their internal precision loses x³/3 and
		// the direction they round in depends on the significand.
		if x.mant == 1<<63 {
			return x, exc | fePE, false
		}
		t, e2 := roundNudged(x, true, rc)
		return t, exc | e2, false
	}
	if fast {
		if t, e2, ok := xfRound(fastTan(fastTrigReduce(x)), rc); ok {
			return t, exc | e2, false
		}
	}
	t, e2 := zivRound(trigEval(x, trigTan), rc)
	return t, exc | e2, false
}

// x87Trans executes a transcendental instruction on the register stack,
// accumulating its exceptions in exc; the caller handles unmasked
// exceptions (restoring the state) and C1.
func (c *CPU) x87Trans(op x86asm.Op, rc uint16, exc *uint16) {
	if (op == x86asm.FPTAN || op == x86asm.FSINCOS) && !c.stEmpty(7) {
		// The push will overflow: the hardware checks first and
		// leaves the indefinite in both places (even for an
		// out-of-range operand).
		c.fsw &^= fC2
		c.stSet(0, f80Indefinite)
		c.fpush(f80Indefinite, exc)
		return
	}
	x := c.st(0, exc)
	switch op {
	case x86asm.F2XM1:
		r, e := f2xm1(x, rc, true)
		*exc |= e
		c.stSet(0, r)
	case x86asm.FYL2X, x86asm.FYL2XP1, x86asm.FPATAN:
		y := c.st(1, exc)
		var r f80
		var e uint16
		switch {
		case *exc&feSF != 0:
			// Stack underflow: the indefinite, whatever the other
			// operand.
			r = f80Indefinite
		case op == x86asm.FYL2X:
			r, e = fyl2x(x, y, rc, true)
		case op == x86asm.FYL2XP1:
			r, e = fyl2xp1(x, y, rc, true)
		default:
			r, e = fpatan(x, y, rc, true)
		}
		*exc |= e
		c.stSet(1, r)
		c.fpop()
	case x86asm.FPTAN:
		t, e, out := ftan(x, rc, true)
		c.fsw &^= fC2
		if out {
			c.fsw |= fC2
			return
		}
		*exc |= e
		c.stSet(0, t)
		if t.isNaN() {
			c.fpush(t, exc)
		} else {
			c.fpush(f80One, exc)
		}
	case x86asm.FSIN, x86asm.FCOS, x86asm.FSINCOS:
		s, co, es, ec, out := fsincos(x, rc, op != x86asm.FCOS, op != x86asm.FSIN, true)
		c.fsw &^= fC2
		if out {
			c.fsw |= fC2
			return
		}
		switch op {
		case x86asm.FSIN:
			*exc |= es
			c.stSet(0, s)
		case x86asm.FCOS:
			*exc |= ec
			c.stSet(0, co)
		default:
			// C1 reports the rounding of the sine (as AMD processors
			// do; the SDM does not say which result it follows).
			*exc |= ec&^feC1 | es
			c.stSet(0, s)
			c.fpush(co, exc)
		}
	}
}
