package machine

import (
	"math/big"
	"sync"
)

// Multi-precision elementary functions for the x87 transcendental
// instructions. Each eval function returns its value at working precision
// prec with a relative error below 2^-(prec-8); the caller (ziv) rounds
// once to the 64-bit significand and raises the precision when the
// rounding is not yet decided. They allocate (math/big), which is fine:
// the transcendental instructions are rare next to the rest of x87.

// zivStart and zivMax bound the working precision. Hard cases for a
// 64-bit target need about 2*64 bits; anything undecided at zivMax is
// rounded as it stands (never a hang, never a panic).
const (
	zivStart = 112
	zivMax   = 2048
	constMax = zivMax + 128
)

var (
	bigConstOnce sync.Once
	bigLn2       *big.Float // ln 2 at constMax bits
	bigPi        *big.Float // π at constMax bits
)

func bigConsts() {
	bigConstOnce.Do(func() {
		p := uint(constMax + 64)
		// ln 2 = 2 atanh(1/3).
		third := new(big.Float).SetPrec(p).Quo(bigInt(1, p), bigInt(3, p))
		bigLn2 = atanhSeries(third, p)
		bigLn2.Mul(bigLn2, bigInt(2, p))
		// Machin: π = 16 atan(1/5) - 4 atan(1/239).
		a := atanSeries(new(big.Float).SetPrec(p).Quo(bigInt(1, p), bigInt(5, p)), p)
		b := atanSeries(new(big.Float).SetPrec(p).Quo(bigInt(1, p), bigInt(239, p)), p)
		a.Mul(a, bigInt(16, p))
		b.Mul(b, bigInt(4, p))
		bigPi = a.Sub(a, b)
	})
}

func bigInt(v int64, prec uint) *big.Float {
	return new(big.Float).SetPrec(prec).SetInt64(v)
}

func ln2(prec uint) *big.Float {
	bigConsts()
	return new(big.Float).SetPrec(prec).Set(bigLn2)
}

func piBig(prec uint) *big.Float {
	bigConsts()
	return new(big.Float).SetPrec(prec).Set(bigPi)
}

// small reports whether term is below 2^-prec relative to ref.
func small(term, ref *big.Float, prec uint) bool {
	if term.Sign() == 0 {
		return true
	}
	return term.MantExp(nil) < ref.MantExp(nil)-int(prec)-2
}

// atanhSeries returns s + s^3/3 + s^5/5 + ... for |s| <= 1/2.
func atanhSeries(s *big.Float, prec uint) *big.Float {
	sum := new(big.Float).SetPrec(prec).Set(s)
	s2 := new(big.Float).SetPrec(prec).Mul(s, s)
	pow := new(big.Float).SetPrec(prec).Set(s)
	term := new(big.Float).SetPrec(prec)
	k := new(big.Float).SetPrec(64)
	for n := int64(3); n < 1<<20; n += 2 {
		pow.Mul(pow, s2)
		term.Quo(pow, k.SetInt64(n))
		sum.Add(sum, term)
		if small(term, sum, prec) {
			break
		}
	}
	return sum
}

// atanSeries returns s - s^3/3 + s^5/5 - ... for |s| <= 1/2.
func atanSeries(s *big.Float, prec uint) *big.Float {
	sum := new(big.Float).SetPrec(prec).Set(s)
	s2 := new(big.Float).SetPrec(prec).Mul(s, s)
	s2.Neg(s2)
	pow := new(big.Float).SetPrec(prec).Set(s)
	term := new(big.Float).SetPrec(prec)
	k := new(big.Float).SetPrec(64)
	for n := int64(3); n < 1<<20; n += 2 {
		pow.Mul(pow, s2)
		term.Quo(pow, k.SetInt64(n))
		sum.Add(sum, term)
		if small(term, sum, prec) {
			break
		}
	}
	return sum
}

// bigExpm1 returns e^t - 1 for |t| <= 1 (relative error ~2^-prec).
func bigExpm1(t *big.Float, prec uint) *big.Float {
	w := prec + 40
	if t.Sign() == 0 {
		return new(big.Float).SetPrec(w)
	}
	// Halve t until |t| < 2^-12, sum the series, then double back with
	// expm1(2u) = expm1(u) * (expm1(u) + 2).
	k := t.MantExp(nil) + 12
	if k < 0 {
		k = 0
	}
	u := new(big.Float).SetPrec(w).SetMantExp(t, -k)
	sum := new(big.Float).SetPrec(w).Set(u)
	term := new(big.Float).SetPrec(w).Set(u)
	kn := new(big.Float).SetPrec(64)
	for n := int64(2); n < 1<<20; n++ {
		term.Mul(term, u)
		term.Quo(term, kn.SetInt64(n))
		sum.Add(sum, term)
		if small(term, sum, w) {
			break
		}
	}
	two := bigInt(2, w)
	tmp := new(big.Float).SetPrec(w)
	for i := 0; i < k; i++ {
		tmp.Add(sum, two)
		sum.Mul(sum, tmp)
	}
	return sum
}

// bigLog2 returns log2(z) for z > 0, z != 1.
func bigLog2(z *big.Float, prec uint) *big.Float {
	w := prec + 40
	m := new(big.Float).SetPrec(w + 64)
	e := z.MantExp(m) // z = m * 2^e, m in [0.5, 1)
	// Bring m into [sqrt(1/2), sqrt(2)).
	if m.Cmp(new(big.Float).SetFloat64(0.70710678118654752)) < 0 {
		m.SetMantExp(m, 1)
		e--
	}
	lnm := lnNear1(m, w)
	lnm.Quo(lnm, ln2(w))
	if e == 0 {
		return lnm
	}
	return lnm.Add(lnm, bigInt(int64(e), w))
}

// lnNear1 returns ln(m) for m in [sqrt(1/2), sqrt(2)], via
// 2 atanh((m-1)/(m+1)); m-1 is exact when m has fewer than w bits.
func lnNear1(m *big.Float, w uint) *big.Float {
	num := new(big.Float).SetPrec(w+128).Sub(m, bigInt(1, w))
	den := new(big.Float).SetPrec(w).Add(m, bigInt(1, w))
	s := new(big.Float).SetPrec(w).Quo(num, den)
	r := atanhSeries(s, w)
	return r.SetMantExp(r, 1)
}

// bigLog2p1 returns log2(1+x) for x > -1, x != 0.
func bigLog2p1(x *big.Float, prec uint) *big.Float {
	w := prec + 40
	if x.MantExp(nil) <= -2 {
		// |x| < 1/4: ln(1+x) = 2 atanh(x/(2+x)), keeps the relative
		// accuracy for tiny x.
		den := new(big.Float).SetPrec(w).Add(x, bigInt(2, w))
		s := new(big.Float).SetPrec(w).Quo(x, den)
		r := atanhSeries(s, w)
		r.SetMantExp(r, 1)
		return r.Quo(r, ln2(w))
	}
	z := new(big.Float).SetPrec(w+128).Add(x, bigInt(1, w))
	return bigLog2(z, prec)
}

// bigAtan returns atan(t) for 0 < t <= 1.
func bigAtan(t *big.Float, prec uint) *big.Float {
	w := prec + 40
	u := new(big.Float).SetPrec(w).Set(t)
	// atan(u) = 2 atan(u / (1 + sqrt(1 + u^2))) until u < 2^-6.
	k := 0
	one := bigInt(1, w)
	tmp := new(big.Float).SetPrec(w)
	for u.MantExp(nil) > -6 && k < 64 {
		tmp.Mul(u, u)
		tmp.Add(tmp, one)
		tmp.Sqrt(tmp)
		tmp.Add(tmp, one)
		u.Quo(u, tmp)
		k++
	}
	r := atanSeries(u, w)
	return r.SetMantExp(r, k)
}

// bigSinCos returns sin(r) and cos(r) for |r| <= 1.
func bigSinCos(r *big.Float, prec uint) (s, c *big.Float) {
	return bigSinOrCos(r, prec, false), bigSinOrCos(r, prec, true)
}

// bigSinOrCos returns sin(r), or cos(r) if cos, for |r| <= 1.
func bigSinOrCos(r *big.Float, prec uint, cos bool) *big.Float {
	w := prec + 40
	if cos && r.Sign() == 0 {
		return bigInt(1, w)
	}
	if r.Sign() == 0 {
		return new(big.Float).SetPrec(w)
	}
	r2 := new(big.Float).SetPrec(w).Mul(r, r)
	r2.Neg(r2)
	// Terms r^n/n! for odd n (sine) or even n (cosine).
	t := new(big.Float).SetPrec(w).Set(r)
	n := int64(1)
	if cos {
		t.SetInt64(1)
		n = 0
	}
	sum := new(big.Float).SetPrec(w).Set(t)
	k := new(big.Float).SetPrec(64)
	for ; n < 1<<20; n += 2 {
		t.Mul(t, r2)
		t.Quo(t, k.SetInt64((n+1)*(n+2)))
		sum.Add(sum, t)
		if small(t, sum, w) {
			break
		}
	}
	return sum
}
