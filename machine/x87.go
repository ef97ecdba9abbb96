package machine

import (
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// x87 execution. Exceptions set the FSW flags; the masked response is
// always delivered. An unmasked exception gives ExitFPE (VectorMF) at the
// instruction, which changes nothing but FSW (its flags, ES and B). That
// is the hardware's state for the pre-computation exceptions (IE, DE, ZE),
// though the hardware reports #MF at the next waiting x87 instruction; for
// PE, OE and UE the hardware also completes the instruction (a rounded or
// exponent-biased result) first, which this model does not.

const (
	fC0 = 1 << 8
	fC1 = 1 << 9
	fC2 = 1 << 10
	fC3 = 1 << 14
)

func (c *CPU) phys(i int) int { return (int(c.ftop) + i) & 7 }

func (c *CPU) stEmpty(i int) bool { return c.ftag>>c.phys(i)&1 == 0 }

// st reads ST(i); an empty register is a stack underflow (IE|SF) and reads
// as the indefinite NaN.
func (c *CPU) st(i int, exc *uint16) f80 {
	if c.stEmpty(i) {
		*exc |= feIE | feSF
		c.fsw &^= fC1
		return f80Indefinite
	}
	return c.fpr[c.phys(i)]
}

func (c *CPU) stSet(i int, v f80) {
	p := c.phys(i)
	c.fpr[p] = v
	c.ftag |= 1 << p
}

func (c *CPU) fpush(v f80, exc *uint16) {
	c.ftop = (c.ftop - 1) & 7
	if c.ftag>>c.ftop&1 != 0 {
		*exc |= feIE | feSF
		c.fsw |= fC1
		v = f80Indefinite
	}
	c.fpr[c.ftop] = v
	c.ftag |= 1 << c.ftop
}

func (c *CPU) fpop() {
	c.ftag &^= 1 << c.ftop
	c.ftop = (c.ftop + 1) & 7
}

// fcheck reports whether exc contains an unmasked exception; if so the
// instruction faults with ExitFPE.
func (c *CPU) funmasked(exc uint16) bool {
	return exc&0x3f&^(c.fcw&0x3f) != 0
}

// fraise records exception flags in FSW.
func (c *CPU) fraise(exc uint16) {
	if exc == 0 {
		return
	}
	c.fsw |= exc & 0x7f
	exc &= 0x7f
	if exc&0x3f&^(c.fcw&0x3f) != 0 {
		c.fsw |= 1<<7 | 1<<15
	}
}

// fmem loads a memory operand of the given kind: 'f' float of size 4/8/10,
// 'i' integer of size 2/4/8.
func (c *CPU) fmem(addr uint64, kind byte, size uint8) (f80, uint16, bool) {
	switch {
	case kind == 'i':
		v, ok := c.rd(addr, size)
		if !ok {
			return f80{}, 0, false
		}
		return f80FromInt(int64(sext(v, size))), 0, true
	case size == 4:
		v, ok := c.rd(addr, 4)
		if !ok {
			return f80{}, 0, false
		}
		r, e := f80FromF32(uint32(v))
		return r, e, true
	case size == 8:
		v, ok := c.rd(addr, 8)
		if !ok {
			return f80{}, 0, false
		}
		r, e := f80FromF64(v)
		return r, e, true
	}
	var b [10]byte
	if !c.rdBytes(addr, b[:]) {
		return f80{}, 0, false
	}
	return f80{mant: le.Uint64(b[:]), se: le.Uint16(b[8:])}, 0, true
}

func (c *CPU) execX87(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	opc := in.x87 >> 8        // low 3 bits of D8..DF
	reg := in.x87 >> 3 & 7    // ModRM reg field
	isReg := in.x87>>6&3 == 3 // register form
	pc, rc := c.fcw>>8&3, c.fcw>>10&3
	var addr uint64
	hasMem := !isReg && in.narg > 0 && in.args[0].kind == akMem
	if hasMem {
		addr = c.ea(in)
	}
	// Save state so that an unmasked exception leaves no trace.
	saveTop, saveTag, saveFSW := c.ftop, c.ftag, c.fsw
	var saveRegs [8]f80
	saveRegs = c.fpr
	var exc uint16
	// fail undoes the instruction and faults: the handler sees the state
	// before it with the exception flags, ES and B set in FSW (as the host
	// shows for the pre-computation exceptions IE, DE and ZE).
	fail := func() int {
		c.ftop, c.ftag, c.fpr = saveTop, saveTag, saveRegs
		c.fsw = saveFSW | exc&0x7f | 1<<7 | 1<<15
		c.pend = Exit{Reason: ExitFPE, Vector: VectorMF}
		return stFault
	}
	control := false
	argST := func(i int) int {
		if i < int(in.narg) && in.args[i].kind == akST {
			return int(in.args[i].reg)
		}
		return -1
	}
	switch op {
	case x86asm.FLD:
		var v f80
		if hasMem {
			var ok bool
			var e uint16
			size := uint8(4)
			switch opc {
			case 5:
				size = 8
			case 3:
				size = 10
			}
			if v, e, ok = c.fmem(addr, 'f', size); !ok {
				return stFault
			}
			exc |= e
			if size != 10 && v.isNaN() {
				v = v.quiet()
			}
		} else {
			v = c.st(argST(0), &exc)
		}
		c.fpush(v, &exc)
	case x86asm.FST, x86asm.FSTP:
		v := c.st(0, &exc)
		if hasMem {
			switch {
			case opc == 1: // m32
				b, e := v.toFloat(24, 8, rc)
				exc |= e
				if c.funmasked(exc) {
					return fail()
				}
				if !c.wr(addr, 4, b) {
					return stFault
				}
			case opc == 5: // m64
				b, e := v.toFloat(53, 11, rc)
				exc |= e
				if c.funmasked(exc) {
					return fail()
				}
				if !c.wr(addr, 8, b) {
					return stFault
				}
			default: // m80
				var b [10]byte
				le.PutUint64(b[:], v.mant)
				le.PutUint16(b[8:], v.se)
				if !c.wrBytes(addr, b[:]) {
					return stFault
				}
			}
		} else {
			c.stSet(argST(0), v)
		}
		if op == x86asm.FSTP {
			c.fpop()
		}
	case x86asm.FILD:
		size := uint8(4)
		switch {
		case opc == 7 && reg == 0:
			size = 2
		case opc == 7 && reg == 5:
			size = 8
		}
		v, _, ok := c.fmem(addr, 'i', size)
		if !ok {
			return stFault
		}
		c.fpush(v, &exc)
	case x86asm.FIST, x86asm.FISTP, x86asm.FISTTP:
		size := uint8(4)
		switch {
		case opc == 7 && reg <= 3:
			size = 2
		case opc == 7 && reg == 7, opc == 5:
			size = 8
		}
		v := c.st(0, &exc)
		mode := rc
		if op == x86asm.FISTTP {
			mode = 3
		}
		r, e := v.toInt(int(size), mode)
		exc |= e
		if c.funmasked(exc) {
			return fail()
		}
		if !c.wr(addr, size, r) {
			return stFault
		}
		if op != x86asm.FIST {
			c.fpop()
		}
	case x86asm.FADD, x86asm.FSUB, x86asm.FSUBR, x86asm.FMUL, x86asm.FDIV, x86asm.FDIVR,
		x86asm.FADDP, x86asm.FSUBP, x86asm.FSUBRP, x86asm.FMULP, x86asm.FDIVP, x86asm.FDIVRP,
		x86asm.FIADD, x86asm.FISUB, x86asm.FISUBR, x86asm.FIMUL, x86asm.FIDIV, x86asm.FIDIVR:
		di, si := 0, 1
		var a, b f80
		var memDE uint16
		if hasMem {
			var ok bool
			var e uint16
			switch opc {
			case 0:
				b, e, ok = c.fmem(addr, 'f', 4)
			case 4:
				b, e, ok = c.fmem(addr, 'f', 8)
			case 2:
				b, e, ok = c.fmem(addr, 'i', 4)
			default:
				b, e, ok = c.fmem(addr, 'i', 2)
			}
			if !ok {
				return stFault
			}
			memDE = e & feDE
			exc |= e &^ feDE
			a = c.st(0, &exc)
		} else {
			if x := argST(0); x >= 0 {
				di = x
			}
			if x := argST(1); x >= 0 {
				si = x
			} else if di != 0 {
				si = 0
			}
			a = c.st(di, &exc)
			b = c.st(si, &exc)
		}
		var r f80
		var e uint16
		switch op {
		case x86asm.FADD, x86asm.FADDP, x86asm.FIADD:
			r, e = f80Add(a, b, false, pc, rc)
		case x86asm.FSUB, x86asm.FSUBP, x86asm.FISUB:
			r, e = f80Add(a, b, true, pc, rc)
		case x86asm.FSUBR, x86asm.FSUBRP, x86asm.FISUBR:
			r, e = f80Add(b, a, true, pc, rc)
		case x86asm.FMUL, x86asm.FMULP, x86asm.FIMUL:
			r, e = f80Mul(a, b, pc, rc)
		case x86asm.FDIV, x86asm.FDIVP, x86asm.FIDIV:
			r, e = f80Div(a, b, pc, rc)
		default:
			r, e = f80Div(b, a, pc, rc)
		}
		if memDE != 0 && !a.isNaN() && !b.isNaN() && e&(feIE|feZE) == 0 {
			exc |= feDE
		}
		exc |= e
		if c.funmasked(exc) {
			return fail()
		}
		c.stSet(di, r)
		switch op {
		case x86asm.FADDP, x86asm.FSUBP, x86asm.FSUBRP, x86asm.FMULP, x86asm.FDIVP, x86asm.FDIVRP:
			c.fpop()
		}
	case x86asm.FCOM, x86asm.FCOMP, x86asm.FCOMPP, x86asm.FUCOM, x86asm.FUCOMP, x86asm.FUCOMPP,
		x86asm.FICOM, x86asm.FICOMP, x86asm.FTST:
		a := c.st(0, &exc)
		var b f80
		switch {
		case op == x86asm.FTST:
			b = f80{}
		case hasMem:
			var ok bool
			var e uint16
			switch opc {
			case 0:
				b, e, ok = c.fmem(addr, 'f', 4)
			case 4:
				b, e, ok = c.fmem(addr, 'f', 8)
			case 2:
				b, e, ok = c.fmem(addr, 'i', 4)
			default:
				b, e, ok = c.fmem(addr, 'i', 2)
			}
			if !ok {
				return stFault
			}
			exc |= e
		default:
			// FCOM ST(i) names only ST(i) (which may be ST(0));
			// FCOMPP and FUCOMPP compare with ST(1).
			si := 1
			if in.narg > 0 && in.args[in.narg-1].kind == akST {
				si = int(in.args[in.narg-1].reg)
			}
			b = c.st(si, &exc)
		}
		r := f80Cmp(a, b)
		unordered := op == x86asm.FUCOM || op == x86asm.FUCOMP || op == x86asm.FUCOMPP
		if r == 2 && (!unordered || a.isSNaN() || b.isSNaN() || a.isUnsupported() || b.isUnsupported()) {
			exc |= feIE
		}
		if r != 2 && (a.isDenormal() || b.isDenormal()) {
			exc |= feDE
		}
		if c.funmasked(exc) {
			return fail()
		}
		c.fsw &^= fC0 | fC1 | fC2 | fC3
		switch r {
		case -1:
			c.fsw |= fC0
		case 0:
			c.fsw |= fC3
		case 2:
			c.fsw |= fC0 | fC2 | fC3
		}
		switch op {
		case x86asm.FCOMP, x86asm.FUCOMP, x86asm.FICOMP:
			c.fpop()
		case x86asm.FCOMPP, x86asm.FUCOMPP:
			c.fpop()
			c.fpop()
		}
	case x86asm.FCOMI, x86asm.FCOMIP, x86asm.FUCOMI, x86asm.FUCOMIP:
		si := 1
		if x := argST(1); x >= 0 {
			si = x
		}
		a := c.st(0, &exc)
		b := c.st(si, &exc)
		r := f80Cmp(a, b)
		unordered := op == x86asm.FUCOMI || op == x86asm.FUCOMIP
		if r == 2 && (!unordered || a.isSNaN() || b.isSNaN() || a.isUnsupported() || b.isUnsupported()) {
			exc |= feIE
		}
		if r != 2 && (a.isDenormal() || b.isDenormal()) {
			exc |= feDE
		}
		if c.funmasked(exc) {
			return fail()
		}
		var f uint64
		switch r {
		case -1:
			f = FlagCF
		case 0:
			f = FlagZF
		case 2:
			f = FlagZF | FlagPF | FlagCF
		}
		c.setArith(f)
		c.fsw &^= fC1
		if op == x86asm.FCOMIP || op == x86asm.FUCOMIP {
			c.fpop()
		}
	case x86asm.FXCH:
		i := 1
		if x := argST(0); x > 0 {
			i = x
		} else if x := argST(1); x > 0 {
			i = x
		}
		a := c.st(0, &exc)
		b := c.st(i, &exc)
		c.stSet(0, b)
		c.stSet(i, a)
		c.fsw &^= fC1
	case x86asm.FCHS, x86asm.FABS:
		a := c.st(0, &exc)
		if op == x86asm.FCHS {
			a = a.chs()
		} else {
			a = a.abs()
		}
		c.stSet(0, a)
		c.fsw &^= fC1
	case x86asm.FSQRT:
		r, e := f80Sqrt(c.st(0, &exc), pc, rc)
		exc |= e
		if c.funmasked(exc) {
			return fail()
		}
		c.stSet(0, r)
	case x86asm.FRNDINT:
		a := c.st(0, &exc)
		var r f80
		var e uint16
		switch {
		case a.isUnsupported():
			r, e = f80Indefinite, feIE
		case a.isSNaN():
			r, e = a.quiet(), feIE
		default:
			r, e = a.roundToInt(rc)
			if a.isDenormal() {
				e |= feDE
			}
		}
		exc |= e
		if c.funmasked(exc) {
			return fail()
		}
		c.stSet(0, r)
	case x86asm.FSCALE:
		a, b := c.st(0, &exc), c.st(1, &exc)
		r, e := f80Scale(a, b, pc, rc)
		exc |= e
		if c.funmasked(exc) {
			return fail()
		}
		c.stSet(0, r)
	case x86asm.FPREM, x86asm.FPREM1:
		a, b := c.st(0, &exc), c.st(1, &exc)
		r, q, partial, e := f80Rem(a, b, op == x86asm.FPREM1)
		exc |= e
		if c.funmasked(exc) {
			return fail()
		}
		c.stSet(0, r)
		if r.isNaN() {
			// No quotient: C0 and C3 are left as they were (as
			// the hardware does), C1 and C2 cleared.
			c.fsw &^= fC1 | fC2
			break
		}
		c.fsw &^= fC0 | fC1 | fC2 | fC3
		if partial {
			c.fsw |= fC2
		} else {
			if q&1 != 0 {
				c.fsw |= fC1
			}
			if q&2 != 0 {
				c.fsw |= fC3
			}
			if q&4 != 0 {
				c.fsw |= fC0
			}
		}
	case x86asm.FXTRACT:
		a := c.st(0, &exc)
		var ex, sig f80
		switch {
		case a.isUnsupported():
			exc |= feIE
			ex, sig = f80Indefinite, f80Indefinite
		case a.isNaN():
			if a.isSNaN() {
				exc |= feIE
			}
			ex, sig = a.quiet(), a.quiet()
		case a.isInf():
			ex, sig = f80Inf(false), a
		case a.isZero():
			exc |= feZE
			ex, sig = f80Inf(true), a
		default:
			if a.isDenormal() {
				exc |= feDE
			}
			n, e, m := a.unpack()
			ex = f80FromInt(int64(e))
			sig = f80{mant: m, se: 0x3fff}
			if n {
				sig.se |= 0x8000
			}
		}
		if c.funmasked(exc) {
			return fail()
		}
		c.stSet(0, ex)
		c.fpush(sig, &exc)
	case x86asm.FXAM:
		c.fsw &^= fC0 | fC1 | fC2 | fC3
		if c.fpr[c.phys(0)].neg() {
			c.fsw |= fC1
		}
		switch a := c.fpr[c.phys(0)]; {
		case c.stEmpty(0):
			c.fsw |= fC3 | fC0
		case a.isUnsupported():
		case a.isNaN():
			c.fsw |= fC0
		case a.isInf():
			c.fsw |= fC2 | fC0
		case a.isZero():
			c.fsw |= fC3
		case a.isDenormal():
			c.fsw |= fC3 | fC2
		default:
			c.fsw |= fC2
		}
	case x86asm.FLD1, x86asm.FLDZ, x86asm.FLDPI, x86asm.FLDL2E, x86asm.FLDL2T, x86asm.FLDLG2, x86asm.FLDLN2:
		var v f80
		switch op {
		case x86asm.FLD1:
			v = f80One
		case x86asm.FLDZ:
		case x86asm.FLDPI:
			v = constRound(0xc90fdaa22168c234, 0xc4c6628b80dc1cd1, 0x4000, rc)
		case x86asm.FLDL2E:
			v = constRound(0xb8aa3b295c17f0bb, 0xbe87fed0691d3e89, 0x3fff, rc)
		case x86asm.FLDL2T:
			v = constRound(0xd49a784bcd1b8afe, 0x492bf6ff4dafdb4c, 0x4000, rc)
		case x86asm.FLDLG2:
			v = constRound(0x9a209a84fbcff798, 0x8f8959ac0b7c9178, 0x3ffd, rc)
		case x86asm.FLDLN2:
			v = constRound(0xb17217f7d1cf79ab, 0xc9e3b39803f2f6af, 0x3ffe, rc)
		}
		c.fpush(v, &exc)
	case x86asm.FBLD:
		var b [10]byte
		if !c.rdBytes(addr, b[:]) {
			return stFault
		}
		var v int64
		for i := 8; i >= 0; i-- {
			v = v*100 + int64(b[i]>>4)*10 + int64(b[i]&15)
		}
		r := f80FromInt(v)
		if b[9]&0x80 != 0 {
			r = r.chs()
		}
		c.fpush(r, &exc)
	case x86asm.FBSTP:
		a := c.st(0, &exc)
		var b [10]byte
		r, e := a.toInt(8, rc)
		v := int64(r)
		neg := a.neg()
		if v < 0 {
			v = -v
		}
		if e&feIE != 0 || v < 0 || v > 999999999999999999 {
			// Invalid, and then not also inexact (as the hardware).
			// v < 0: it was -2^63, whose negation overflows (19
			// digits: out of range like any other).
			exc |= feIE
			b = [10]byte{0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff} // packed BCD indefinite
		} else {
			exc |= e
			for i := 0; i < 9; i++ {
				b[i] = byte(v%10) | byte(v/10%10)<<4
				v /= 100
			}
			if neg {
				b[9] = 0x80
			}
		}
		if c.funmasked(exc) {
			return fail()
		}
		if !c.wrBytes(addr, b[:]) {
			return stFault
		}
		c.fpop()
	case x86asm.F2XM1, x86asm.FYL2X, x86asm.FYL2XP1, x86asm.FPTAN, x86asm.FPATAN, x86asm.FSIN, x86asm.FCOS, x86asm.FSINCOS:
		c.x87Trans(op, rc, &exc)
	case x86asm.FCMOVB, x86asm.FCMOVE, x86asm.FCMOVBE, x86asm.FCMOVU, x86asm.FCMOVNB, x86asm.FCMOVNE, x86asm.FCMOVNBE, x86asm.FCMOVNU:
		var cond bool
		switch op {
		case x86asm.FCMOVB, x86asm.FCMOVNB:
			cond = c.cond(2)
		case x86asm.FCMOVE, x86asm.FCMOVNE:
			cond = c.cond(4)
		case x86asm.FCMOVBE, x86asm.FCMOVNBE:
			cond = c.cond(6)
		default:
			cond = c.cond(10)
		}
		switch op {
		case x86asm.FCMOVNB, x86asm.FCMOVNE, x86asm.FCMOVNBE, x86asm.FCMOVNU:
			cond = !cond
		}
		i := 1
		if x := argST(1); x >= 0 {
			i = x
		}
		v := c.st(i, &exc)
		if c.funmasked(exc) {
			return fail()
		}
		if cond {
			c.stSet(0, v)
		}
	default:
		control = true
		if st := c.x87Control(in, next, addr); st != stOK {
			return st
		}
	}
	if !control {
		if c.funmasked(exc) {
			return fail()
		}
		switch op {
		case x86asm.FXAM, x86asm.FPREM, x86asm.FPREM1, x86asm.FCOM, x86asm.FCOMP, x86asm.FCOMPP, x86asm.FUCOM,
			x86asm.FUCOMP, x86asm.FUCOMPP, x86asm.FICOM, x86asm.FICOMP, x86asm.FTST, x86asm.FCOMI, x86asm.FCOMIP,
			x86asm.FUCOMI, x86asm.FUCOMIP, x86asm.FXCH, x86asm.FCHS, x86asm.FABS:
		default:
			if exc&feSF == 0 {
				c.fsw = c.fsw&^fC1 | exc&feC1
			}
		}
		c.fraise(exc &^ feC1)
		c.fop = in.x87 & 0x7ff
		c.fip = c.RIP
		if hasMem {
			c.fdp = addr
		}
	}
	c.RIP = next
	return stOK
}

// constRound rounds a 128-bit constant to 64 bits with rc.
func constRound(hi, lo uint64, se uint16, rc uint16) f80 {
	r, _ := round80(false, int(se)-16383, hi, lo, 3, rc)
	return r
}

// fullTag builds the 16-bit tag word from the abridged one.
func (c *CPU) fullTag() uint16 {
	var t uint16
	for p := 0; p < 8; p++ {
		var v uint16
		switch r := c.fpr[p]; {
		case c.ftag>>p&1 == 0:
			v = 3
		case r.isZero():
			v = 1
		case r.exp() == 0x7fff || r.exp() == 0 || r.mant>>63 == 0:
			v = 2
		}
		t |= v << (2 * p)
	}
	return t
}

func (c *CPU) x87Control(in *dinst, next uint64, addr uint64) int {
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.FNSTCW:
		if !c.wr(addr, 2, uint64(c.fcw)) {
			return stFault
		}
	case x86asm.FLDCW:
		v, ok := c.rd(addr, 2)
		if !ok {
			return stFault
		}
		c.fcw = uint16(v)&0x1f3f | 0x40
		c.updateES()
	case x86asm.FNSTSW:
		if in.narg > 0 && in.args[0].kind == akReg {
			c.setReg(RAX, 2, uint64(c.fswFull()))
		} else if !c.wr(addr, 2, uint64(c.fswFull())) {
			return stFault
		}
	case x86asm.FNCLEX:
		c.fsw &^= 0x80ff
	case x86asm.FNINIT:
		c.fninit()
	case x86asm.FNOP:
	case x86asm.FFREE, x86asm.FFREEP:
		i := 0
		if in.narg > 0 && in.args[0].kind == akST {
			i = int(in.args[0].reg)
		}
		c.ftag &^= 1 << c.phys(i)
		if op == x86asm.FFREEP {
			c.fpop()
		}
	case x86asm.FDECSTP:
		c.ftop = (c.ftop - 1) & 7
		c.fsw &^= fC1
	case x86asm.FINCSTP:
		c.ftop = (c.ftop + 1) & 7
		c.fsw &^= fC1
	case x86asm.FNSTENV, x86asm.FNSAVE:
		n := uint64(28)
		if op == x86asm.FNSAVE {
			n = 108
		}
		if !c.probeW(addr, n) {
			return stFault
		}
		var b [108]byte
		le.PutUint32(b[0:], uint32(c.fcw)|0xffff0000)
		le.PutUint32(b[4:], uint32(c.fswFull())|0xffff0000)
		le.PutUint32(b[8:], uint32(c.fullTag())|0xffff0000)
		le.PutUint32(b[12:], uint32(c.fip))
		le.PutUint32(b[16:], uint32(c.fop)<<16)
		le.PutUint32(b[20:], uint32(c.fdp))
		le.PutUint32(b[24:], 0xffff0000)
		for i := 0; i < 8; i++ {
			r := c.fpr[c.phys(i)]
			le.PutUint64(b[28+10*i:], r.mant)
			le.PutUint16(b[36+10*i:], r.se)
		}
		c.wrBytes(addr, b[:n])
		if op == x86asm.FNSAVE {
			c.fninit()
		} else {
			c.fcw |= 0x3f
		}
	case x86asm.FLDENV, x86asm.FRSTOR:
		n := 28
		if op == x86asm.FRSTOR {
			n = 108
		}
		var b [108]byte
		if !c.rdBytes(addr, b[:n]) {
			return stFault
		}
		c.fcw = le.Uint16(b[0:])&0x1f3f | 0x40
		fsw := le.Uint16(b[4:])
		c.ftop = uint8(fsw>>11) & 7
		c.fsw = fsw &^ 0x3800
		tag := le.Uint16(b[8:])
		c.ftag = 0
		for p := 0; p < 8; p++ {
			if tag>>(2*p)&3 != 3 {
				c.ftag |= 1 << p
			}
		}
		c.fip = uint64(le.Uint32(b[12:]))
		c.fop = uint16(le.Uint32(b[16:])>>16) & 0x7ff
		c.fdp = uint64(le.Uint32(b[20:]))
		if op == x86asm.FRSTOR {
			for i := 0; i < 8; i++ {
				c.fpr[c.phys(i)] = f80{mant: le.Uint64(b[28+10*i:]), se: le.Uint16(b[36+10*i:])}
			}
		}
		c.updateES()
	default:
		return c.ud()
	}
	return stOK
}

// updateES recomputes the FSW error-summary bits after FCW or FSW loads.
func (c *CPU) updateES() {
	if c.fsw&0x3f&^(c.fcw&0x3f) != 0 {
		c.fsw |= 1<<7 | 1<<15
	} else {
		c.fsw &^= 1<<7 | 1<<15
	}
}

// f80Scale computes a * 2^trunc(b).
func f80Scale(a, b f80, pc, rc uint16) (f80, uint16) {
	if a.isUnsupported() || b.isUnsupported() {
		return f80Indefinite, feIE
	}
	if a.isNaN() || b.isNaN() {
		return propagateNaN(a, b)
	}
	r, exc := f80ScaleNum(a, b, rc)
	if exc&feIE == 0 && (a.isDenormal() || b.isDenormal()) {
		exc |= feDE
	}
	return r, exc
}

// f80ScaleNum is FSCALE for operands that are numbers (not NaNs).
func f80ScaleNum(a, b f80, rc uint16) (f80, uint16) {
	switch {
	case b.isInf():
		if b.neg() {
			if a.isInf() {
				return f80Indefinite, feIE
			}
			return f80Zero(a.neg()), 0
		}
		if a.isZero() {
			return f80Indefinite, feIE
		}
		return f80Inf(a.neg()), 0
	case a.isZero() || a.isInf():
		return a, 0
	}
	t, _ := b.roundToInt(3)
	var n int
	if t.isZero() {
		n = 0
	} else {
		neg, e, m := t.unpack()
		if e > 20 {
			n = 1 << 20
		} else {
			n = int(m >> (63 - e))
		}
		if neg {
			n = -n
		}
	}
	neg, e, m := a.unpack()
	return round80(neg, e+n, m, 0, 3, rc)
}

// f80Rem computes FPREM (truncating) or FPREM1 (round to nearest)
// partial remainders; q holds the low quotient bits.
func f80Rem(a, b f80, ieee bool) (r f80, q uint64, partial bool, exc uint16) {
	if a.isUnsupported() || b.isUnsupported() {
		return f80Indefinite, 0, false, feIE
	}
	if a.isNaN() || b.isNaN() {
		r, exc = propagateNaN(a, b)
		return
	}
	if a.isInf() || b.isZero() || a.isUnsupported() || b.isUnsupported() {
		return f80Indefinite, 0, false, feIE
	}
	if a.isDenormal() || b.isDenormal() {
		exc = feDE
	}
	if a.isZero() {
		return a, 0, false, exc
	}
	an, ae, am := a.unpack()
	if b.isInf() {
		// The dividend, normalized (as below).
		res, _ := round80(an, ae, am, 0, 3, 0)
		return res, 0, false, exc
	}
	_, be, bm := b.unpack()
	d := ae - be
	switch {
	case d < 0:
		if ieee && d == -1 && am > bm {
			// |a| > |b|/2: a - sign(a)*|b| with quotient 1.
			res, e := f80Add(a.abs(), b.abs(), true, 3, 0)
			if an {
				res = res.chs()
			}
			return res, 1, false, e | exc
		}
		// The dividend itself, normalized (a pseudo-denormal comes
		// back with exponent 1).
		res, _ := round80(an, ae, am, 0, 3, 0)
		return res, 0, false, exc
	case d >= 64:
		// Partial: reduce the exponent difference by N bits at a time.
		n := fpremN + d%32
		hi, lo := shl128(0, am, n)
		rem := remainder128(hi, lo, bm)
		if rem == 0 {
			return f80Zero(an), 0, true, exc
		}
		return normalizeRem(an, rem, ae-63-n), 0, true, exc
	}
	hi, lo := shl128(0, am, d)
	q1, rem := divmod128(hi, lo, bm)
	neg := an
	if ieee && (rem > bm-rem || rem == bm-rem && q1&1 != 0) {
		rem = bm - rem
		q1++
		neg = !neg
	}
	if rem == 0 {
		return f80Zero(an), q1, false, exc
	}
	return normalizeRem(neg, rem, be-63), q1, false, exc
}

// fpremN + D mod 32 is the reduction step of a partial FPREM: N in the
// SDM, between 32 and 63 and implementation-dependent; this choice (AMD's
// documented one) matches the hardware the differential tests ran on.
const fpremN = 32

// normalizeRem builds rem * 2^e as an f80 (exact: rem < 2^64).
func normalizeRem(neg bool, rem uint64, e int) f80 {
	n := 63 - bitsLen(rem) + 1
	r, _ := round80(neg, e+63-n, rem<<n, 0, 3, 0)
	return r
}

func bitsLen(x uint64) int {
	n := 0
	for x != 0 {
		n++
		x >>= 1
	}
	return n
}

func remainder128(hi, lo, d uint64) uint64 {
	_, r := divmod128(hi, lo, d)
	return r
}

// divmod128 returns the low 64 bits of hi:lo / d and the remainder.
func divmod128(hi, lo, d uint64) (uint64, uint64) {
	h := hi % d
	return bits.Div64(h, lo, d)
}
