package machine

import (
	"math"
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// vec is a 128-bit XMM value, low quadword first.
type vec [2]uint64

func (v vec) bytes() (b [16]byte) {
	le.PutUint64(b[0:], v[0])
	le.PutUint64(b[8:], v[1])
	return
}

func vecOf(b [16]byte) vec { return vec{le.Uint64(b[0:]), le.Uint64(b[8:])} }

func (v vec) w(i int) uint16 { return uint16(v[i>>2] >> (16 * (i & 3))) }
func (v vec) d(i int) uint32 { return uint32(v[i>>1] >> (32 * (i & 1))) }
func (v *vec) setW(i int, x uint16) {
	s := 16 * uint(i&3)
	v[i>>2] = v[i>>2]&^(0xffff<<s) | uint64(x)<<s
}
func (v *vec) setD(i int, x uint32) {
	s := 32 * uint(i&1)
	v[i>>1] = v[i>>1]&^(0xffffffff<<s) | uint64(x)<<s
}

// zeroBytes returns x with each zero byte made 0xff and every other byte 0
// (the eight byte compares of pcmpeqb on x = a ^ b, without a loop).
func zeroBytes(x uint64) uint64 {
	const lo7, hi = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	nz := (x&lo7 + lo7) | x // top bit of each byte: the byte is not zero
	return (^nz & hi) >> 7 * 0xff
}

// ltBytes returns 0xff in each byte where x's byte is below y's (unsigned),
// 0 in the others.
func ltBytes(x, y uint64) uint64 {
	const hi = 0x8080808080808080
	d := x | hi - y&^hi // per byte: 0x80 + low7(x) - low7(y), no borrow across bytes
	lt := (^x&y | ^(x^y)&^d) & hi
	return lt >> 7 * 0xff
}

func mapB(a, b vec, f func(x, y uint8) uint8) vec {
	x, y := a.bytes(), b.bytes()
	var r [16]byte
	for i := range r {
		r[i] = f(x[i], y[i])
	}
	return vecOf(r)
}

func mapW(a, b vec, f func(x, y uint16) uint16) (r vec) {
	for i := 0; i < 8; i++ {
		r.setW(i, f(a.w(i), b.w(i)))
	}
	return
}

func mapD(a, b vec, f func(x, y uint32) uint32) (r vec) {
	for i := 0; i < 4; i++ {
		r.setD(i, f(a.d(i), b.d(i)))
	}
	return
}

func mapQ(a, b vec, f func(x, y uint64) uint64) vec {
	return vec{f(a[0], b[0]), f(a[1], b[1])}
}

func b2u(c bool) uint64 {
	if c {
		return ^uint64(0)
	}
	return 0
}

func satB(v int) uint8 {
	return uint8(min(max(v, -128), 127))
}
func satUB(v int) uint8 {
	return uint8(min(max(v, 0), 255))
}
func satW(v int) uint16 {
	return uint16(int16(min(max(v, -32768), 32767)))
}
func satUW(v int) uint16 {
	return uint16(min(max(v, 0), 65535))
}

// alignedOK reports whether a legacy-SSE memory operand needs no 16-byte alignment.
func alignFree(op x86asm.Op) bool {
	switch op {
	case x86asm.MOVDQU, x86asm.MOVUPS, x86asm.MOVUPD, x86asm.LDDQU,
		x86asm.PCMPESTRI, x86asm.PCMPESTRM, x86asm.PCMPISTRI, x86asm.PCMPISTRM:
		return true
	}
	return false
}

// vsrc reads the vector source operand a: an XMM register or memory of
// a.size bytes (zero-extended).
func (c *CPU) vsrc(in *dinst, a arg) (vec, bool) {
	switch a.kind {
	case akXMM:
		return c.xmm[a.reg], true
	case akMem:
		addr := c.ea(in)
		switch a.size {
		case 16, 0:
			if addr&15 != 0 && !alignFree(x86asm.Op(in.op)) {
				c.pend = Exit{Reason: ExitGP}
				return vec{}, false
			}
			var b [16]byte
			if !c.rdBytes(addr, b[:]) {
				return vec{}, false
			}
			return vecOf(b), true
		default:
			v, ok := c.rd(addr, a.size)
			return vec{v, 0}, ok
		}
	case akReg:
		return vec{c.Regs[a.reg] & sizeMask[a.size], 0}, true
	}
	c.pend = Exit{Reason: ExitUD}
	return vec{}, false
}

// vstore writes the low a.size bytes of v to memory operand a, or all of v
// to an XMM register.
func (c *CPU) vstore(in *dinst, a arg, v vec) bool {
	switch a.kind {
	case akXMM:
		c.xmm[a.reg] = v
		return true
	case akMem:
		addr := c.ea(in)
		if a.size == 16 || a.size == 0 {
			if addr&15 != 0 && !alignFree(x86asm.Op(in.op)) {
				c.pend = Exit{Reason: ExitGP}
				return false
			}
			b := v.bytes()
			return c.wrBytes(addr, b[:])
		}
		return c.wr(addr, a.size, v[0])
	case akReg:
		c.setReg(a.reg, a.size, v[0])
		return true
	}
	c.pend = Exit{Reason: ExitUD}
	return false
}

// execVec executes SSE and x87 instructions.
func (c *CPU) execVec(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	if in.x87 != 0 && op >= x86asm.F2XM1 && op <= x86asm.FYL2XP1 && op != x86asm.FXSAVE && op != x86asm.FXSAVE64 && op != x86asm.FXRSTOR && op != x86asm.FXRSTOR64 {
		return c.execX87(in, next)
	}
	if usesMMX(in) || isMMXConv(op) {
		return c.execMMX(in, next)
	}
	if in.narg == 0 {
		switch op {
		case x86asm.EMMS:
			c.ftag = 0
			c.RIP = next
			return stOK
		}
		return c.ud()
	}
	d := in.args[0]
	switch op {
	case x86asm.CRC32:
		return c.crc32(in, next)
	case x86asm.LDMXCSR:
		v, ok := c.rd(c.ea(in), 4)
		if !ok {
			return stFault
		}
		if v&^mxcsrMask != 0 {
			return c.gp()
		}
		c.mxcsr = uint32(v)
	case x86asm.STMXCSR:
		if !c.wr(c.ea(in), 4, uint64(c.mxcsr)) {
			return stFault
		}
	case x86asm.FXSAVE, x86asm.FXSAVE64:
		addr := c.ea(in)
		if addr&15 != 0 {
			return c.gp()
		}
		if !c.probeW(addr, 512) {
			return stFault
		}
		var b [512]byte
		// Preserve the reserved area as hardware does not write it.
		if !c.rdBytes(addr, b[:]) {
			// Write-only memory: fine, write zeros there.
			b = [512]byte{}
		}
		var img [512]byte
		c.FXSave(&img)
		copy(b[:416], img[:416])
		c.wrBytes(addr, b[:])
	case x86asm.FXRSTOR, x86asm.FXRSTOR64:
		addr := c.ea(in)
		if addr&15 != 0 {
			return c.gp()
		}
		var b [512]byte
		if !c.rdBytes(addr, b[:]) {
			return stFault
		}
		if c.FXRstor(&b) != nil {
			return c.gp()
		}
	case x86asm.MOVNTI:
		v := c.Regs[in.args[1].reg]
		if !c.wr(c.ea(in), d.size, v) {
			return stFault
		}
	case x86asm.MOVD, x86asm.MOVQ:
		s := in.args[1]
		if d.kind == akXMM {
			v, ok := c.vsrc(in, s)
			if !ok {
				return stFault
			}
			if op == x86asm.MOVD && s.kind == akMem {
				v[0] &= 0xffffffff
			}
			c.xmm[d.reg] = vec{v[0], 0}
		} else {
			v := c.xmm[s.reg]
			a := d
			if a.kind == akMem && a.size == 0 {
				a.size = 8
				if op == x86asm.MOVD {
					a.size = 4
				}
			}
			if !c.vstore(in, a, vec{v[0], 0}) {
				return stFault
			}
		}
	case x86asm.MOVDQA, x86asm.MOVDQU, x86asm.MOVAPS, x86asm.MOVUPS, x86asm.MOVAPD, x86asm.MOVUPD,
		x86asm.LDDQU, x86asm.MOVNTDQ, x86asm.MOVNTPS, x86asm.MOVNTPD, x86asm.MOVNTDQA:
		s := in.args[1]
		if s.kind == akMem {
			s.size = 16
		}
		if d.kind == akMem {
			d.size = 16
		}
		v, ok := c.vsrc(in, s)
		if !ok {
			return stFault
		}
		if !c.vstore(in, d, v) {
			return stFault
		}
	case x86asm.MOVSS, x86asm.MOVSD_XMM:
		s := in.args[1]
		sz := uint8(4)
		if op == x86asm.MOVSD_XMM {
			sz = 8
		}
		mask := sizeMask[sz]
		switch {
		case s.kind == akMem:
			s.size = sz
			v, ok := c.vsrc(in, s)
			if !ok {
				return stFault
			}
			c.xmm[d.reg] = vec{v[0] & mask, 0}
		case d.kind == akMem:
			d.size = sz
			if !c.vstore(in, d, c.xmm[s.reg]) {
				return stFault
			}
		default:
			c.xmm[d.reg][0] = c.xmm[d.reg][0]&^mask | c.xmm[s.reg][0]&mask
		}
	case x86asm.MOVHPS, x86asm.MOVHPD, x86asm.MOVLPS, x86asm.MOVLPD:
		s := in.args[1]
		hi := op == x86asm.MOVHPS || op == x86asm.MOVHPD
		i := 0
		if hi {
			i = 1
		}
		if d.kind == akXMM {
			s.size = 8
			v, ok := c.vsrc(in, s)
			if !ok {
				return stFault
			}
			c.xmm[d.reg][i] = v[0]
		} else {
			d.size = 8
			if !c.vstore(in, d, vec{c.xmm[s.reg][i], 0}) {
				return stFault
			}
		}
	case x86asm.MASKMOVDQU:
		v, m := c.xmm[d.reg].bytes(), c.xmm[in.args[1].reg].bytes()
		addr := c.Regs[RDI]
		if in.a32 {
			addr = uint64(uint32(addr))
		}
		switch in.seg {
		case 1:
			addr += c.FSBase
		case 2:
			addr += c.GSBase
		}
		// Read-modify-write the 16 bytes so that a fault leaves memory intact.
		var cur [16]byte
		if m != [16]byte{} {
			if !c.rdBytes(addr, cur[:]) || !c.probeW(addr, 16) {
				return stFault
			}
			for i := range cur {
				if m[i]&0x80 != 0 {
					cur[i] = v[i]
				}
			}
			c.wrBytes(addr, cur[:])
		}
	case x86asm.MOVHLPS:
		c.xmm[d.reg][0] = c.xmm[in.args[1].reg][1]
	case x86asm.MOVLHPS:
		c.xmm[d.reg][1] = c.xmm[in.args[1].reg][0]
	case x86asm.MOVMSKPS, x86asm.MOVMSKPD, x86asm.PMOVMSKB:
		v := c.xmm[in.args[1].reg]
		var r uint64
		switch op {
		case x86asm.MOVMSKPS:
			for i := 0; i < 4; i++ {
				r |= uint64(v.d(i)>>31) << i
			}
		case x86asm.MOVMSKPD:
			r = v[0]>>63 | v[1]>>63<<1
		default:
			b := v.bytes()
			for i := 0; i < 16; i++ {
				r |= uint64(b[i]>>7) << i
			}
		}
		c.setReg(d.reg, d.size, r)
	case x86asm.PEXTRW, x86asm.PEXTRB, x86asm.PEXTRD, x86asm.PEXTRQ, x86asm.EXTRACTPS:
		v := c.xmm[in.args[1].reg]
		imm := in.imm
		var r uint64
		var sz uint8
		switch op {
		case x86asm.PEXTRB:
			b := v.bytes()
			r, sz = uint64(b[imm&15]), 1
		case x86asm.PEXTRW:
			r, sz = uint64(v.w(int(imm&7))), 2
		case x86asm.PEXTRD, x86asm.EXTRACTPS:
			r, sz = uint64(v.d(int(imm&3))), 4
		default:
			r, sz = v[imm&1], 8
		}
		if d.kind == akMem {
			d.size = sz
			if !c.wr(c.ea(in), sz, r) {
				return stFault
			}
		} else {
			if d.size < 4 {
				d.size = 4
			}
			c.setReg(d.reg, d.size, r)
		}
	case x86asm.PINSRW, x86asm.PINSRB, x86asm.PINSRD, x86asm.PINSRQ:
		s := in.args[1]
		var sz uint8
		switch op {
		case x86asm.PINSRB:
			sz = 1
		case x86asm.PINSRW:
			sz = 2
		case x86asm.PINSRD:
			sz = 4
		default:
			sz = 8
		}
		var x uint64
		if s.kind == akMem {
			var ok bool
			if x, ok = c.rd(c.ea(in), sz); !ok {
				return stFault
			}
		} else {
			x = c.Regs[s.reg] & sizeMask[sz]
		}
		v := c.xmm[d.reg]
		switch sz {
		case 1:
			b := v.bytes()
			b[in.imm&15] = byte(x)
			v = vecOf(b)
		case 2:
			v.setW(int(in.imm&7), uint16(x))
		case 4:
			v.setD(int(in.imm&3), uint32(x))
		default:
			v[in.imm&1] = x
		}
		c.xmm[d.reg] = v
	case x86asm.PSLLW, x86asm.PSLLD, x86asm.PSLLQ, x86asm.PSRLW, x86asm.PSRLD, x86asm.PSRLQ,
		x86asm.PSRAW, x86asm.PSRAD, x86asm.PSLLDQ, x86asm.PSRLDQ:
		var cnt uint64
		if s := in.args[1]; s.kind == akImm {
			cnt = in.imm & 0xff
		} else {
			if s.kind == akMem {
				s.size = 16
			}
			v, ok := c.vsrc(in, s)
			if !ok {
				return stFault
			}
			cnt = v[0]
		}
		c.xmm[d.reg] = vshift(op, c.xmm[d.reg], cnt)
	case x86asm.PSHUFD, x86asm.PSHUFLW, x86asm.PSHUFHW, x86asm.SHUFPS, x86asm.SHUFPD, x86asm.PALIGNR,
		x86asm.PBLENDW, x86asm.BLENDPS, x86asm.BLENDPD, x86asm.INSERTPS, x86asm.CMPPS, x86asm.CMPPD,
		x86asm.CMPSS, x86asm.CMPSD_XMM, x86asm.ROUNDPS, x86asm.ROUNDPD, x86asm.ROUNDSS, x86asm.ROUNDSD,
		x86asm.PCMPISTRI, x86asm.PCMPESTRI, x86asm.PCMPISTRM, x86asm.PCMPESTRM, x86asm.DPPS, x86asm.DPPD, x86asm.MPSADBW:
		return c.vecImm(in, next)
	case x86asm.CVTSI2SD, x86asm.CVTSI2SS, x86asm.CVTTSD2SI, x86asm.CVTSD2SI, x86asm.CVTTSS2SI, x86asm.CVTSS2SI,
		x86asm.CVTSD2SS, x86asm.CVTSS2SD, x86asm.CVTDQ2PD, x86asm.CVTPD2DQ, x86asm.CVTTPD2DQ, x86asm.CVTDQ2PS,
		x86asm.CVTPS2DQ, x86asm.CVTTPS2DQ, x86asm.CVTPS2PD, x86asm.CVTPD2PS:
		return c.vecCvt(in, next)
	case x86asm.COMISS, x86asm.COMISD, x86asm.UCOMISS, x86asm.UCOMISD:
		s := in.args[1]
		dbl := op == x86asm.COMISD || op == x86asm.UCOMISD
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
		a := c.xmm[d.reg]
		var x, y float64
		var snan, qnan bool
		if dbl {
			x, y = math.Float64frombits(a[0]), math.Float64frombits(b[0])
			snan = isSNaN64(a[0]) || isSNaN64(b[0])
		} else {
			x, y = float64(math.Float32frombits(uint32(a[0]))), float64(math.Float32frombits(uint32(b[0])))
			snan = isSNaN32(uint32(a[0])) || isSNaN32(uint32(b[0]))
		}
		qnan = x != x || y != y
		var f uint64
		switch {
		case qnan:
			f = FlagZF | FlagPF | FlagCF
		case x < y:
			f = FlagCF
		case x == y:
			f = FlagZF
		}
		exc := uint32(0)
		if snan || (qnan && (op == x86asm.COMISS || op == x86asm.COMISD)) {
			exc = mxIE
		}
		if !qnan && (isDenormal(a[0], dbl) || isDenormal(b[0], dbl)) {
			// A denormal operand sets DE (found by the lockstep test:
			// glibc's printf compares a subnormal with itself).
			exc |= mxDE
		}
		if !c.mxRaise(exc) {
			return stFault
		}
		c.setArith(f)
	default:
		return c.vecBinary(in, next)
	}
	c.RIP = next
	return stOK
}

// MXCSR exception flag bits.
const (
	mxIE = 1 << 0
	mxDE = 1 << 1
	mxZE = 1 << 2
	mxOE = 1 << 3
	mxUE = 1 << 4
	mxPE = 1 << 5
)

// mxTinyExact is not an MXCSR flag: an operation reports with it an exact
// result that is tiny, which underflows only when UE is unmasked (SDM
// 11.5.2.5: then regardless of inexactness).
const mxTinyExact = 1 << 16

// mxRaise records SIMD exception flags; an unmasked one is #XM (ExitFPE,
// VectorXM) and the instruction has no effect but the flags: those of the
// pre-computation exceptions (IE, DE, ZE) if one of them is unmasked (the
// post-computation ones are not looked for then), else all of them.
func (c *CPU) mxRaise(exc uint32) bool {
	if exc&mxTinyExact != 0 {
		exc &^= mxTinyExact
		if c.mxcsr&(mxUE<<7) == 0 {
			exc |= mxUE
		}
	}
	if exc == 0 {
		return true
	}
	if unmasked := exc &^ (c.mxcsr >> 7) & 0x3f; unmasked != 0 {
		if pre := uint32(mxIE | mxDE | mxZE); unmasked&pre != 0 {
			exc &= pre
		}
		c.mxcsr |= exc
		c.pend = Exit{Reason: ExitFPE, Vector: VectorXM}
		return false
	}
	c.mxcsr |= exc
	return true
}

func isSNaN64(b uint64) bool {
	return b&0x7ff0000000000000 == 0x7ff0000000000000 && b&0x000fffffffffffff != 0 && b&(1<<51) == 0
}
func isSNaN32(b uint32) bool {
	return b&0x7f800000 == 0x7f800000 && b&0x007fffff != 0 && b&(1<<22) == 0
}
func isNaN64(b uint64) bool { return b&0x7fffffffffffffff > 0x7ff0000000000000 }
func isNaN32(b uint32) bool { return b&0x7fffffff > 0x7f800000 }

func vshift(op x86asm.Op, v vec, cnt uint64) vec {
	switch op {
	case x86asm.PSLLW, x86asm.PSRLW, x86asm.PSRAW:
		for i := 0; i < 8; i++ {
			x := v.w(i)
			switch {
			case op == x86asm.PSRAW:
				v.setW(i, uint16(int16(x)>>min(cnt, 15)))
			case cnt > 15:
				v.setW(i, 0)
			case op == x86asm.PSLLW:
				v.setW(i, x<<cnt)
			default:
				v.setW(i, x>>cnt)
			}
		}
	case x86asm.PSLLD, x86asm.PSRLD, x86asm.PSRAD:
		for i := 0; i < 4; i++ {
			x := v.d(i)
			switch {
			case op == x86asm.PSRAD:
				v.setD(i, uint32(int32(x)>>min(cnt, 31)))
			case cnt > 31:
				v.setD(i, 0)
			case op == x86asm.PSLLD:
				v.setD(i, x<<cnt)
			default:
				v.setD(i, x>>cnt)
			}
		}
	case x86asm.PSLLQ, x86asm.PSRLQ:
		for i := 0; i < 2; i++ {
			switch {
			case cnt > 63:
				v[i] = 0
			case op == x86asm.PSLLQ:
				v[i] <<= cnt
			default:
				v[i] >>= cnt
			}
		}
	case x86asm.PSLLDQ, x86asm.PSRLDQ:
		n := min(cnt, 16)
		b := v.bytes()
		var r [16]byte
		for i := 0; i < 16; i++ {
			var j int
			if op == x86asm.PSLLDQ {
				j = i - int(n)
			} else {
				j = i + int(n)
			}
			if j >= 0 && j < 16 {
				r[i] = b[j]
			}
		}
		v = vecOf(r)
	}
	return v
}

// vecBinary executes two-operand vector instructions dst = dst op src.
func (c *CPU) vecBinary(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	d, s := in.args[0], in.args[1]
	if d.kind != akXMM {
		return c.ud()
	}
	if s.kind == akMem && s.size == 0 {
		s.size = 16
	}
	// Scalar float ops read 4 or 8 bytes of memory.
	switch op {
	case x86asm.ADDSS, x86asm.SUBSS, x86asm.MULSS, x86asm.DIVSS, x86asm.MINSS, x86asm.MAXSS, x86asm.SQRTSS,
		x86asm.RCPSS, x86asm.RSQRTSS:
		if s.kind == akMem {
			s.size = 4
		}
	case x86asm.ADDSD, x86asm.SUBSD, x86asm.MULSD, x86asm.DIVSD, x86asm.MINSD, x86asm.MAXSD, x86asm.SQRTSD:
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
	switch op {
	case x86asm.PMOVZXBW, x86asm.PMOVZXBD, x86asm.PMOVZXBQ, x86asm.PMOVZXWD, x86asm.PMOVZXWQ, x86asm.PMOVZXDQ,
		x86asm.PMOVSXBW, x86asm.PMOVSXBD, x86asm.PMOVSXBQ, x86asm.PMOVSXWD, x86asm.PMOVSXWQ, x86asm.PMOVSXDQ:
		r = pmovx(op, b)
		if s.kind == akMem {
			// Re-read with the exact width (the source is narrower than 16).
			n := pmovxSrcBytes(op)
			var t [16]byte
			if !c.rdBytes(c.ea(in), t[:n]) {
				return stFault
			}
			r = pmovx(op, vecOf(t))
		}
	case x86asm.PTEST:
		c.setArith(ptestFlags(a, vec{}, b, vec{}))
		c.RIP = next
		return stOK
	case x86asm.PBLENDVB, x86asm.BLENDVPS, x86asm.BLENDVPD:
		m := c.xmm[0]
		switch op {
		case x86asm.PBLENDVB:
			x, y, mm := a.bytes(), b.bytes(), m.bytes()
			for i := range x {
				if mm[i]&0x80 != 0 {
					x[i] = y[i]
				}
			}
			r = vecOf(x)
		case x86asm.BLENDVPS:
			r = a
			for i := 0; i < 4; i++ {
				if m.d(i)>>31 != 0 {
					r.setD(i, b.d(i))
				}
			}
		default:
			r = a
			for i := 0; i < 2; i++ {
				if m[i]>>63 != 0 {
					r[i] = b[i]
				}
			}
		}
	case x86asm.PHMINPOSUW:
		idx, mn := 0, b.w(0)
		for i := 1; i < 8; i++ {
			if b.w(i) < mn {
				idx, mn = i, b.w(i)
			}
		}
		r = vec{uint64(mn) | uint64(idx)<<16, 0}
	case x86asm.MOVDDUP:
		r = vec{b[0], b[0]}
	case x86asm.MOVSHDUP:
		r = vec{b[0]>>32<<32 | b[0]>>32, b[1]>>32<<32 | b[1]>>32}
	case x86asm.MOVSLDUP:
		r = vec{b[0]<<32 | b[0]&0xffffffff, b[1]<<32 | b[1]&0xffffffff}
	case x86asm.CRC32:
		return c.crc32(in, next)
	default:
		var exc uint32
		var ok bool
		if r, ok = vecLanes(op, a, b); ok {
			break
		}
		r, exc, ok = c.vecFloat(op, a, b)
		if !ok {
			return c.ud()
		}
		if !c.mxRaise(exc) {
			return stFault
		}
	}
	c.xmm[d.reg] = r
	c.RIP = next
	return stOK
}

func pmovxSrcBytes(op x86asm.Op) int {
	switch op {
	case x86asm.PMOVZXBW, x86asm.PMOVSXBW, x86asm.PMOVZXWD, x86asm.PMOVSXWD, x86asm.PMOVZXDQ, x86asm.PMOVSXDQ:
		return 8
	case x86asm.PMOVZXBD, x86asm.PMOVSXBD, x86asm.PMOVZXWQ, x86asm.PMOVSXWQ:
		return 4
	}
	return 2
}

func pmovx(op x86asm.Op, b vec) (r vec) {
	x := b.bytes()
	var t [16]byte
	switch op {
	case x86asm.PMOVZXBW, x86asm.PMOVSXBW:
		for i := 0; i < 8; i++ {
			v := uint16(x[i])
			if op == x86asm.PMOVSXBW {
				v = uint16(int8(x[i]))
			}
			le.PutUint16(t[2*i:], v)
		}
	case x86asm.PMOVZXBD, x86asm.PMOVSXBD:
		for i := 0; i < 4; i++ {
			v := uint32(x[i])
			if op == x86asm.PMOVSXBD {
				v = uint32(int8(x[i]))
			}
			le.PutUint32(t[4*i:], v)
		}
	case x86asm.PMOVZXBQ, x86asm.PMOVSXBQ:
		for i := 0; i < 2; i++ {
			v := uint64(x[i])
			if op == x86asm.PMOVSXBQ {
				v = uint64(int8(x[i]))
			}
			le.PutUint64(t[8*i:], v)
		}
	case x86asm.PMOVZXWD, x86asm.PMOVSXWD:
		for i := 0; i < 4; i++ {
			w := le.Uint16(x[2*i:])
			v := uint32(w)
			if op == x86asm.PMOVSXWD {
				v = uint32(int16(w))
			}
			le.PutUint32(t[4*i:], v)
		}
	case x86asm.PMOVZXWQ, x86asm.PMOVSXWQ:
		for i := 0; i < 2; i++ {
			w := le.Uint16(x[2*i:])
			v := uint64(w)
			if op == x86asm.PMOVSXWQ {
				v = uint64(int16(w))
			}
			le.PutUint64(t[8*i:], v)
		}
	default: // DQ
		for i := 0; i < 2; i++ {
			w := le.Uint32(x[4*i:])
			v := uint64(w)
			if op == x86asm.PMOVSXDQ {
				v = uint64(int32(w))
			}
			le.PutUint64(t[8*i:], v)
		}
	}
	return vecOf(t)
}

// crc32 implements the SSE4.2 CRC32 instruction (Castagnoli polynomial).
func (c *CPU) crc32(in *dinst, next uint64) int {
	d, s := in.args[0], in.args[1]
	var addr uint64
	if s.kind == akMem {
		addr = c.ea(in)
	}
	v, ok := c.get(in, s, addr)
	if !ok {
		return stFault
	}
	crc := uint32(c.Regs[d.reg])
	for i := 0; i < int(s.size); i++ {
		crc ^= uint32(byte(v >> (8 * i)))
		for k := 0; k < 8; k++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x82f63b78
			} else {
				crc >>= 1
			}
		}
	}
	c.setReg(d.reg, d.size, uint64(crc))
	if d.size == 8 {
		c.Regs[d.reg] = uint64(crc)
	}
	c.RIP = next
	return stOK
}

var _ = bits.Len

// vecLanes computes the integer vector operations whose result depends only
// on the two source values; ok is false for other ops.
func vecLanes(op x86asm.Op, a, b vec) (r vec, ok bool) {
	switch op {
	case x86asm.PXOR, x86asm.XORPS, x86asm.XORPD:
		r = vec{a[0] ^ b[0], a[1] ^ b[1]}
	case x86asm.POR, x86asm.ORPS, x86asm.ORPD:
		r = vec{a[0] | b[0], a[1] | b[1]}
	case x86asm.PAND, x86asm.ANDPS, x86asm.ANDPD:
		r = vec{a[0] & b[0], a[1] & b[1]}
	case x86asm.PANDN, x86asm.ANDNPS, x86asm.ANDNPD:
		r = vec{^a[0] & b[0], ^a[1] & b[1]}
	case x86asm.PADDB:
		r = mapB(a, b, func(x, y uint8) uint8 { return x + y })
	case x86asm.PADDW:
		r = mapW(a, b, func(x, y uint16) uint16 { return x + y })
	case x86asm.PADDD:
		r = mapD(a, b, func(x, y uint32) uint32 { return x + y })
	case x86asm.PADDQ:
		r = mapQ(a, b, func(x, y uint64) uint64 { return x + y })
	case x86asm.PSUBB:
		r = mapB(a, b, func(x, y uint8) uint8 { return x - y })
	case x86asm.PSUBW:
		r = mapW(a, b, func(x, y uint16) uint16 { return x - y })
	case x86asm.PSUBD:
		r = mapD(a, b, func(x, y uint32) uint32 { return x - y })
	case x86asm.PSUBQ:
		r = mapQ(a, b, func(x, y uint64) uint64 { return x - y })
	case x86asm.PADDSB:
		r = mapB(a, b, func(x, y uint8) uint8 { return satB(int(int8(x)) + int(int8(y))) })
	case x86asm.PADDSW:
		r = mapW(a, b, func(x, y uint16) uint16 { return satW(int(int16(x)) + int(int16(y))) })
	case x86asm.PADDUSB:
		r = mapB(a, b, func(x, y uint8) uint8 { return satUB(int(x) + int(y)) })
	case x86asm.PADDUSW:
		r = mapW(a, b, func(x, y uint16) uint16 { return satUW(int(x) + int(y)) })
	case x86asm.PSUBSB:
		r = mapB(a, b, func(x, y uint8) uint8 { return satB(int(int8(x)) - int(int8(y))) })
	case x86asm.PSUBSW:
		r = mapW(a, b, func(x, y uint16) uint16 { return satW(int(int16(x)) - int(int16(y))) })
	case x86asm.PSUBUSB:
		r = mapB(a, b, func(x, y uint8) uint8 { return satUB(int(x) - int(y)) })
	case x86asm.PSUBUSW:
		r = mapW(a, b, func(x, y uint16) uint16 { return satUW(int(x) - int(y)) })
	case x86asm.PCMPEQB:
		r = vec{zeroBytes(a[0] ^ b[0]), zeroBytes(a[1] ^ b[1])}
	case x86asm.PCMPEQW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16(b2u(x == y)) })
	case x86asm.PCMPEQD:
		r = mapD(a, b, func(x, y uint32) uint32 { return uint32(b2u(x == y)) })
	case x86asm.PCMPEQQ:
		r = mapQ(a, b, func(x, y uint64) uint64 { return b2u(x == y) })
	case x86asm.PCMPGTB:
		r = mapB(a, b, func(x, y uint8) uint8 { return uint8(b2u(int8(x) > int8(y))) })
	case x86asm.PCMPGTW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16(b2u(int16(x) > int16(y))) })
	case x86asm.PCMPGTD:
		r = mapD(a, b, func(x, y uint32) uint32 { return uint32(b2u(int32(x) > int32(y))) })
	case x86asm.PCMPGTQ:
		r = mapQ(a, b, func(x, y uint64) uint64 { return b2u(int64(x) > int64(y)) })
	case x86asm.PMINUB:
		m0, m1 := ltBytes(a[0], b[0]), ltBytes(a[1], b[1])
		r = vec{a[0]&m0 | b[0]&^m0, a[1]&m1 | b[1]&^m1}
	case x86asm.PMAXUB:
		m0, m1 := ltBytes(a[0], b[0]), ltBytes(a[1], b[1])
		r = vec{b[0]&m0 | a[0]&^m0, b[1]&m1 | a[1]&^m1}
	case x86asm.PMINSB:
		r = mapB(a, b, func(x, y uint8) uint8 { return uint8(min(int8(x), int8(y))) })
	case x86asm.PMAXSB:
		r = mapB(a, b, func(x, y uint8) uint8 { return uint8(max(int8(x), int8(y))) })
	case x86asm.PMINUW:
		r = mapW(a, b, func(x, y uint16) uint16 { return min(x, y) })
	case x86asm.PMAXUW:
		r = mapW(a, b, func(x, y uint16) uint16 { return max(x, y) })
	case x86asm.PMINSW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16(min(int16(x), int16(y))) })
	case x86asm.PMAXSW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16(max(int16(x), int16(y))) })
	case x86asm.PMINUD:
		r = mapD(a, b, func(x, y uint32) uint32 { return min(x, y) })
	case x86asm.PMAXUD:
		r = mapD(a, b, func(x, y uint32) uint32 { return max(x, y) })
	case x86asm.PMINSD:
		r = mapD(a, b, func(x, y uint32) uint32 { return uint32(min(int32(x), int32(y))) })
	case x86asm.PMAXSD:
		r = mapD(a, b, func(x, y uint32) uint32 { return uint32(max(int32(x), int32(y))) })
	case x86asm.PAVGB:
		r = mapB(a, b, func(x, y uint8) uint8 { return uint8((uint(x) + uint(y) + 1) >> 1) })
	case x86asm.PAVGW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16((uint(x) + uint(y) + 1) >> 1) })
	case x86asm.PMULLW:
		r = mapW(a, b, func(x, y uint16) uint16 { return x * y })
	case x86asm.PMULHW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16((int32(int16(x)) * int32(int16(y))) >> 16) })
	case x86asm.PMULHUW:
		r = mapW(a, b, func(x, y uint16) uint16 { return uint16((uint32(x) * uint32(y)) >> 16) })
	case x86asm.PMULHRSW:
		r = mapW(a, b, func(x, y uint16) uint16 {
			return uint16(((int32(int16(x))*int32(int16(y)))>>14 + 1) >> 1)
		})
	case x86asm.PMULLD:
		r = mapD(a, b, func(x, y uint32) uint32 { return x * y })
	case x86asm.PMULUDQ:
		r = vec{uint64(uint32(a[0])) * uint64(uint32(b[0])), uint64(uint32(a[1])) * uint64(uint32(b[1]))}
	case x86asm.PMULDQ:
		r = vec{uint64(int64(int32(a[0])) * int64(int32(b[0]))), uint64(int64(int32(a[1])) * int64(int32(b[1])))}
	case x86asm.PMADDWD:
		for i := 0; i < 4; i++ {
			s := int32(int16(a.w(2*i)))*int32(int16(b.w(2*i))) + int32(int16(a.w(2*i+1)))*int32(int16(b.w(2*i+1)))
			r.setD(i, uint32(s))
		}
	case x86asm.PMADDUBSW:
		x, y := a.bytes(), b.bytes()
		for i := 0; i < 8; i++ {
			s := int(x[2*i])*int(int8(y[2*i])) + int(x[2*i+1])*int(int8(y[2*i+1]))
			r.setW(i, satW(s))
		}
	case x86asm.PSADBW:
		x, y := a.bytes(), b.bytes()
		for h := 0; h < 2; h++ {
			var s uint64
			for i := 0; i < 8; i++ {
				p, q := int(x[8*h+i]), int(y[8*h+i])
				if p > q {
					s += uint64(p - q)
				} else {
					s += uint64(q - p)
				}
			}
			r[h] = s
		}
	case x86asm.PUNPCKLBW, x86asm.PUNPCKHBW:
		x, y := a.bytes(), b.bytes()
		o := 0
		if op == x86asm.PUNPCKHBW {
			o = 8
		}
		var t [16]byte
		for i := 0; i < 8; i++ {
			t[2*i], t[2*i+1] = x[o+i], y[o+i]
		}
		r = vecOf(t)
	case x86asm.PUNPCKLWD, x86asm.PUNPCKHWD:
		o := 0
		if op == x86asm.PUNPCKHWD {
			o = 4
		}
		for i := 0; i < 4; i++ {
			r.setW(2*i, a.w(o+i))
			r.setW(2*i+1, b.w(o+i))
		}
	case x86asm.PUNPCKLDQ, x86asm.UNPCKLPS:
		r = vec{a[0]&0xffffffff | b[0]<<32, a[0]>>32 | b[0]>>32<<32}
	case x86asm.PUNPCKHDQ, x86asm.UNPCKHPS:
		r = vec{a[1]&0xffffffff | b[1]<<32, a[1]>>32 | b[1]>>32<<32}
	case x86asm.PUNPCKLQDQ, x86asm.UNPCKLPD:
		r = vec{a[0], b[0]}
	case x86asm.PUNPCKHQDQ, x86asm.UNPCKHPD:
		r = vec{a[1], b[1]}
	case x86asm.PACKSSWB, x86asm.PACKUSWB:
		var t [16]byte
		for i := 0; i < 8; i++ {
			x, y := int(int16(a.w(i))), int(int16(b.w(i)))
			if op == x86asm.PACKSSWB {
				t[i], t[8+i] = satB(x), satB(y)
			} else {
				t[i], t[8+i] = satUB(x), satUB(y)
			}
		}
		r = vecOf(t)
	case x86asm.PACKSSDW, x86asm.PACKUSDW:
		for i := 0; i < 4; i++ {
			x, y := int(int32(a.d(i))), int(int32(b.d(i)))
			if op == x86asm.PACKSSDW {
				r.setW(i, satW(x))
				r.setW(4+i, satW(y))
			} else {
				r.setW(i, satUW(x))
				r.setW(4+i, satUW(y))
			}
		}
	case x86asm.PSHUFB:
		x, y := a.bytes(), b.bytes()
		var t [16]byte
		for i := 0; i < 16; i++ {
			if y[i]&0x80 == 0 {
				t[i] = x[y[i]&15]
			}
		}
		r = vecOf(t)
	case x86asm.PABSB:
		r = mapB(b, b, func(x, _ uint8) uint8 {
			if int8(x) < 0 {
				return -x
			}
			return x
		})
	case x86asm.PABSW:
		r = mapW(b, b, func(x, _ uint16) uint16 {
			if int16(x) < 0 {
				return -x
			}
			return x
		})
	case x86asm.PABSD:
		r = mapD(b, b, func(x, _ uint32) uint32 {
			if int32(x) < 0 {
				return -x
			}
			return x
		})
	case x86asm.PSIGNB:
		r = mapB(a, b, func(x, y uint8) uint8 {
			switch {
			case int8(y) < 0:
				return -x
			case y == 0:
				return 0
			}
			return x
		})
	case x86asm.PSIGNW:
		r = mapW(a, b, func(x, y uint16) uint16 {
			switch {
			case int16(y) < 0:
				return -x
			case y == 0:
				return 0
			}
			return x
		})
	case x86asm.PSIGND:
		r = mapD(a, b, func(x, y uint32) uint32 {
			switch {
			case int32(y) < 0:
				return -x
			case y == 0:
				return 0
			}
			return x
		})
	case x86asm.PHADDW, x86asm.PHSUBW, x86asm.PHADDSW, x86asm.PHSUBSW:
		for i := 0; i < 8; i++ {
			src := a
			j := i
			if i >= 4 {
				src, j = b, i-4
			}
			x, y := int(int16(src.w(2*j))), int(int16(src.w(2*j+1)))
			switch op {
			case x86asm.PHADDW:
				r.setW(i, uint16(x+y))
			case x86asm.PHSUBW:
				r.setW(i, uint16(x-y))
			case x86asm.PHADDSW:
				r.setW(i, satW(x+y))
			default:
				r.setW(i, satW(x-y))
			}
		}
	case x86asm.PHADDD, x86asm.PHSUBD:
		for i := 0; i < 4; i++ {
			src := a
			j := i
			if i >= 2 {
				src, j = b, i-2
			}
			x, y := src.d(2*j), src.d(2*j+1)
			if op == x86asm.PHADDD {
				r.setD(i, x+y)
			} else {
				r.setD(i, x-y)
			}
		}
	default:
		return vec{}, false
	}
	return r, true
}

// ptestFlags is what (v)ptest sets: ZF when a AND b is zero, CF when
// (NOT a) AND b is zero, over the low (a0, b0) and high (a1, b1) lanes
// (zero for 128 bits); the other arithmetic flags are cleared.
func ptestFlags(a0, a1, b0, b1 vec) uint64 {
	f := uint64(0)
	if a0[0]&b0[0]|a0[1]&b0[1]|a1[0]&b1[0]|a1[1]&b1[1] == 0 {
		f |= FlagZF
	}
	if ^a0[0]&b0[0]|^a0[1]&b0[1]|^a1[0]&b1[0]|^a1[1]&b1[1] == 0 {
		f |= FlagCF
	}
	return f
}
