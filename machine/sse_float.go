package machine

import (
	"math"
	"math/big"

	"golang.org/x/arch/x86/x86asm"
)

// SSE floating point. Results are computed in float64 with the exact error
// sign of the round-to-nearest result (TwoSum / FMA residuals), which gives
// correctly rounded results in every MXCSR rounding mode; float32 results
// are rounded from the float64 one (innocuous double rounding for
// + - * / sqrt since 53 >= 2*24+2). NaNs follow the x86 rules explicitly so
// results do not depend on the host FPU.

const (
	fAdd = iota
	fSub
	fMul
	fDiv
	fSqrt
	fMin
	fMax
)

const (
	defNaN64 = 0xfff8000000000000
	defNaN32 = 0xffc00000
)

func sgn(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// round64 adjusts s, the round-to-nearest result whose exact value is on
// side e of it, to rounding mode rc.
func round64(s float64, e int, rc uint32) float64 {
	switch rc {
	case 1:
		if e < 0 {
			return math.Nextafter(s, math.Inf(-1))
		}
	case 2:
		if e > 0 {
			return math.Nextafter(s, math.Inf(1))
		}
	case 3:
		if (e < 0 && s > 0) || (e > 0 && s < 0) {
			return math.Nextafter(s, 0)
		}
	}
	return s
}

func round32(s float32, e int, rc uint32) float32 {
	switch rc {
	case 1:
		if e < 0 {
			return math.Nextafter32(s, float32(math.Inf(-1)))
		}
	case 2:
		if e > 0 {
			return math.Nextafter32(s, float32(math.Inf(1)))
		}
	case 3:
		if (e < 0 && s > 0) || (e > 0 && s < 0) {
			return math.Nextafter32(s, 0)
		}
	}
	return s
}

func quiet64(b uint64) uint64 { return b | 1<<51 }
func quiet32(b uint32) uint32 { return b | 1<<22 }

// fop computes a op b on raw float bits (float32 in the low 32 bits unless dbl).
func fop(k int, a, b uint64, dbl bool, rc uint32) (uint64, uint32) {
	var nanA, nanB, snan bool
	var x, y float64
	if dbl {
		nanA, nanB = isNaN64(a), isNaN64(b)
		snan = isSNaN64(a) || isSNaN64(b)
		x, y = math.Float64frombits(a), math.Float64frombits(b)
	} else {
		nanA, nanB = isNaN32(uint32(a)), isNaN32(uint32(b))
		snan = isSNaN32(uint32(a)) || isSNaN32(uint32(b))
		x, y = float64(math.Float32frombits(uint32(a))), float64(math.Float32frombits(uint32(b)))
	}
	if k == fSqrt {
		nanA, x = false, y
		if dbl {
			snan = isSNaN64(b)
		} else {
			snan = isSNaN32(uint32(b))
		}
	}
	if k == fMin || k == fMax {
		if nanA || nanB {
			return b, mxIE
		}
		var exc uint32
		if isDenormal(a, dbl) || isDenormal(b, dbl) {
			exc = mxDE
		}
		if x == 0 && y == 0 {
			return b, exc
		}
		if (k == fMin && x < y) || (k == fMax && x > y) {
			return a, exc
		}
		return b, exc
	}
	var exc uint32
	if snan {
		exc = mxIE
	}
	if !nanA && !nanB && (isDenormal(a, dbl) && k != fSqrt || isDenormal(b, dbl)) {
		exc |= mxDE
	}
	if nanA || nanB {
		if nanA {
			if dbl {
				return quiet64(a), exc
			}
			return uint64(quiet32(uint32(a))), exc
		}
		if dbl {
			return quiet64(b), exc
		}
		return uint64(quiet32(uint32(b))), exc
	}
	var s float64
	e := 0
	switch k {
	case fAdd, fSub:
		if k == fSub {
			y, k = -y, fAdd // x - y is x + (-y) from here on
		}
		s = x + y
		if !math.IsInf(s, 0) && !math.IsNaN(s) {
			bp := s - x
			e = sgn((x - (s - bp)) + (y - bp))
		}
		if s == 0 && e == 0 && rc == 1 && (x != 0 || y != 0 || math.Signbit(x) || math.Signbit(y)) {
			if !(x == 0 && y == 0 && !math.Signbit(x) && !math.Signbit(y)) {
				s = math.Copysign(0, -1)
			}
		}
	case fMul:
		s = x * y
		if !math.IsInf(s, 0) && !math.IsNaN(s) {
			if math.Abs(s) < 0x1p-969 {
				// Scale so that the residual cannot underflow.
				// Both factors are below 2^105 here.
				e = sgn(math.FMA(x*0x1p540, y*0x1p540, -s*0x1p540*0x1p540))
			} else {
				e = sgn(math.FMA(x, y, -s))
			}
		}
	case fDiv:
		if y == 0 && x != 0 && !math.IsNaN(x) && !math.IsInf(x, 0) {
			exc |= mxZE
		}
		s = x / y
		if !math.IsInf(s, 0) && !math.IsNaN(s) && y != 0 && !math.IsInf(y, 0) {
			if math.Abs(s) < 0x1p-969 {
				xs, ss := x*0x1p110, s*0x1p110
				if math.Abs(x) < 0x1p-56 {
					xs, ss = x*0x1p540*0x1p540, s*0x1p540*0x1p540
				}
				e = sgn(math.FMA(-ss, y, xs)) * sgn(y)
			} else if math.Abs(x) < 0x1p-969 {
				// A tiny dividend: its residual would underflow. The
				// quotient is at most 2^105 here, so scaling by 2^600
				// cannot overflow.
				e = sgn(math.FMA(-s*0x1p600, y, x*0x1p600)) * sgn(y)
			} else {
				e = sgn(math.FMA(-s, y, x)) * sgn(y)
			}
		}
	case fSqrt:
		s = math.Sqrt(y)
		if !math.IsNaN(s) && !math.IsInf(s, 0) {
			if y != 0 && math.Abs(y) < 0x1p-968 {
				// The residual of a tiny operand underflows: scale by an
				// even power of two (exact), whose root scales exactly.
				ys := y * 0x1p108
				ss := s * 0x1p54
				e = sgn(math.FMA(-ss, ss, ys))
			} else {
				e = sgn(math.FMA(-s, s, y))
			}
		}
	}
	if exc&mxZE != 0 {
		exc &^= mxDE // #Z takes precedence over a denormal operand
	}
	if math.IsNaN(s) {
		// An invalid operation reports #I alone: it takes precedence over
		// a denormal operand (sqrt of a negative denormal).
		exc &^= mxDE
		if dbl {
			return defNaN64, exc | mxIE
		}
		return defNaN32, exc | mxIE
	}
	finite := !math.IsInf(x, 0) && !math.IsInf(y, 0)
	if dbl {
		if math.IsInf(s, 0) && finite && exc&mxZE == 0 {
			exc |= mxOE | mxPE
			if rc == 3 || (rc == 1 && s > 0) || (rc == 2 && s < 0) {
				s = math.Copysign(math.MaxFloat64, s)
			}
			return math.Float64bits(s), exc
		}
		if e != 0 {
			exc |= mxPE
			s = round64(s, e, rc)
			if math.IsInf(s, 0) {
				exc |= mxOE // rounded away from the largest finite value
			}
			if math.Abs(s) < 0x1p-1022 || math.Abs(s) == 0x1p-1022 && tinyAfterRounding(exactOp(k, x, y), 53, rc, -1022) {
				exc |= mxUE
			}
		} else if s != 0 && math.Abs(s) < 0x1p-1022 {
			exc |= mxTinyExact
		}
		return math.Float64bits(s), exc
	}
	f := float32(s)
	if d := s - float64(f); d != 0 {
		e = sgn(d)
	}
	if math.IsInf(float64(f), 0) && finite && exc&mxZE == 0 {
		exc |= mxOE | mxPE
		if rc == 3 || (rc == 1 && f > 0) || (rc == 2 && f < 0) {
			f = float32(math.Copysign(math.MaxFloat32, s))
		}
		return uint64(math.Float32bits(f)), exc
	}
	if e != 0 {
		exc |= mxPE
		f = round32(f, e, rc)
		if math.IsInf(float64(f), 0) {
			exc |= mxOE // rounded away from the largest finite value
		}
		if math.Abs(float64(f)) < 0x1p-126 || math.Abs(float64(f)) == 0x1p-126 && tinyAfterRounding(exactOp(k, x, y), 24, rc, -126) {
			exc |= mxUE
		}
	} else if f != 0 && math.Abs(float64(f)) < 0x1p-126 {
		exc |= mxTinyExact
	}
	return uint64(math.Float32bits(f)), exc
}

// isDenormal reports a denormal operand (float32 in the low bits unless dbl).
func isDenormal(b uint64, dbl bool) bool {
	if dbl {
		return b&0x7ff0000000000000 == 0 && b&0x000fffffffffffff != 0
	}
	return b&0x7f800000 == 0 && b&0x007fffff != 0
}

// tinyAfterRounding reports whether v rounded to prec bits with an
// unbounded exponent in mode rc is below 2^emin in magnitude: x86 detects
// tininess after rounding (SDM 4.9.1.5), so an inexact result that rounds
// to the smallest normal is tiny only if that rounding would not have
// reached it. Only results equal to the smallest normal ask (rarely: it
// allocates).
func tinyAfterRounding(v *big.Float, prec uint, rc uint32, emin int) bool {
	mode := [4]big.RoundingMode{big.ToNearestEven, big.ToNegativeInf, big.ToPositiveInf, big.ToZero}[rc&3]
	r := new(big.Float).SetMode(mode).SetPrec(prec).Set(v)
	r.Abs(r)
	return r.Cmp(new(big.Float).SetMantExp(big.NewFloat(1), emin)) < 0
}

// exactOp returns x op y exactly for fAdd, fSub and fMul (2200 bits hold
// any sum of doubles), and to 300 bits for fDiv and fSqrt (of y), which
// decides its rounding to 53 bits or fewer: a quotient or root of doubles
// is either exact in 300 bits or farther than 2^-250 relative from every
// 54-bit midpoint.
func exactOp(k int, x, y float64) *big.Float {
	bx, by := new(big.Float).SetFloat64(x), new(big.Float).SetFloat64(y)
	z := new(big.Float).SetPrec(2200)
	switch k {
	case fAdd:
		return z.Add(bx, by)
	case fSub:
		return z.Sub(bx, by)
	case fMul:
		return z.Mul(bx, by)
	case fDiv:
		return z.SetPrec(300).Quo(bx, by)
	case fSqrt:
		return z.SetPrec(300).Sqrt(by)
	}
	return z
}

func (c *CPU) rc() uint32 { return c.mxcsr >> 13 & 3 }

// lanes applies fop to 32-bit or 64-bit lanes; scalar ops touch lane 0 only.
func (c *CPU) lanes(k int, a, b vec, dbl, scalar bool) (vec, uint32) {
	rc := c.rc()
	var exc uint32
	r := a
	if dbl {
		n := 2
		if scalar {
			n = 1
		}
		for i := 0; i < n; i++ {
			v, e := fop(k, a[i], b[i], true, rc)
			r[i] = v
			exc |= e
		}
		return r, exc
	}
	n := 4
	if scalar {
		n = 1
	}
	for i := 0; i < n; i++ {
		v, e := fop(k, uint64(a.d(i)), uint64(b.d(i)), false, rc)
		r.setD(i, uint32(v))
		exc |= e
	}
	return r, exc
}

// vecFloat executes floating-point arithmetic dst = a op b.
func (c *CPU) vecFloat(op x86asm.Op, a, b vec) (vec, uint32, bool) {
	switch op {
	case x86asm.ADDPS:
		r, e := c.lanes(fAdd, a, b, false, false)
		return r, e, true
	case x86asm.ADDPD:
		r, e := c.lanes(fAdd, a, b, true, false)
		return r, e, true
	case x86asm.ADDSS:
		r, e := c.lanes(fAdd, a, b, false, true)
		return r, e, true
	case x86asm.ADDSD:
		r, e := c.lanes(fAdd, a, b, true, true)
		return r, e, true
	case x86asm.SUBPS:
		r, e := c.lanes(fSub, a, b, false, false)
		return r, e, true
	case x86asm.SUBPD:
		r, e := c.lanes(fSub, a, b, true, false)
		return r, e, true
	case x86asm.SUBSS:
		r, e := c.lanes(fSub, a, b, false, true)
		return r, e, true
	case x86asm.SUBSD:
		r, e := c.lanes(fSub, a, b, true, true)
		return r, e, true
	case x86asm.MULPS:
		r, e := c.lanes(fMul, a, b, false, false)
		return r, e, true
	case x86asm.MULPD:
		r, e := c.lanes(fMul, a, b, true, false)
		return r, e, true
	case x86asm.MULSS:
		r, e := c.lanes(fMul, a, b, false, true)
		return r, e, true
	case x86asm.MULSD:
		r, e := c.lanes(fMul, a, b, true, true)
		return r, e, true
	case x86asm.DIVPS:
		r, e := c.lanes(fDiv, a, b, false, false)
		return r, e, true
	case x86asm.DIVPD:
		r, e := c.lanes(fDiv, a, b, true, false)
		return r, e, true
	case x86asm.DIVSS:
		r, e := c.lanes(fDiv, a, b, false, true)
		return r, e, true
	case x86asm.DIVSD:
		r, e := c.lanes(fDiv, a, b, true, true)
		return r, e, true
	case x86asm.MINPS:
		r, e := c.lanes(fMin, a, b, false, false)
		return r, e, true
	case x86asm.MINPD:
		r, e := c.lanes(fMin, a, b, true, false)
		return r, e, true
	case x86asm.MINSS:
		r, e := c.lanes(fMin, a, b, false, true)
		return r, e, true
	case x86asm.MINSD:
		r, e := c.lanes(fMin, a, b, true, true)
		return r, e, true
	case x86asm.MAXPS:
		r, e := c.lanes(fMax, a, b, false, false)
		return r, e, true
	case x86asm.MAXPD:
		r, e := c.lanes(fMax, a, b, true, false)
		return r, e, true
	case x86asm.MAXSS:
		r, e := c.lanes(fMax, a, b, false, true)
		return r, e, true
	case x86asm.MAXSD:
		r, e := c.lanes(fMax, a, b, true, true)
		return r, e, true
	case x86asm.SQRTPS:
		r, e := c.lanes(fSqrt, a, b, false, false)
		return r, e, true
	case x86asm.SQRTPD:
		r, e := c.lanes(fSqrt, a, b, true, false)
		return r, e, true
	case x86asm.SQRTSS:
		r, e := c.lanes(fSqrt, a, b, false, true)
		return r, e, true
	case x86asm.SQRTSD:
		r, e := c.lanes(fSqrt, a, b, true, true)
		return r, e, true
	case x86asm.RCPPS, x86asm.RCPSS, x86asm.RSQRTPS, x86asm.RSQRTSS:
		r := a
		n := 4
		if op == x86asm.RCPSS || op == x86asm.RSQRTSS {
			n = 1
		}
		for i := 0; i < n; i++ {
			x := float64(math.Float32frombits(b.d(i)))
			var y float64
			if op == x86asm.RCPPS || op == x86asm.RCPSS {
				y = 1 / x
			} else {
				y = 1 / math.Sqrt(x)
			}
			bits := math.Float32bits(float32(y))
			if isNaN32(b.d(i)) {
				bits = quiet32(b.d(i))
			} else if math.IsNaN(y) {
				bits = defNaN32
			}
			r.setD(i, bits)
		}
		return r, 0, true
	case x86asm.HADDPS, x86asm.HSUBPS:
		k := fAdd
		if op == x86asm.HSUBPS {
			k = fSub
		}
		var r vec
		var exc uint32
		rc := c.rc()
		for i := 0; i < 4; i++ {
			src := a
			j := i
			if i >= 2 {
				src, j = b, i-2
			}
			v, e := fop(k, uint64(src.d(2*j)), uint64(src.d(2*j+1)), false, rc)
			r.setD(i, uint32(v))
			exc |= e
		}
		return r, exc, true
	case x86asm.HADDPD, x86asm.HSUBPD:
		k := fAdd
		if op == x86asm.HSUBPD {
			k = fSub
		}
		rc := c.rc()
		v0, e0 := fop(k, a[0], a[1], true, rc)
		v1, e1 := fop(k, b[0], b[1], true, rc)
		return vec{v0, v1}, e0 | e1, true
	case x86asm.ADDSUBPD:
		rc := c.rc()
		v0, e0 := fop(fSub, a[0], b[0], true, rc)
		v1, e1 := fop(fAdd, a[1], b[1], true, rc)
		return vec{v0, v1}, e0 | e1, true
	case x86asm.ADDSUBPS:
		rc := c.rc()
		var r vec
		var exc uint32
		for i := 0; i < 4; i++ {
			k := fSub
			if i&1 != 0 {
				k = fAdd
			}
			v, e := fop(k, uint64(a.d(i)), uint64(b.d(i)), false, rc)
			r.setD(i, uint32(v))
			exc |= e
		}
		return r, exc, true
	}
	return vec{}, 0, false
}

// fcmp evaluates CMPPS/CMPSS predicate p (0-7) on raw bits.
func fcmp(p uint64, a, b uint64, dbl bool) (bool, uint32) {
	var x, y float64
	var snan bool
	if dbl {
		x, y = math.Float64frombits(a), math.Float64frombits(b)
		snan = isSNaN64(a) || isSNaN64(b)
	} else {
		x, y = float64(math.Float32frombits(uint32(a))), float64(math.Float32frombits(uint32(b)))
		snan = isSNaN32(uint32(a)) || isSNaN32(uint32(b))
	}
	un := x != x || y != y
	var exc uint32
	if snan || (un && (p&3 == 1 || p&3 == 2)) {
		exc = mxIE
	} else if !un && (isDenormal(a, dbl) || isDenormal(b, dbl)) {
		exc = mxDE
	}
	var r bool
	switch p & 7 {
	case 0:
		r = x == y
	case 1:
		r = x < y
	case 2:
		r = x <= y
	case 3:
		r = un
	case 4:
		r = !(x == y)
	case 5:
		r = !(x < y)
	case 6:
		r = !(x <= y)
	case 7:
		r = !un
	}
	return r, exc
}

// roundInt rounds x to an integral value with mode rc.
func roundInt(x float64, rc uint32) float64 {
	switch rc {
	case 0:
		return math.RoundToEven(x)
	case 1:
		return math.Floor(x)
	case 2:
		return math.Ceil(x)
	}
	return math.Trunc(x)
}

// f2i converts float x to a signed integer of 32 or 64 bits with mode rc,
// giving the integer indefinite value for NaN and out-of-range inputs.
func f2i(x float64, is64 bool, rc uint32) (uint64, uint32) {
	if x != x {
		if is64 {
			return 1 << 63, mxIE
		}
		return 1 << 31, mxIE
	}
	r := roundInt(x, rc)
	var exc uint32
	if r != x {
		exc = mxPE
	}
	if is64 {
		if r >= 9223372036854775808.0 || r < -9223372036854775808.0 {
			return 1 << 63, mxIE
		}
		return uint64(int64(r)), exc
	}
	if r >= 2147483648.0 || r < -2147483648.0 {
		return 1 << 31, mxIE
	}
	return uint64(uint32(int32(r))), exc
}

// i2f converts a signed integer to float64 (dbl) or float32 with mode rc.
func i2f(v int64, dbl bool, rc uint32) (uint64, uint32) {
	if dbl {
		f := float64(v)
		e := 0
		if f >= 9223372036854775808.0 {
			e = -1
		} else if d := v - int64(f); d != 0 {
			e = sgn(float64(d))
		}
		if e == 0 {
			return math.Float64bits(f), 0
		}
		return math.Float64bits(round64(f, e, rc)), mxPE
	}
	f := float32(v)
	e := 0
	if float64(f) >= 9223372036854775808.0 {
		e = -1
	} else if d := v - int64(f); d != 0 {
		e = sgn(float64(d))
	}
	if e == 0 {
		return uint64(math.Float32bits(f)), 0
	}
	return uint64(math.Float32bits(round32(f, e, rc))), mxPE
}

func f64to32(b uint64, rc uint32) (uint32, uint32) {
	if isNaN64(b) {
		var exc uint32
		if isSNaN64(b) {
			exc = mxIE
		}
		return uint32(b>>63)<<31 | 0x7fc00000 | uint32(b>>29)&0x3fffff, exc
	}
	s := math.Float64frombits(b)
	f := float32(s)
	var exc uint32
	if math.IsInf(s, 0) {
		return math.Float32bits(f), 0
	}
	if math.IsInf(float64(f), 0) {
		exc = mxOE | mxPE
		if rc == 3 || (rc == 1 && f > 0) || (rc == 2 && f < 0) {
			f = float32(math.Copysign(math.MaxFloat32, s))
		}
		return math.Float32bits(f), exc
	}
	if isDenormal(b, true) {
		exc |= mxDE
	}
	if d := s - float64(f); d != 0 {
		exc |= mxPE
		f = round32(f, sgn(d), rc)
		if math.IsInf(float64(f), 0) {
			exc |= mxOE // rounded away from the largest finite value
		}
		if math.Abs(float64(f)) < 0x1p-126 || math.Abs(float64(f)) == 0x1p-126 && tinyAfterRounding(new(big.Float).SetFloat64(s), 24, rc, -126) {
			exc |= mxUE
		}
	} else if f != 0 && math.Abs(float64(f)) < 0x1p-126 {
		exc |= mxTinyExact
	}
	return math.Float32bits(f), exc
}

func f32to64(b uint32) (uint64, uint32) {
	if isNaN32(b) {
		var exc uint32
		if isSNaN32(b) {
			exc = mxIE
		}
		return uint64(b>>31)<<63 | 0x7ff8000000000000 | uint64(b&0x3fffff)<<29, exc
	}
	var exc uint32
	if isDenormal(uint64(b), false) {
		exc = mxDE
	}
	return math.Float64bits(float64(math.Float32frombits(b))), exc
}

func (c *CPU) vecCvt(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	d, s := in.args[0], in.args[1]
	rc := c.rc()
	var exc uint32
	switch op {
	case x86asm.CVTSI2SD, x86asm.CVTSI2SS:
		var addr uint64
		if s.kind == akMem {
			addr = c.ea(in)
		}
		v, ok := c.get(in, s, addr)
		if !ok {
			return stFault
		}
		r, e := i2f(int64(sext(v, s.size)), op == x86asm.CVTSI2SD, rc)
		if !c.mxRaise(e) {
			return stFault
		}
		if op == x86asm.CVTSI2SD {
			c.xmm[d.reg][0] = r
		} else {
			c.xmm[d.reg].setD(0, uint32(r))
		}
		c.RIP = next
		return stOK
	case x86asm.CVTTSD2SI, x86asm.CVTSD2SI, x86asm.CVTTSS2SI, x86asm.CVTSS2SI:
		dbl := op == x86asm.CVTTSD2SI || op == x86asm.CVTSD2SI
		if s.kind == akMem {
			s.size = 4
			if dbl {
				s.size = 8
			}
		}
		b, ok := c.vsrc(in, s)
		if !ok {
			return stFault
		}
		x := math.Float64frombits(b[0])
		if !dbl {
			x = float64(math.Float32frombits(uint32(b[0])))
		}
		mode := rc
		if op == x86asm.CVTTSD2SI || op == x86asm.CVTTSS2SI {
			mode = 3
		}
		r, e := f2i(x, d.size == 8, mode)
		if !c.mxRaise(e) {
			return stFault
		}
		c.setReg(d.reg, d.size, r)
		c.RIP = next
		return stOK
	}
	if s.kind == akMem && s.size == 0 {
		s.size = 16
	}
	b, ok := c.vsrc(in, s)
	if !ok {
		return stFault
	}
	r := c.xmm[d.reg]
	switch op {
	case x86asm.CVTSD2SS:
		v, e := f64to32(b[0], rc)
		r.setD(0, v)
		exc = e
	case x86asm.CVTSS2SD:
		r[0], exc = f32to64(uint32(b[0]))
	case x86asm.CVTDQ2PD:
		r = vec{math.Float64bits(float64(int32(b[0]))), math.Float64bits(float64(int32(b[0] >> 32)))}
	case x86asm.CVTPD2DQ, x86asm.CVTTPD2DQ:
		mode := rc
		if op == x86asm.CVTTPD2DQ {
			mode = 3
		}
		v0, e0 := f2i(math.Float64frombits(b[0]), false, mode)
		v1, e1 := f2i(math.Float64frombits(b[1]), false, mode)
		r = vec{v0 | v1<<32, 0}
		exc = e0 | e1
	case x86asm.CVTDQ2PS:
		for i := 0; i < 4; i++ {
			v, e := i2f(int64(int32(b.d(i))), false, rc)
			r.setD(i, uint32(v))
			exc |= e
		}
	case x86asm.CVTPS2DQ, x86asm.CVTTPS2DQ:
		mode := rc
		if op == x86asm.CVTTPS2DQ {
			mode = 3
		}
		for i := 0; i < 4; i++ {
			v, e := f2i(float64(math.Float32frombits(b.d(i))), false, mode)
			r.setD(i, uint32(v))
			exc |= e
		}
	case x86asm.CVTPS2PD:
		v0, e0 := f32to64(b.d(0))
		v1, e1 := f32to64(b.d(1))
		r = vec{v0, v1}
		exc = e0 | e1
	case x86asm.CVTPD2PS:
		v0, e0 := f64to32(b[0], rc)
		v1, e1 := f64to32(b[1], rc)
		r = vec{uint64(v0) | uint64(v1)<<32, 0}
		exc = e0 | e1
	default:
		return c.ud()
	}
	if !c.mxRaise(exc) {
		return stFault
	}
	c.xmm[d.reg] = r
	c.RIP = next
	return stOK
}

// vecImm executes vector instructions with an immediate operand.
func (c *CPU) vecImm(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	d, s := in.args[0], in.args[1]
	imm := in.imm & 0xff
	if d.kind != akXMM {
		return c.ud()
	}
	if s.kind == akMem && s.size == 0 {
		s.size = 16
	}
	switch op {
	case x86asm.CMPSS, x86asm.ROUNDSS, x86asm.INSERTPS:
		if s.kind == akMem {
			s.size = 4
		}
	case x86asm.CMPSD_XMM, x86asm.ROUNDSD:
		if s.kind == akMem {
			s.size = 8
		}
	}
	b, ok := c.vsrc(in, s)
	if !ok {
		return stFault
	}
	a := c.xmm[d.reg]
	var r vec
	var exc uint32
	switch op {
	case x86asm.PSHUFD:
		for i := 0; i < 4; i++ {
			r.setD(i, b.d(int(imm>>(2*i)&3)))
		}
	case x86asm.PSHUFLW:
		r = b
		for i := 0; i < 4; i++ {
			r.setW(i, b.w(int(imm>>(2*i)&3)))
		}
	case x86asm.PSHUFHW:
		r = b
		for i := 0; i < 4; i++ {
			r.setW(4+i, b.w(4+int(imm>>(2*i)&3)))
		}
	case x86asm.SHUFPS:
		r.setD(0, a.d(int(imm&3)))
		r.setD(1, a.d(int(imm>>2&3)))
		r.setD(2, b.d(int(imm>>4&3)))
		r.setD(3, b.d(int(imm>>6&3)))
	case x86asm.SHUFPD:
		r = vec{a[imm&1], b[imm>>1&1]}
	case x86asm.PALIGNR:
		x, y := a.bytes(), b.bytes()
		var cat [32]byte
		copy(cat[:16], y[:])
		copy(cat[16:], x[:])
		var t [16]byte
		for i := 0; i < 16; i++ {
			if j := int(imm) + i; j < 32 {
				t[i] = cat[j]
			}
		}
		r = vecOf(t)
	case x86asm.PBLENDW:
		r = a
		for i := 0; i < 8; i++ {
			if imm>>i&1 != 0 {
				r.setW(i, b.w(i))
			}
		}
	case x86asm.BLENDPS:
		r = a
		for i := 0; i < 4; i++ {
			if imm>>i&1 != 0 {
				r.setD(i, b.d(i))
			}
		}
	case x86asm.BLENDPD:
		r = a
		for i := 0; i < 2; i++ {
			if imm>>i&1 != 0 {
				r[i] = b[i]
			}
		}
	case x86asm.INSERTPS:
		v := b.d(int(imm >> 6 & 3))
		if s.kind == akMem {
			v = uint32(b[0])
		}
		r = a
		r.setD(int(imm>>4&3), v)
		for i := 0; i < 4; i++ {
			if imm>>i&1 != 0 {
				r.setD(i, 0)
			}
		}
	case x86asm.CMPPS, x86asm.CMPSS:
		r = a
		n := 4
		if op == x86asm.CMPSS {
			n = 1
		}
		for i := 0; i < n; i++ {
			t, e := fcmp(imm, uint64(a.d(i)), uint64(b.d(i)), false)
			r.setD(i, uint32(b2u(t)))
			exc |= e
		}
	case x86asm.CMPPD, x86asm.CMPSD_XMM:
		r = a
		n := 2
		if op == x86asm.CMPSD_XMM {
			n = 1
		}
		for i := 0; i < n; i++ {
			t, e := fcmp(imm, a[i], b[i], true)
			r[i] = b2u(t)
			exc |= e
		}
	case x86asm.ROUNDPS, x86asm.ROUNDPD, x86asm.ROUNDSS, x86asm.ROUNDSD:
		mode := uint32(imm & 3)
		if imm&4 != 0 {
			mode = c.rc()
		}
		r = a
		if op == x86asm.ROUNDPS || op == x86asm.ROUNDSS {
			n := 4
			if op == x86asm.ROUNDSS {
				n = 1
			}
			for i := 0; i < n; i++ {
				x := b.d(i)
				if isNaN32(x) {
					if isSNaN32(x) {
						exc |= mxIE
					}
					r.setD(i, quiet32(x))
					continue
				}
				f := float64(math.Float32frombits(x))
				y := roundInt(f, mode)
				if y != f && imm&8 == 0 {
					exc |= mxPE
				}
				r.setD(i, math.Float32bits(float32(y)))
			}
		} else {
			n := 2
			if op == x86asm.ROUNDSD {
				n = 1
			}
			for i := 0; i < n; i++ {
				x := b[i]
				if isNaN64(x) {
					if isSNaN64(x) {
						exc |= mxIE
					}
					r[i] = quiet64(x)
					continue
				}
				f := math.Float64frombits(x)
				y := roundInt(f, mode)
				if y != f && imm&8 == 0 {
					exc |= mxPE
				}
				r[i] = math.Float64bits(y)
			}
		}
	case x86asm.DPPS:
		rc := c.rc()
		var t [4]uint64
		for i := 0; i < 4; i++ {
			if imm>>(4+i)&1 != 0 {
				var e uint32
				t[i], e = fop(fMul, uint64(a.d(i)), uint64(b.d(i)), false, rc)
				exc |= e
			}
		}
		s01, e1 := fop(fAdd, t[0], t[1], false, rc)
		s23, e2 := fop(fAdd, t[2], t[3], false, rc)
		sum, e3 := fop(fAdd, s01, s23, false, rc)
		exc |= e1 | e2 | e3
		for i := 0; i < 4; i++ {
			if imm>>i&1 != 0 {
				r.setD(i, uint32(sum))
			}
		}
	case x86asm.DPPD:
		rc := c.rc()
		var t [2]uint64
		for i := 0; i < 2; i++ {
			if imm>>(4+i)&1 != 0 {
				var e uint32
				t[i], e = fop(fMul, a[i], b[i], true, rc)
				exc |= e
			}
		}
		sum, e := fop(fAdd, t[0], t[1], true, rc)
		exc |= e
		for i := 0; i < 2; i++ {
			if imm>>i&1 != 0 {
				r[i] = sum
			}
		}
	case x86asm.PCMPISTRI, x86asm.PCMPESTRI, x86asm.PCMPISTRM, x86asm.PCMPESTRM:
		return c.pcmpstr(in, next, a, b, imm)
	case x86asm.MPSADBW:
		x, y := a.bytes(), b.bytes()
		ao := int(imm>>2&1) * 4
		bo := int(imm&3) * 4
		for i := 0; i < 8; i++ {
			var sum int
			for j := 0; j < 4; j++ {
				d := int(x[ao+i+j]) - int(y[bo+j])
				if d < 0 {
					d = -d
				}
				sum += d
			}
			r.setW(i, uint16(sum))
		}
	default:
		return c.ud()
	}
	if !c.mxRaise(exc) {
		return stFault
	}
	c.xmm[d.reg] = r
	c.RIP = next
	return stOK
}

// pcmpstr implements the SSE4.2 packed string compares.
func (c *CPU) pcmpstr(in *dinst, next uint64, a, b vec, imm uint64) int {
	op := x86asm.Op(in.op)
	words := imm&1 != 0
	signed := imm&2 != 0
	agg := imm >> 2 & 3
	pol := imm >> 4 & 3
	n := 16
	if words {
		n = 8
	}
	elem := func(v vec, i int) int {
		if words {
			if signed {
				return int(int16(v.w(i)))
			}
			return int(v.w(i))
		}
		x := v.bytes()[i]
		if signed {
			return int(int8(x))
		}
		return int(x)
	}
	var la, lb int
	explicit := op == x86asm.PCMPESTRI || op == x86asm.PCMPESTRM
	if explicit {
		abs := func(v int64) int {
			if v < 0 {
				v = -v
			}
			if v > int64(n) || v < 0 {
				return n
			}
			return int(v)
		}
		if in.osz == 8 {
			la, lb = abs(int64(c.Regs[RAX])), abs(int64(c.Regs[RDX]))
		} else {
			la, lb = abs(int64(int32(c.Regs[RAX]))), abs(int64(int32(c.Regs[RDX])))
		}
	} else {
		la, lb = n, n
		for i := 0; i < n; i++ {
			if elem(a, i) == 0 {
				la = i
				break
			}
		}
		for i := 0; i < n; i++ {
			if elem(b, i) == 0 {
				lb = i
				break
			}
		}
	}
	var res uint32
	switch agg {
	case 0: // equal any
		for j := 0; j < n; j++ {
			if j >= lb {
				continue
			}
			for i := 0; i < la; i++ {
				if elem(a, i) == elem(b, j) {
					res |= 1 << j
					break
				}
			}
		}
	case 1: // ranges
		for j := 0; j < n; j++ {
			if j >= lb {
				continue
			}
			for i := 0; i+1 < la; i += 2 {
				x := elem(b, j)
				if elem(a, i) <= x && x <= elem(a, i+1) {
					res |= 1 << j
					break
				}
			}
		}
	case 2: // equal each
		for j := 0; j < n; j++ {
			va, vb := j < la, j < lb
			switch {
			case va && vb:
				if elem(a, j) == elem(b, j) {
					res |= 1 << j
				}
			case !va && !vb:
				res |= 1 << j
			}
		}
	case 3: // equal ordered
		for j := 0; j < n; j++ {
			m := true
			for i := 0; i < la && j+i < n; i++ {
				if j+i >= lb {
					m = false
					break
				}
				if elem(a, i) != elem(b, j+i) {
					m = false
					break
				}
			}
			if m {
				res |= 1 << j
			}
		}
	}
	full := uint32(1)<<n - 1
	switch pol {
	case 1:
		res ^= full
	case 3:
		res ^= uint32(1)<<lb - 1
	}
	res &= full
	var f uint64
	if res != 0 {
		f |= FlagCF
	}
	if lb < n {
		f |= FlagZF
	}
	if la < n {
		f |= FlagSF
	}
	if res&1 != 0 {
		f |= FlagOF
	}
	if op == x86asm.PCMPISTRI || op == x86asm.PCMPESTRI {
		idx := n
		if res != 0 {
			if imm&0x40 != 0 {
				for i := n - 1; i >= 0; i-- {
					if res>>i&1 != 0 {
						idx = i
						break
					}
				}
			} else {
				for i := 0; i < n; i++ {
					if res>>i&1 != 0 {
						idx = i
						break
					}
				}
			}
		}
		c.Regs[RCX] = uint64(idx)
	} else {
		var m vec
		if imm&0x40 != 0 {
			for i := 0; i < n; i++ {
				if res>>i&1 != 0 {
					if words {
						m.setW(i, 0xffff)
					} else {
						bb := m.bytes()
						bb[i] = 0xff
						m = vecOf(bb)
					}
				}
			}
		} else {
			m = vec{uint64(res), 0}
		}
		c.xmm[0] = m
	}
	c.setArith(f)
	c.RIP = next
	return stOK
}
