package machine

import (
	"flag"
	"math/big"
	"math/bits"
	"math/rand"
	"testing"
)

var x87FastLong = flag.Bool("x87.fastlong", false, "run TestX87FastMatchesExact with many more operands")

// transResults runs every transcendental kernel on x and y with the fast
// paths on or off; the comparison covers results and flags (C1 included).
type transResults struct {
	r   [7]f80
	exc [7]uint16
	out [2]bool
}

func runTrans(x, y f80, rc uint16, fast bool) transResults {
	var o transResults
	o.r[0], o.exc[0] = f2xm1(x, rc, fast)
	o.r[1], o.exc[1] = fyl2x(x, y, rc, fast)
	o.r[2], o.exc[2] = fyl2xp1(x, y, rc, fast)
	o.r[3], o.exc[3] = fpatan(x, y, rc, fast)
	o.r[4], o.r[5], o.exc[4], o.exc[5], o.out[0] = fsincos(x, rc, true, true, fast)
	o.r[6], o.exc[6], o.out[1] = ftan(x, rc, fast)
	return o
}

var transNames = [7]string{"f2xm1", "fyl2x", "fyl2xp1", "fpatan", "fsin", "fcos", "fptan"}

func checkFastExact(t testing.TB, x, y f80, rc uint16) {
	t.Helper()
	f, e := runTrans(x, y, rc, true), runTrans(x, y, rc, false)
	if f == e {
		return
	}
	for i := range f.r {
		if f.r[i] != e.r[i] || f.exc[i] != e.exc[i] {
			t.Errorf("%s x=%04x:%016x y=%04x:%016x rc=%d: fast %04x:%016x exc %#x, exact %04x:%016x exc %#x",
				transNames[i], x.se, x.mant, y.se, y.mant, rc, f.r[i].se, f.r[i].mant, f.exc[i], e.r[i].se, e.r[i].mant, e.exc[i])
		}
	}
	if f.out != e.out {
		t.Errorf("x=%04x:%016x: out of range fast %v exact %v", x.se, x.mant, f.out, e.out)
	}
}

// fastEdgeOperands are operands whose results are exact, nearly exact
// (so the fast path must refuse them) or at the ends of the normal range.
func fastEdgeOperands(r *rand.Rand) (x, y f80) {
	switch r.Intn(10) {
	case 0:
		// Powers of two and 2^k - 1, ±(1 - 2^-j): exact logarithms.
		k := 1 + r.Intn(64)
		m := ^uint64(0) << uint(64-k) // k leading ones
		if r.Intn(2) == 0 {
			return mkF80(false, r.Intn(400)-200, 1<<63), randMid(r, -70, 70)
		}
		if r.Intn(2) == 0 {
			return mkF80(false, k-1, m), randMid(r, -70, 70) // 2^k - 1
		}
		return mkF80(true, -1, m), randMid(r, -70, 70) // -(1 - 2^-k)
	case 1:
		// Tiny arguments around the thresholds where the functions are
		// x(1 ± x²/k): the approximation sits next to a boundary.
		return randMid(r, -48, -25), randMid(r, -48, -25)
	case 2:
		// Results at the ends of the exponent range.
		return mkF80(false, r.Intn(40)-20, randSig(r)), randSign(r, mkF80(false, 16383-r.Intn(8), randSig(r)))
	case 3:
		return randMid(r, -16445, -16370), randSign(r, mkF80(false, -16382+r.Intn(8), randSig(r)))
	case 4:
		return nearPiMultiple(r), randMid(r, -70, 70)
	case 5:
		// Near 1 and near -1/2, 1/2 for the logarithms.
		m := uint64(1<<63) + uint64(r.Intn(1<<uint(r.Intn(40))))
		return mkF80(r.Intn(2) == 0, r.Intn(3)-1, m), randMid(r, -5, 5)
	case 6:
		// Equal and nearly equal magnitudes for FPATAN, table points j/16.
		a := randMid(r, -10, 10)
		b := a
		b.mant += uint64(r.Intn(5)) - 2
		b.mant |= 1 << 63
		if r.Intn(2) == 0 {
			j := int64(1 + r.Intn(16))
			b = f80FromInt(j)
			a = f80FromInt(16)
		}
		return randSign(r, a), randSign(r, b)
	case 7:
		return specialF80(r), specialF80(r)
	case 8:
		// Significands with long runs (every exponent up to the trig
		// limit).
		return randMid(r, -70, 64), randMid(r, -70, 64)
	}
	return randMid(r, -1, 1), randMid(r, -3, 3)
}

// TestX87FastMatchesExact runs every transcendental with and without its
// fast path on random, edge and special operands in all four rounding
// modes, and requires the same 80-bit results and flags.
func TestX87FastMatchesExact(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	if *x87FastLong {
		n = 100000
	}
	r := rand.New(rand.NewSource(11))
	ops := x87TransOps()
	for i := 0; i < n && !t.Failed(); i++ {
		for _, op := range ops {
			x, y := op.gen(r)
			checkFastExact(t, x, y, uint16(r.Intn(4)))
		}
		x, y := fastEdgeOperands(r)
		for rc := uint16(0); rc < 4; rc++ {
			checkFastExact(t, x, y, rc)
		}
	}
}

// FuzzX87FastVsExact compares the fast and exact paths on any operands.
func FuzzX87FastVsExact(f *testing.F) {
	f.Add(uint16(0x3ffd), uint64(0xc142e67a6a717d24), uint16(0x4002), uint64(0xa142e67a6a717d24), uint8(0))
	f.Add(uint16(0x403a), uint64(0xc142e67a6a717d24), uint16(0x3fff), uint64(1<<63), uint8(1))
	f.Add(uint16(0xbffe), uint64(0xffffffffffffffff), uint16(0x3fd0), uint64(0x8000000000000001), uint8(2))
	f.Add(uint16(0x0001), uint64(0x8000000000000000), uint16(0x7ffe), uint64(0xffffffffffffffff), uint8(3))
	f.Fuzz(func(t *testing.T, xse uint16, xm uint64, yse uint16, ym uint64, rc uint8) {
		checkFastExact(t, f80{mant: xm, se: xse}, f80{mant: ym, se: yse}, uint16(rc&3))
	})
}

// TestX87FastPathRate checks that random in-domain operands (uniformly
// random significands) take the fast path: the error bounds leave the
// rounding undecided for about 2^-45 of them, so a refusal rate above a
// tenth of a per cent means a broken bound or rounding test. The rates
// are logged. (Significands with long runs of zeros, as randSig makes,
// are refused more often where the result is x(1 + tiny): the
// approximation then lies near x, a rounding boundary.)
func TestX87FastPathRate(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	n := 4000
	if testing.Short() {
		n = 1000
	}
	uni := func(lo, hi int) f80 {
		return randSign(r, mkF80(false, lo+r.Intn(hi-lo+1), r.Uint64()|1<<63))
	}
	kernels := []struct {
		name string
		f    func() xf
	}{
		{"f2xm1", func() xf { return fastF2xm1(uni(-40, -1)) }},
		{"fyl2x", func() xf { return fastFyl2x(uni(-100, 100).abs(), uni(-60, 60)) }},
		{"fyl2xp1", func() xf { return fastFyl2xp1(uni(-40, -2), uni(-60, 60)) }},
		{"fpatan", func() xf { return fastFpatan(uni(-60, 60), uni(-60, 60)) }},
		{"fsin", func() xf { s, _ := fastSinCos(fastTrigReduce(uni(-30, 62))); return s }},
		{"fcos", func() xf { _, c := fastSinCos(fastTrigReduce(uni(-30, 62))); return c }},
		{"fptan", func() xf { return fastTan(fastTrigReduce(uni(-30, 62))) }},
	}
	for _, k := range kernels {
		fast := 0
		for i := 0; i < n; i++ {
			if _, _, ok := xfRound(k.f(), uint16(i&3)); ok {
				fast++
			}
		}
		t.Logf("%s: %d/%d on the fast path", k.name, fast, n)
		if n-fast > n/1000 {
			t.Errorf("%s: only %d/%d on the fast path", k.name, fast, n)
		}
	}
}

// xfBig converts an xf exactly.
func xfBig(a xf) *big.Float {
	v := new(big.Float).SetPrec(128)
	if a.hi == 0 {
		return v
	}
	i := new(big.Int).SetUint64(a.hi)
	i.Lsh(i, 64)
	i.Or(i, new(big.Int).SetUint64(a.lo))
	v.SetInt(i)
	v.SetMantExp(v, a.e-127)
	if a.neg {
		v.Neg(v)
	}
	return v
}

// relErrBits returns log2 of |got - want| / |want| (-inf as -1000).
func relErrBits(got xf, want *big.Float) int {
	d := new(big.Float).SetPrec(400).Sub(xfBig(got), want)
	if d.Sign() == 0 {
		return -1000
	}
	d.Quo(d, want)
	return d.MantExp(nil)
}

func randXf(r *rand.Rand) xf {
	a := xf{hi: r.Uint64() | 1<<63, lo: r.Uint64(), e: r.Intn(20) - 10, neg: r.Intn(2) == 0}
	switch r.Intn(4) {
	case 0:
		a.lo = 0
	case 1:
		a.lo |= 1<<uint(r.Intn(64)) - 1
	}
	return a
}

// TestXfArith checks the per-operation error bounds the fast paths'
// analysis rests on: |δ| < 2^-126 for xfMul and xfAdd (including
// cancellation and far-apart exponents), below 8*2^-126 for xfDiv.
func TestXfArith(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for i := 0; i < 20000; i++ {
		a, b := randXf(r), randXf(r)
		switch r.Intn(4) {
		case 0:
			// Nearly equal magnitudes: cancellation.
			b = a
			b.neg = !a.neg
			b.lo += uint64(r.Intn(1 << 20))
			if r.Intn(2) == 0 {
				b.e--
				b.hi |= 1 << 63
			}
		case 1:
			b.e = a.e - r.Intn(300)
		}
		wantMul := new(big.Float).SetPrec(400).Mul(xfBig(a), xfBig(b))
		if e := relErrBits(xfMul(a, b), wantMul); e > -127 {
			t.Fatalf("xfMul(%+v, %+v): relative error 2^%d", a, b, e)
		}
		wantAdd := new(big.Float).SetPrec(1000).Add(xfBig(a), xfBig(b))
		if got := xfAdd(a, b); wantAdd.Sign() == 0 {
			if !got.isZero() {
				t.Fatalf("xfAdd(%+v, %+v) = %+v, want 0", a, b, got)
			}
		} else if e := relErrBits(got, wantAdd); e > -127 {
			t.Fatalf("xfAdd(%+v, %+v): relative error 2^%d", a, b, e)
		}
		wantDiv := new(big.Float).SetPrec(400).Quo(xfBig(a), xfBig(b))
		if e := relErrBits(xfDiv(a, b), wantDiv); e > -123 {
			t.Fatalf("xfDiv(%+v, %+v): relative error 2^%d", a, b, e)
		}
	}
}

// TestXfRoundDecides checks the rounding test: whenever xfRound accepts
// an approximation v, every value within the error bound (2^-fastErrBits
// relatively, taken here as fastDelta/2 units of the last place, at both
// ends) rounds to the same result and flags, and the result is inexact.
// The approximations are biased to the rounding boundaries of normal and
// denormal results, near the ends of the exponent range and beyond.
func TestXfRoundDecides(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	half := uint64(fastDelta / 2)
	exps := []int{-16445, -16444, -16443, -16420, -16400, -16384, -16383, -16382, -16381, 16382, 16383, 16384, 16390}
	accepted, tiny := 0, 0
	for i := 0; i < 100000; i++ {
		v := randXf(r)
		if r.Intn(3) != 0 {
			v.e = exps[r.Intn(len(exps))]
		}
		// Low bits near a boundary: for a normal result the low 64 bits
		// near 0 or 1<<63, for a denormal one the low 64+sh bits near 0
		// or 1<<(63+sh).
		near := func() uint64 { return uint64(r.Int63n(4*fastDelta)) - 2*fastDelta }
		switch r.Intn(4) {
		case 0:
			v.lo = near()
		case 1:
			v.lo = 1<<63 + near()
		}
		if sh := -16382 - v.e; sh > 1 && sh < 64 && r.Intn(2) == 0 {
			mask := uint64(1)<<uint(sh-1) - 1
			v.hi &^= mask
			if r.Intn(2) == 0 {
				v.hi |= mask
			}
			v.lo = near()
		}
		rc := uint16(r.Intn(4))
		got, exc, ok := xfRound(v, rc)
		if !ok {
			continue
		}
		accepted++
		if got.exp() == 0 {
			tiny++
		}
		if exc&fePE == 0 {
			t.Fatalf("xfRound(%+v) accepted without #P: flags %#x", v, exc)
		}
		loD, b := bits.Sub64(v.lo, half, 0)
		hiD, _ := bits.Sub64(v.hi, 0, b)
		loU, c := bits.Add64(v.lo, half, 0)
		hiU, _ := bits.Add64(v.hi, 0, c)
		for _, w := range [][2]uint64{{hiD, loD}, {hiU, loU}} {
			if w[0]>>63 == 0 {
				t.Fatalf("xfRound(%+v) accepted a value %d units from the next binade", v, half)
			}
			r2, e2 := round80(v.neg, v.e, w[0], w[1], 3, rc)
			if r2 != got || e2 != exc {
				t.Fatalf("xfRound(%+v, %d) = %04x:%016x %#x, but %016x:%016x rounds to %04x:%016x %#x",
					v, rc, got.se, got.mant, exc, w[0], w[1], r2.se, r2.mant, e2)
			}
		}
	}
	if accepted < 20000 || tiny < 2000 {
		t.Fatalf("only %d of 100000 accepted, %d of them denormal", accepted, tiny)
	}
	t.Logf("%d of 100000 accepted, %d of them denormal", accepted, tiny)
}

// TestFastTrigReduce compares the allocation-free reduction with
// trigReduce (math/big) on random and near-multiple-of-π operands.
func TestFastTrigReduce(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for i := 0; i < 20000; i++ {
		x := randMid(r, -3, 62)
		if i%4 == 0 {
			x = nearPiMultiple(r)
		}
		if x.exp()-16383 >= 63 {
			continue
		}
		q1, r1 := trigReduce(x)
		q2, r2 := fastTrigReduce(x)
		if q1 != q2 || r1.Cmp(xfBig(r2)) != 0 {
			t.Fatalf("x=%04x:%016x: trigReduce %d %v, fastTrigReduce %d %v", x.se, x.mant, q1, r1, q2, xfBig(r2))
		}
	}
}

// log2Exact1pBig is the earlier math/big version of log2Exact1p.
func log2Exact1pBig(x f80) (int, bool) {
	_, xe, _ := x.unpack()
	if xe < -1 {
		return 0, false
	}
	z := new(big.Float).SetPrec(uint(xe+1)+72).Add(f80Big(x), bigInt(1, 64))
	m := new(big.Float)
	e := z.MantExp(m)
	if m.Cmp(big.NewFloat(0.5)) != 0 || e == 1 {
		return 0, false
	}
	return e - 1, true
}

// TestLog2Exact1p compares log2Exact1p with the math/big definition on
// the values 2^k - 1 and -(1 - 2^-j), their neighbours and random values.
func TestLog2Exact1p(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	check := func(x f80) {
		if !x.isZero() && !(x.neg() && x.exp() >= 16383) {
			k1, ok1 := log2Exact1pBig(x)
			k2, ok2 := log2Exact1p(x)
			if k1 != k2 || ok1 != ok2 {
				t.Fatalf("x=%04x:%016x: big %d %v, fast %d %v", x.se, x.mant, k1, ok1, k2, ok2)
			}
		}
	}
	for k := 1; k <= 64; k++ {
		m := ^uint64(0) << uint(64-k)
		for _, d := range []uint64{0, 1, 1 << uint(64-k), ^uint64(0)} {
			for e := -3; e <= 66; e++ {
				check(mkF80(false, e, (m+d)|1<<63))
				check(mkF80(true, e, (m+d)|1<<63))
			}
		}
	}
	for i := 0; i < 20000; i++ {
		check(randMid(r, -5, 70))
	}
}

// TestFastKernelErrors measures each fast kernel's relative error against
// a 300-bit evaluation and requires it below the bound its comment in
// x87_fast.go argues (in units of u = 2^-126); the largest observed error
// is logged.
func TestFastKernelErrors(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	n := 1500
	if testing.Short() {
		n = 300
	}
	sig := func() uint64 {
		if r.Intn(2) == 0 {
			return randSig(r)
		}
		return r.Uint64() | 1<<63
	}
	mid := func(lo, hi int) f80 { return randSign(r, mkF80(false, lo+r.Intn(hi-lo+1), sig())) }
	kernels := []struct {
		name  string
		bound float64 // in u
		f     func() (xf, *big.Float)
	}{
		{"f2xm1", 168, func() (xf, *big.Float) {
			x := mid(-70, -1)
			if r.Intn(2) == 0 {
				x = mid(-7, -1) // the table's range
			}
			return fastF2xm1(x), f2xm1Eval(x)(300)
		}},
		{"fyl2x", 106, func() (xf, *big.Float) {
			x, y := mkF80(false, r.Intn(300)-150, sig()|1), mid(-60, 60)
			if r.Intn(4) == 0 {
				x = mkF80(false, r.Intn(2)-1, 1<<63+uint64(r.Intn(1<<20))+1) // near 1
			}
			return fastFyl2x(x, y), fyl2xEval(x, y)(300)
		}},
		{"fyl2xp1", 107, func() (xf, *big.Float) {
			x, y := mid(-70, 70), mid(-60, 60)
			if x.neg() && x.exp()-16383 >= 0 {
				x = x.abs()
			}
			if _, ok := log2Exact1p(x); ok {
				x.mant ^= 2
			}
			return fastFyl2xp1(x, y), fyl2xp1Eval(x, y)(300)
		}},
		{"fpatan", 60, func() (xf, *big.Float) {
			x, y := mid(-60, 60), mid(-60, 60)
			return fastFpatan(x, y), fpatanEval(x, y)(300)
		}},
		{"fsin", 65, func() (xf, *big.Float) {
			x := mid(-30, 62)
			s, _ := fastSinCos(fastTrigReduce(x))
			return s, trigEval(x, trigSin)(300)
		}},
		{"fcos", 65, func() (xf, *big.Float) {
			x := mid(-30, 62)
			_, c := fastSinCos(fastTrigReduce(x))
			return c, trigEval(x, trigCos)(300)
		}},
		{"fptan", 96, func() (xf, *big.Float) {
			x := mid(-30, 62)
			return fastTan(fastTrigReduce(x)), trigEval(x, trigTan)(300)
		}},
	}
	for _, k := range kernels {
		worst := 0.0
		for i := 0; i < n; i++ {
			got, want := k.f()
			d := new(big.Float).SetPrec(400).Sub(xfBig(got), want)
			d.Quo(d, want)
			d.SetMantExp(d, 126) // in units of u
			e, _ := d.Abs(d).Float64()
			if e > worst {
				worst = e
				if e >= k.bound {
					t.Errorf("%s: relative error %.1fu, bound %gu: got %v want %v", k.name, e, k.bound, xfBig(got), want)
				}
			}
		}
		t.Logf("%s: largest relative error %.2fu (bound %gu)", k.name, worst, k.bound)
	}
}

// exactTinyRatioBig is the earlier math/big version of exactTinyRatio.
func exactTinyRatioBig(y, x f80) (f80, bool) {
	if x.neg() {
		return f80{}, false
	}
	_, ye, _ := y.unpack()
	_, xe, _ := x.unpack()
	if ye-xe >= tinyExp-1 {
		return f80{}, false
	}
	q := new(big.Float).SetPrec(256).Quo(f80Big(y), f80Big(x))
	r, e := bigToF80(q, 0)
	if e&fePE != 0 || r.isZero() {
		return f80{}, false
	}
	return r, true
}

// TestExactTinyRatio compares exactTinyRatio with the math/big definition
// on exact quotients (normal, denormal and too small) and random ones.
func TestExactTinyRatio(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	exact := 0
	for i := 0; i < 20000; i++ {
		var x, y f80
		switch r.Intn(3) {
		case 0:
			// y = q*x*2^-d for a short q: y/x = q*2^-d exactly. xm has
			// at most 11 significant bits and q 10, so y's significand
			// fits in 64 bits.
			xm := 1<<63 | uint64(r.Intn(1<<10))<<53
			q := uint64(1 + r.Intn(1<<10))
			hi, lo := bits.Mul64(xm, q)
			n := bits.LeadingZeros64(hi)
			ym := hi<<uint(n) | lo>>uint(64-n)
			ye := -16382 + r.Intn(16382+200)
			if r.Intn(2) == 0 {
				ye = -16382 + r.Intn(100)
			}
			xe := ye + 30 + r.Intn(16445)
			if xe > 16383 {
				xe = 16383
			}
			x, y = mkF80(false, xe, xm), mkF80(r.Intn(2) == 0, ye, ym)
			if r.Intn(4) == 0 {
				// A denormal y: the same quotient's significand,
				// shifted.
				y = f80{mant: ym >> uint(1+r.Intn(20))}
				x = mkF80(false, r.Intn(40), xm)
			}
		case 1:
			x = mkF80(false, r.Intn(200)-100, randSig(r))
			y = randMid(r, -16382, 0)
		default:
			x = mkF80(r.Intn(8) == 0, r.Intn(40), 1<<63|uint64(r.Intn(4))<<61)
			y = randMid(r, -16382, -40)
		}
		r1, ok1 := exactTinyRatioBig(y, x)
		r2, ok2 := exactTinyRatio(y, x)
		if r1 != r2 || ok1 != ok2 {
			t.Fatalf("y=%04x:%016x x=%04x:%016x: big %04x:%016x %v, fast %04x:%016x %v",
				y.se, y.mant, x.se, x.mant, r1.se, r1.mant, ok1, r2.se, r2.mant, ok2)
		}
		if ok1 {
			exact++
		}
	}
	if exact < 1000 {
		t.Fatalf("only %d exact quotients among the cases", exact)
	}
	t.Logf("%d exact quotients", exact)
}

// TestX87FastNoAlloc checks that the kernels do not allocate on the fast
// path (typical operands, FPATAN's exact tiny quotients and multiples of
// π) nor on their special-operand paths.
func TestX87FastNoAlloc(t *testing.T) {
	x := f80{mant: 0xc142e67a6a717d24, se: 0x3ffd} // 0.377
	y := f80{mant: 0xa142e67a6a717d24, se: 0x4002} // 10.08
	huge := f80{mant: 0xc142e67a6a717d24, se: 0x403a}
	tiny := mkF80(false, -60, 1<<63)
	for _, rc := range []uint16{0, 1, 2, 3} {
		n := testing.AllocsPerRun(20, func() {
			f2xm1(x, rc, true)
			f2xm1(x.chs(), rc, true)
			fyl2x(y, x, rc, true)
			fyl2x(f80One, x, rc, true)
			fyl2xp1(x, y, rc, true)
			fyl2xp1(mkF80(false, 1, 3<<62), y, rc, true) // 1+x = 4
			fpatan(y, x, rc, true)
			fpatan(x, tiny, rc, true) // an exact tiny quotient
			fpatan(f80{}, x, rc, true)
			fpatan(f80Inf(true), f80Inf(false), rc, true)
			fsincos(x, rc, true, true, true)
			fsincos(huge, rc, true, true, true)
			fsincos(tiny, rc, true, true, true)
			ftan(x, rc, true)
			ftan(huge, rc, true)
			ftan(tiny, rc, true)
			ftan(f80Inf(false), rc, true)
		})
		if n != 0 {
			t.Errorf("rc=%d: %v allocations per run", rc, n)
		}
	}
}

// x87TransBlocks are straight-line blocks of 100 transcendental
// instructions each, with operands loaded from constants (fld1 = D9 E8,
// fldl2e = D9 EA, fldlg2 = D9 EC) and results popped (fstp st(0) = DD
// D8), ending in int3.
func x87TransBlocks() []struct {
	name string
	code []byte
} {
	blocks := []struct {
		name string
		body []byte
	}{
		{"f2xm1", []byte{0xd9, 0xec, 0xd9, 0xf0, 0xdd, 0xd8}},
		{"fyl2x", []byte{0xd9, 0xe8, 0xd9, 0xea, 0xd9, 0xf1, 0xdd, 0xd8}},
		{"fyl2xp1", []byte{0xd9, 0xe8, 0xd9, 0xec, 0xd9, 0xf9, 0xdd, 0xd8}},
		{"fpatan", []byte{0xd9, 0xe8, 0xd9, 0xec, 0xd9, 0xf3, 0xdd, 0xd8}},
		{"fsin", []byte{0xd9, 0xe8, 0xd9, 0xfe, 0xdd, 0xd8}},
		{"fcos", []byte{0xd9, 0xe8, 0xd9, 0xff, 0xdd, 0xd8}},
		{"fsincos", []byte{0xd9, 0xe8, 0xd9, 0xfb, 0xdd, 0xd8, 0xdd, 0xd8}},
		{"fptan", []byte{0xd9, 0xe8, 0xd9, 0xf2, 0xdd, 0xd8, 0xdd, 0xd8}},
	}
	var out []struct {
		name string
		code []byte
	}
	for _, b := range blocks {
		var code []byte
		for i := 0; i < 100; i++ {
			code = append(code, b.body...)
		}
		out = append(out, struct {
			name string
			code []byte
		}{b.name, code})
	}
	return out
}

// runX87Block runs a block from x87TransBlocks on e from a clean FPU.
func runX87Block(e *x87Emulator) Exit {
	e.c.fninit()
	e.c.RIP = diffCode
	e.c.Regs[RSP] = diffStack - 256
	return e.c.Run(1 << 20)
}

// TestX87TransInsnNoAlloc runs the transcendental instructions on the
// emulated CPU: no allocation per instruction.
func TestX87TransInsnNoAlloc(t *testing.T) {
	for _, b := range x87TransBlocks() {
		e := newX87Emulator(b.code)
		if ex := runX87Block(e); ex.Reason != ExitBreakpoint {
			t.Fatalf("%s: exit %v, want a breakpoint", b.name, ex.Reason)
		}
		if n := testing.AllocsPerRun(5, func() { runX87Block(e) }); n != 0 {
			t.Errorf("%s: %v allocations per block of 100", b.name, n)
		}
	}
}

// BenchmarkX87TransInsn measures the transcendental instructions on the
// emulated CPU, with their operand loads and pops: ns/insn is per
// transcendental instruction (of the 100 in a block).
func BenchmarkX87TransInsn(b *testing.B) {
	for _, bl := range x87TransBlocks() {
		e := newX87Emulator(bl.code)
		b.Run(bl.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				runX87Block(e)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/insn")
		})
	}
}
