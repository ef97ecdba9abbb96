package machine

import (
	"math"

	"golang.org/x/arch/x86/x86asm"
)

// MMX. The eight 64-bit MMX registers alias the mantissas of the x87
// physical registers R0-R7 (MMi is R_i, not ST(i)). Every MMX instruction
// except EMMS sets TOP to 0 and marks all eight registers valid; a write
// to MMi also sets the exponent/sign field of R_i to all ones, so the x87
// sees a NaN there. EMMS empties the tag word (see execVec).
//
// The packed integer operations reuse the SSE lane functions (vecLanes)
// on a vector whose low quadword is the MMX value: for lane-wise ops the
// low 64 bits of the 128-bit result are the MMX result; the cross-lane ops
// (unpack high, pack, horizontal add) are mapped onto the 128-bit forms
// below.

// mmxEnter performs the x87-to-MMX transition.
func (c *CPU) mmxEnter() {
	c.ftop = 0
	c.ftag = 0xff
}

func (c *CPU) mmRead(i uint8) uint64 { return c.fpr[i&7].mant }

func (c *CPU) mmWrite(i uint8, v uint64) {
	c.fpr[i&7] = f80{mant: v, se: 0xffff}
}

// mmxSrc reads a 64-bit (or narrower) source operand of an MMX instruction.
func (c *CPU) mmxSrc(in *dinst, a arg, memSize uint8) (uint64, bool) {
	switch a.kind {
	case akMMX:
		return c.mmRead(a.reg), true
	case akXMM:
		return c.xmm[a.reg][0], true
	case akReg:
		return c.Regs[a.reg] & sizeMask[a.size], true
	case akImm:
		return in.imm, true
	case akMem:
		if a.size != 0 && a.size < memSize {
			memSize = a.size
		}
		return c.rd(c.ea(in), memSize)
	}
	c.pend = Exit{Reason: ExitUD}
	return 0, false
}

// isMMXConv reports the conversions between packed int32 in an MMX register
// and packed floats, which execMMX handles even with a memory operand.
func isMMXConv(op x86asm.Op) bool {
	switch op {
	case x86asm.CVTPI2PS, x86asm.CVTPI2PD, x86asm.CVTPS2PI, x86asm.CVTTPS2PI, x86asm.CVTPD2PI, x86asm.CVTTPD2PI:
		return true
	}
	return false
}

func usesMMX(in *dinst) bool {
	for i := 0; i < int(in.narg); i++ {
		if in.args[i].kind == akMMX {
			return true
		}
	}
	return false
}

// execMMX executes an instruction with an MMX register operand, and the
// CVT*PI* conversions.
func (c *CPU) execMMX(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	if isMMXConv(op) {
		return c.mmxConv(in, next)
	}
	d, s := in.args[0], in.args[1]
	switch op {
	case x86asm.MOVD, x86asm.MOVQ:
		sz := uint8(8)
		if op == x86asm.MOVD {
			sz = 4
		}
		if d.kind == akMMX {
			v, ok := c.mmxSrc(in, s, sz)
			if !ok {
				return stFault
			}
			c.mmxEnter()
			c.mmWrite(d.reg, v&sizeMask[sz])
			break
		}
		v := c.mmRead(s.reg)
		switch d.kind {
		case akMem:
			if !c.wr(c.ea(in), sz, v) {
				return stFault
			}
		case akReg:
			c.setReg(d.reg, sz, v)
		default:
			return c.ud()
		}
		c.mmxEnter()
	case x86asm.MOVNTQ:
		if d.kind != akMem {
			return c.ud()
		}
		if !c.wr(c.ea(in), 8, c.mmRead(s.reg)) {
			return stFault
		}
		c.mmxEnter()
	case x86asm.MOVQ2DQ:
		c.xmm[d.reg] = vec{c.mmRead(s.reg), 0}
		c.mmxEnter()
	case x86asm.MOVDQ2Q:
		c.mmxEnter()
		c.mmWrite(d.reg, c.xmm[s.reg][0])
	case x86asm.PMOVMSKB:
		v := c.mmRead(s.reg)
		var r uint64
		for i := 0; i < 8; i++ {
			r |= (v >> (8*i + 7) & 1) << i
		}
		c.mmxEnter()
		c.setReg(d.reg, max(d.size, 4), r)
	case x86asm.PEXTRW:
		v := c.mmRead(s.reg)
		c.mmxEnter()
		c.setReg(d.reg, max(d.size, 4), v>>(16*(in.imm&3))&0xffff)
	case x86asm.PINSRW:
		x, ok := c.mmxSrc(in, s, 2)
		if !ok {
			return stFault
		}
		sh := 16 * (in.imm & 3)
		v := c.mmRead(d.reg)&^(0xffff<<sh) | (x&0xffff)<<sh
		c.mmxEnter()
		c.mmWrite(d.reg, v)
	case x86asm.MASKMOVQ:
		v, m := c.mmRead(d.reg), c.mmRead(s.reg)
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
		if m&0x8080808080808080 != 0 {
			cur, ok := c.rd(addr, 8)
			if !ok || !c.probeW(addr, 8) {
				return stFault
			}
			for i := 0; i < 8; i++ {
				if m>>(8*i+7)&1 != 0 {
					cur = cur&^(0xff<<(8*i)) | v&(0xff<<(8*i))
				}
			}
			c.wr(addr, 8, cur)
		}
		c.mmxEnter()
	default:
		if d.kind != akMMX {
			return c.ud()
		}
		b, ok := c.mmxSrc(in, s, 8)
		if !ok {
			return stFault
		}
		a := c.mmRead(d.reg)
		r, ok := mmxOp(op, a, b, in.imm&0xff)
		if !ok {
			return c.ud()
		}
		c.mmxEnter()
		c.mmWrite(d.reg, r)
	}
	c.RIP = next
	return stOK
}

// mmxOp computes a two-operand MMX operation (imm is the immediate of
// pshufw, palignr and the shift-by-immediate forms).
func mmxOp(op x86asm.Op, a, b, imm uint64) (uint64, bool) {
	switch op {
	case x86asm.PSLLW, x86asm.PSLLD, x86asm.PSLLQ, x86asm.PSRLW, x86asm.PSRLD, x86asm.PSRLQ,
		x86asm.PSRAW, x86asm.PSRAD:
		// b is the count: the immediate or the whole 64-bit source.
		return vshift(op, vec{a, 0}, b)[0], true
	case x86asm.PUNPCKHBW:
		return mmxLanes(x86asm.PUNPCKLBW, a>>32, b>>32)
	case x86asm.PUNPCKHWD:
		return mmxLanes(x86asm.PUNPCKLWD, a>>32, b>>32)
	case x86asm.PUNPCKHDQ:
		return mmxLanes(x86asm.PUNPCKLDQ, a>>32, b>>32)
	case x86asm.PACKSSWB, x86asm.PACKUSWB, x86asm.PACKSSDW,
		x86asm.PHADDW, x86asm.PHSUBW, x86asm.PHADDSW, x86asm.PHSUBSW, x86asm.PHADDD, x86asm.PHSUBD:
		// The 128-bit form on (a, b) has the MMX result in its low half.
		r, ok := vecLanes(op, vec{a, b}, vec{})
		return r[0], ok
	case x86asm.PSHUFB:
		var r uint64
		for i := 0; i < 8; i++ {
			sel := b >> (8 * i) & 0xff
			if sel&0x80 == 0 {
				r |= (a >> (8 * (sel & 7)) & 0xff) << (8 * i)
			}
		}
		return r, true
	case x86asm.PALIGNR:
		// (a:b) >> 8*imm, low 64 bits.
		n := imm * 8
		switch {
		case n == 0:
			return b, true
		case n < 64:
			return b>>n | a<<(64-n), true
		case n < 128:
			return a >> (n - 64), true
		}
		return 0, true
	case x86asm.PSHUFW:
		var r uint64
		for i := 0; i < 4; i++ {
			r |= (b >> (16 * (imm >> (2 * i) & 3)) & 0xffff) << (16 * i)
		}
		return r, true
	case x86asm.PADDB, x86asm.PADDW, x86asm.PADDD, x86asm.PADDQ, x86asm.PSUBB, x86asm.PSUBW, x86asm.PSUBD, x86asm.PSUBQ,
		x86asm.PADDSB, x86asm.PADDSW, x86asm.PADDUSB, x86asm.PADDUSW, x86asm.PSUBSB, x86asm.PSUBSW, x86asm.PSUBUSB, x86asm.PSUBUSW,
		x86asm.PCMPEQB, x86asm.PCMPEQW, x86asm.PCMPEQD, x86asm.PCMPGTB, x86asm.PCMPGTW, x86asm.PCMPGTD,
		x86asm.PAND, x86asm.PANDN, x86asm.POR, x86asm.PXOR,
		x86asm.PMINUB, x86asm.PMAXUB, x86asm.PMINSW, x86asm.PMAXSW, x86asm.PAVGB, x86asm.PAVGW,
		x86asm.PMULLW, x86asm.PMULHW, x86asm.PMULHUW, x86asm.PMULHRSW, x86asm.PMULUDQ, x86asm.PMADDWD, x86asm.PMADDUBSW,
		x86asm.PSADBW, x86asm.PUNPCKLBW, x86asm.PUNPCKLWD, x86asm.PUNPCKLDQ,
		x86asm.PABSB, x86asm.PABSW, x86asm.PABSD, x86asm.PSIGNB, x86asm.PSIGNW, x86asm.PSIGND:
		return mmxLanes(op, a, b)
	}
	return 0, false
}

func mmxLanes(op x86asm.Op, a, b uint64) (uint64, bool) {
	r, ok := vecLanes(op, vec{a, 0}, vec{b, 0})
	return r[0], ok
}

// mmxConv executes the conversions between two packed int32 in an MMX
// register (or memory) and packed floats in an XMM register.
func (c *CPU) mmxConv(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	d, s := in.args[0], in.args[1]
	rc := c.rc()
	var exc uint32
	switch op {
	case x86asm.CVTPI2PS, x86asm.CVTPI2PD:
		if d.kind != akXMM {
			return c.ud()
		}
		b, ok := c.mmxSrc(in, s, 8)
		if !ok {
			return stFault
		}
		r := c.xmm[d.reg]
		if op == x86asm.CVTPI2PD {
			r = vec{math.Float64bits(float64(int32(b))), math.Float64bits(float64(int32(b >> 32)))}
		} else {
			for i := 0; i < 2; i++ {
				v, e := i2f(int64(int32(b>>(32*i))), false, rc)
				r.setD(i, uint32(v))
				exc |= e
			}
		}
		if !c.mxRaise(exc) {
			return stFault
		}
		c.xmm[d.reg] = r
		if s.kind == akMMX {
			c.mmxEnter()
		}
	case x86asm.CVTPS2PI, x86asm.CVTTPS2PI, x86asm.CVTPD2PI, x86asm.CVTTPD2PI:
		if d.kind != akMMX {
			return c.ud()
		}
		mode := rc
		if op == x86asm.CVTTPS2PI || op == x86asm.CVTTPD2PI {
			mode = 3
		}
		var x [2]float64
		if op == x86asm.CVTPS2PI || op == x86asm.CVTTPS2PI {
			b, ok := c.mmxSrc(in, s, 8)
			if !ok {
				return stFault
			}
			x[0], x[1] = float64(math.Float32frombits(uint32(b))), float64(math.Float32frombits(uint32(b>>32)))
		} else {
			if s.kind == akMem {
				s.size = 16
			}
			b, ok := c.vsrc(in, s)
			if !ok {
				return stFault
			}
			x[0], x[1] = math.Float64frombits(b[0]), math.Float64frombits(b[1])
		}
		v0, e0 := f2i(x[0], false, mode)
		v1, e1 := f2i(x[1], false, mode)
		if !c.mxRaise(e0 | e1) {
			return stFault
		}
		c.mmxEnter()
		c.mmWrite(d.reg, v0&0xffffffff|v1<<32)
	default:
		return c.ud()
	}
	c.RIP = next
	return stOK
}
