package machine

import (
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// Execution of VEX-encoded instructions. VEX.128 forms are the SSE
// operations of sse.go with a non-destructive source and bits 255:128 of
// the destination zeroed; VEX.256 forms apply them per 128-bit lane
// except where the SDM says otherwise (widening and narrowing
// conversions, permutes, broadcasts, inserts and extracts).

// YMMHigh returns bits 255:128 of YMM register i.
func (c *CPU) YMMHigh(i int) [16]byte { return c.avx.ymmh[i].bytes() }

// SetYMMHigh sets bits 255:128 of YMM register i.
func (c *CPU) SetYMMHigh(i int, v [16]byte) { c.avx.ymmh[i] = vecOf(v) }

// vea computes the effective address of a VEX instruction's memory operand.
func (c *CPU) vea(in *dinst, next uint64) uint64 {
	if in.rep&vexRIPRel == 0 {
		return c.ea(in)
	}
	a := next + uint64(in.disp)
	if in.a32 {
		a = uint64(uint32(a))
	}
	switch in.seg {
	case 1:
		a += c.FSBase
	case 2:
		a += c.GSBase
	}
	return a
}

// vread reads vector operand a: a register (its low 128 bits, or all 256
// if a.size is 32) or a.size bytes of memory, zero-extended. With aligned,
// memory must be aligned to a.size (#GP).
func (c *CPU) vread(in *dinst, next uint64, a arg, aligned bool) (lo, hi vec, ok bool) {
	switch a.kind {
	case akXMM:
		lo = c.xmm[a.reg]
		if a.size == 32 {
			hi = c.avx.ymmh[a.reg]
		}
		return lo, hi, true
	case akMem:
		addr := c.vea(in, next)
		if aligned && addr%uint64(a.size) != 0 {
			c.pend = Exit{Reason: ExitGP}
			return lo, hi, false
		}
		var b [32]byte
		if a.size > 32 || !c.rdBytes(addr, b[:a.size]) {
			if a.size > 32 {
				c.pend = Exit{Reason: ExitUD}
			}
			return lo, hi, false
		}
		return vecOf([16]byte(b[:16])), vecOf([16]byte(b[16:])), true
	}
	c.pend = Exit{Reason: ExitUD}
	return lo, hi, false
}

// vset writes a vector result to register r: the low 128 bits, and the
// high ones if l256, else zero.
func (c *CPU) vset(r uint8, lo, hi vec, l256 bool) {
	c.xmm[r] = lo
	if !l256 {
		hi = vec{}
	}
	c.avx.ymmh[r] = hi
}

// vstoreMem writes the low n bytes of lo:hi to the memory operand.
func (c *CPU) vstoreMem(in *dinst, next uint64, n uint8, lo, hi vec, aligned bool) bool {
	addr := c.vea(in, next)
	if aligned && addr%uint64(n) != 0 {
		c.pend = Exit{Reason: ExitGP}
		return false
	}
	var b [32]byte
	x, y := lo.bytes(), hi.bytes()
	copy(b[:16], x[:])
	copy(b[16:], y[:])
	return c.wrBytes(addr, b[:n])
}

// sse runs the legacy SSE operation op on one 128-bit lane: xmm0 holds a
// (or dst is passed through when it is a general register or memory),
// xmm1 holds b (or src is passed through: a general register, memory or
// an immediate). It returns what the operation left in xmm0; XMM0 and
// XMM1 keep their values.
func (c *CPU) sse(in *dinst, next uint64, op x86asm.Op, dst arg, a vec, src arg, b vec, imm uint64, hasImm bool) (vec, int) {
	t := dinst{op: uint16(op), base: -1, index: -1, osz: in.osz, imm: imm, narg: 2}
	if dst.kind == akMem || src.kind == akMem {
		t.disp = int64(c.vea(in, next))
	}
	t.args[0] = arg{akXMM, 0, 16}
	if dst.kind != akXMM {
		t.args[0] = dst
	}
	t.args[1] = arg{akXMM, 1, 16}
	switch src.kind {
	case akReg, akMem:
		t.args[1] = src
	case akImm:
		t.args[1] = arg{akImm, 0, 1}
	}
	if hasImm {
		t.args[2] = arg{akImm, 0, 1}
		t.narg = 3
	}
	s0, s1 := c.xmm[0], c.xmm[1]
	c.xmm[0], c.xmm[1] = a, b
	st := c.execVec(&t, next)
	r := c.xmm[0]
	c.xmm[0], c.xmm[1] = s0, s1
	return r, st
}

// laneImm is the immediate of the upper lane of a VEX.256 per-lane op.
func laneImm(op x86asm.Op, imm uint64) uint64 {
	switch op {
	case x86asm.BLENDPS:
		return imm >> 4
	case x86asm.BLENDPD, x86asm.SHUFPD:
		return imm >> 2
	case x86asm.MPSADBW:
		return imm >> 3
	}
	return imm
}

var xmmArg = arg{akXMM, 0, 16}

// execVEX executes a decoded VEX instruction.
func (c *CPU) execVEX(in *dinst, next uint64) int {
	op := x86asm.Op(in.imm2)
	l256 := in.sub != 0
	dst := in.args[0]
	switch in.op - opVEXFirst {
	case vxLane, vxScalar, vxShiftX:
		// dst, [src1,] src2 [, imm]
		s1, s2 := arg{}, in.args[1]
		if in.narg >= 3 && in.args[2].kind != akImm {
			s1, s2 = in.args[1], in.args[2]
		}
		hasImm := in.args[in.narg-1].kind == akImm
		var a0, a1 vec
		if s1.kind == akXMM {
			a0, a1 = c.xmm[s1.reg], c.avx.ymmh[s1.reg]
		}
		b0, b1, ok := c.vread(in, next, s2, false)
		if !ok {
			return stFault
		}
		if in.op-opVEXFirst == vxShiftX {
			b1 = b0 // one count for both lanes
			r0, r1 := vshift(op, a0, b0[0]), vshift(op, a1, b1[0])
			c.vset(dst.reg, r0, r1, l256)
			break
		}
		if !hasImm {
			// Integer and logic ops: pure functions of the lanes.
			if r0, ok := vecLanes(op, a0, b0); ok {
				r1, _ := vecLanes(op, a1, b1)
				c.vset(dst.reg, r0, r1, l256)
				break
			}
		}
		mx := c.mxcsr
		r0, st := c.sse(in, next, op, xmmArg, a0, xmmArg, b0, in.imm, hasImm)
		if st != stOK {
			return st
		}
		var r1 vec
		if l256 {
			if r1, st = c.sse(in, next, op, xmmArg, a1, xmmArg, b1, laneImm(op, in.imm), hasImm); st != stOK {
				c.mxcsr = mx
				return st
			}
		}
		c.vset(dst.reg, r0, r1, l256)
	case vxShiftI:
		a0, a1 := c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]
		imm := arg{akImm, 0, 1}
		r0, st := c.sse(in, next, op, xmmArg, a0, imm, vec{}, in.imm, false)
		if st != stOK {
			return st
		}
		var r1 vec
		if l256 {
			if r1, st = c.sse(in, next, op, xmmArg, a1, imm, vec{}, in.imm, false); st != stOK {
				return st
			}
		}
		c.vset(dst.reg, r0, r1, l256)
	case vxWiden:
		src := in.args[1]
		if src.kind == akXMM {
			src.size = 16
		}
		b0, _, ok := c.vread(in, next, src, false)
		if !ok {
			return stFault
		}
		mx := c.mxcsr
		r0, st := c.sse(in, next, op, xmmArg, vec{}, xmmArg, b0, 0, false)
		if st != stOK {
			return st
		}
		var r1 vec
		if l256 {
			n := 8 // CVTDQ2PD, CVTPS2PD: two elements per lane
			if op != x86asm.CVTDQ2PD && op != x86asm.CVTPS2PD {
				n = pmovxSrcBytes(op)
			}
			x := b0.bytes()
			var y [16]byte
			copy(y[:], x[n:])
			if r1, st = c.sse(in, next, op, xmmArg, vec{}, xmmArg, vecOf(y), 0, false); st != stOK {
				c.mxcsr = mx
				return st
			}
		}
		c.vset(dst.reg, r0, r1, l256)
	case vxNarrow:
		b0, b1, ok := c.vread(in, next, in.args[1], false)
		if !ok {
			return stFault
		}
		mx := c.mxcsr
		r0, st := c.sse(in, next, op, xmmArg, vec{}, xmmArg, b0, 0, false)
		if st != stOK {
			return st
		}
		if l256 {
			r1, st := c.sse(in, next, op, xmmArg, vec{}, xmmArg, b1, 0, false)
			if st != stOK {
				c.mxcsr = mx
				return st
			}
			r0[1] = r1[0]
		}
		c.vset(dst.reg, r0, vec{}, false)
	case vxMovU, vxMovA:
		aligned := in.op-opVEXFirst == vxMovA
		s := in.args[1]
		lo, hi, ok := c.vread(in, next, s, aligned)
		if !ok {
			return stFault
		}
		if dst.kind == akMem {
			if !c.vstoreMem(in, next, dst.size, lo, hi, aligned) {
				return stFault
			}
		} else {
			c.vset(dst.reg, lo, hi, l256)
		}
	case vxMovS:
		mask := sizeMask[4]
		if op == x86asm.MOVSD_XMM {
			mask = sizeMask[8]
		}
		switch {
		case dst.kind == akMem:
			s := c.xmm[in.args[1].reg]
			if !c.vstoreMem(in, next, dst.size, s, vec{}, false) {
				return stFault
			}
		case in.args[2].kind == akMem:
			v, _, ok := c.vread(in, next, in.args[2], false)
			if !ok {
				return stFault
			}
			c.vset(dst.reg, v, vec{}, false)
		default:
			a, b := c.xmm[in.args[1].reg], c.xmm[in.args[2].reg]
			c.vset(dst.reg, vec{a[0]&^mask | b[0]&mask, a[1]}, vec{}, false)
		}
	case vxMovD, vxMovQ:
		s := in.args[1]
		var v uint64
		if s.kind == akReg {
			v = c.Regs[s.reg] & sizeMask[s.size]
		} else {
			if s.kind == akXMM {
				s.size = 16
			}
			lo, _, ok := c.vread(in, next, s, false)
			if !ok {
				return stFault
			}
			v = lo[0]
		}
		c.vset(dst.reg, vec{v, 0}, vec{}, false)
	case vxMovDSt, vxMovQSt:
		v := c.xmm[in.args[1].reg][0]
		switch dst.kind {
		case akReg:
			c.setReg(dst.reg, dst.size, v)
		case akXMM:
			c.vset(dst.reg, vec{v, 0}, vec{}, false)
		default:
			if !c.wr(c.vea(in, next), dst.size, v&sizeMask[dst.size]) {
				return stFault
			}
		}
	case vxMovLo, vxMovHi:
		a := c.xmm[in.args[1].reg]
		s := in.args[2]
		var v uint64
		if s.kind == akXMM {
			b := c.xmm[s.reg]
			v = b[0] // vmovlhps
			if in.op-opVEXFirst == vxMovLo {
				v = b[1] // vmovhlps
			}
		} else {
			s.size = 8
			lo, _, ok := c.vread(in, next, s, false)
			if !ok {
				return stFault
			}
			v = lo[0]
		}
		r := vec{v, a[1]}
		if in.op-opVEXFirst == vxMovHi {
			r = vec{a[0], v}
		}
		c.vset(dst.reg, r, vec{}, false)
	case vxMovLoSt, vxMovHiSt:
		v := c.xmm[in.args[1].reg]
		if in.op-opVEXFirst == vxMovHiSt {
			v[0] = v[1]
		}
		if !c.wr(c.vea(in, next), 8, v[0]) {
			return stFault
		}
	case vxMovmsk:
		s := in.args[1]
		lanes := [2]vec{c.xmm[s.reg], c.avx.ymmh[s.reg]}
		var r uint64
		n := 1
		if l256 {
			n = 2
		}
		for h := 0; h < n; h++ {
			v := lanes[h]
			switch op {
			case x86asm.MOVMSKPS:
				for i := 0; i < 4; i++ {
					r |= uint64(v.d(i)>>31) << (4*h + i)
				}
			case x86asm.MOVMSKPD:
				r |= (v[0]>>63 | v[1]>>63<<1) << (2 * h)
			default:
				b := v.bytes()
				for i := 0; i < 16; i++ {
					r |= uint64(b[i]>>7) << (16*h + i)
				}
			}
		}
		c.Regs[dst.reg] = r
	case vxPtest:
		a0, a1 := c.xmm[dst.reg], c.avx.ymmh[dst.reg]
		b0, b1, ok := c.vread(in, next, in.args[1], false)
		if !ok {
			return stFault
		}
		if !l256 {
			a1 = vec{}
		}
		c.setArith(ptestFlags(a0, a1, b0, b1))
	case vxBcast:
		s := in.args[1]
		if s.kind == akXMM {
			s.size = 16
		}
		lo, _, ok := c.vread(in, next, s, false)
		if !ok {
			return stFault
		}
		n := int(in.imm2)
		x := lo.bytes()
		var y [32]byte
		for i := 0; i < 32; i++ {
			y[i] = x[i%n]
		}
		c.vset(dst.reg, vecOf([16]byte(y[:16])), vecOf([16]byte(y[16:])), l256)
	case vxPerm2:
		a0, a1 := c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]
		b0, b1, ok := c.vread(in, next, in.args[2], false)
		if !ok {
			return stFault
		}
		src := [4]vec{a0, a1, b0, b1}
		pick := func(sel uint64) vec {
			if sel&8 != 0 {
				return vec{}
			}
			return src[sel&3]
		}
		c.vset(dst.reg, pick(in.imm), pick(in.imm>>4), true)
	case vxPermQ:
		b0, b1, ok := c.vread(in, next, in.args[1], false)
		if !ok {
			return stFault
		}
		q := [4]uint64{b0[0], b0[1], b1[0], b1[1]}
		var r [4]uint64
		for i := range r {
			r[i] = q[in.imm>>(2*i)&3]
		}
		c.vset(dst.reg, vec{r[0], r[1]}, vec{r[2], r[3]}, true)
	case vxPermD:
		idx := [2]vec{c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]}
		b0, b1, ok := c.vread(in, next, in.args[2], false)
		if !ok {
			return stFault
		}
		data := [2]vec{b0, b1}
		var r [2]vec
		for i := 0; i < 8; i++ {
			j := int(idx[i/4].d(i%4) & 7)
			r[i/4].setD(i%4, data[j/4].d(j%4))
		}
		c.vset(dst.reg, r[0], r[1], true)
	case vxPermilI, vxPermilV:
		var data [2]vec
		var ctl [2]vec
		if in.op-opVEXFirst == vxPermilI {
			b0, b1, ok := c.vread(in, next, in.args[1], false)
			if !ok {
				return stFault
			}
			data = [2]vec{b0, b1}
		} else {
			data = [2]vec{c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]}
			b0, b1, ok := c.vread(in, next, in.args[2], false)
			if !ok {
				return stFault
			}
			ctl = [2]vec{b0, b1}
		}
		var r [2]vec
		for h := 0; h < 2; h++ {
			if in.imm2 == 4 {
				for i := 0; i < 4; i++ {
					sel := in.imm >> (2 * i) & 3
					if in.op-opVEXFirst == vxPermilV {
						sel = uint64(ctl[h].d(i) & 3)
					}
					r[h].setD(i, data[h].d(int(sel)))
				}
			} else {
				for i := 0; i < 2; i++ {
					sel := in.imm >> (2*h + i) & 1
					if in.op-opVEXFirst == vxPermilV {
						sel = ctl[h][i] >> 1 & 1
					}
					r[h][i] = data[h][sel]
				}
			}
		}
		c.vset(dst.reg, r[0], r[1], l256)
	case vxIns128:
		a0, a1 := c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]
		s := in.args[2]
		if s.kind == akXMM {
			s.size = 16
		}
		b, _, ok := c.vread(in, next, s, false)
		if !ok {
			return stFault
		}
		if in.imm&1 == 0 {
			a0 = b
		} else {
			a1 = b
		}
		c.vset(dst.reg, a0, a1, true)
	case vxExt128:
		s := in.args[1].reg
		v := c.xmm[s]
		if in.imm&1 != 0 {
			v = c.avx.ymmh[s]
		}
		if dst.kind == akMem {
			if !c.vstoreMem(in, next, 16, v, vec{}, false) {
				return stFault
			}
		} else {
			c.vset(dst.reg, v, vec{}, false)
		}
	case vxBlendD:
		a0, a1 := c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]
		b0, b1, ok := c.vread(in, next, in.args[2], false)
		if !ok {
			return stFault
		}
		r, b := [2]vec{a0, a1}, [2]vec{b0, b1}
		for i := 0; i < 8; i++ {
			if in.imm>>i&1 != 0 {
				r[i/4].setD(i%4, b[i/4].d(i%4))
			}
		}
		c.vset(dst.reg, r[0], r[1], l256)
	case vxBlendV:
		a := [2]vec{c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]}
		m := [2]vec{c.xmm[in.args[3].reg], c.avx.ymmh[in.args[3].reg]}
		b0, b1, ok := c.vread(in, next, in.args[2], false)
		if !ok {
			return stFault
		}
		b := [2]vec{b0, b1}
		var r [2]vec
		for h := 0; h < 2; h++ {
			x, y, mm := a[h].bytes(), b[h].bytes(), m[h].bytes()
			n := int(in.imm2)
			for i := 0; i < 16; i += n {
				if mm[i+n-1]&0x80 != 0 {
					copy(x[i:i+n], y[i:i+n])
				}
			}
			r[h] = vecOf(x)
		}
		c.vset(dst.reg, r[0], r[1], l256)
	case vxShiftV:
		a := [2]vec{c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]}
		b0, b1, ok := c.vread(in, next, in.args[2], false)
		if !ok {
			return stFault
		}
		b := [2]vec{b0, b1}
		var r [2]vec
		for h := 0; h < 2; h++ {
			if in.cc == 0 {
				for i := 0; i < 4; i++ {
					x, n := a[h].d(i), b[h].d(i)
					var v uint32
					switch {
					case op == x86asm.PSRAD:
						v = uint32(int32(x) >> min(n, 31))
					case n > 31:
					case op == x86asm.PSLLD:
						v = x << n
					default:
						v = x >> n
					}
					r[h].setD(i, v)
				}
			} else {
				for i := 0; i < 2; i++ {
					x, n := a[h][i], b[h][i]
					switch {
					case n > 63:
					case op == x86asm.PSLLD:
						r[h][i] = x << n
					default:
						r[h][i] = x >> n
					}
				}
			}
		}
		c.vset(dst.reg, r[0], r[1], l256)
	case vxZero:
		c.avx.ymmh = [16]vec{}
		if l256 {
			c.xmm = [16]vec{}
		}
	case vxToGPR, vxFromGPR, vxInsPS, vxFlags, vxStr:
		return c.vexLegacy(in, next, op)
	case vxCmp:
		return c.vcmp(in, next, op)
	case vxAndn, vxBextr, vxBlsr, vxBlsmsk, vxBlsi, vxBzhi, vxPdep, vxPext, vxRorx, vxSarx, vxShlx, vxShrx, vxMulx:
		return c.execBMI(in, next)
	default:
		return c.ud()
	}
	c.RIP = next
	return stOK
}

// vexLegacy executes the VEX.128 forms that are a legacy SSE operation
// with a general register, memory or flags operand.
func (c *CPU) vexLegacy(in *dinst, next uint64, op x86asm.Op) int {
	dst := in.args[0]
	hasImm := in.args[in.narg-1].kind == akImm
	switch in.op - opVEXFirst {
	case vxToGPR: // dst r/m, src xmm (pextr*, extractps) or dst r, src xmm/m (cvt*2si)
		if in.cc == 1 && op == x86asm.PEXTRD {
			op = x86asm.PEXTRQ
		}
		s := in.args[1]
		var b vec
		if s.kind == akXMM {
			b = c.xmm[s.reg]
		}
		if _, st := c.sse(in, next, op, dst, vec{}, s, b, in.imm, hasImm); st != stOK {
			return st
		}
	case vxFromGPR, vxInsPS: // dst xmm, src1 xmm, src2 r/m (cvtsi2s*, pinsr*) or xmm/m32 (insertps)
		if in.cc == 1 && op == x86asm.PINSRD {
			op = x86asm.PINSRQ
		}
		s := in.args[2]
		var b vec
		if s.kind == akXMM {
			b = c.xmm[s.reg]
		}
		r, st := c.sse(in, next, op, xmmArg, c.xmm[in.args[1].reg], s, b, in.imm, hasImm)
		if st != stOK {
			return st
		}
		c.vset(dst.reg, r, vec{}, false)
	case vxFlags:
		b, _, ok := c.vread(in, next, in.args[1], false)
		if !ok {
			return stFault
		}
		if _, st := c.sse(in, next, op, xmmArg, c.xmm[dst.reg], xmmArg, b, 0, false); st != stOK {
			return st
		}
	case vxStr:
		s := in.args[1]
		if s.kind == akXMM {
			s.size = 16
		}
		b, _, ok := c.vread(in, next, s, false)
		if !ok {
			return stFault
		}
		r, st := c.sse(in, next, op, xmmArg, c.xmm[dst.reg], xmmArg, b, in.imm, true)
		if st != stOK {
			return st
		}
		if op == x86asm.PCMPISTRM || op == x86asm.PCMPESTRM {
			c.vset(0, r, vec{}, false)
		}
	}
	c.RIP = next
	return stOK
}

// vcmp executes vcmpps/pd/ss/sd with the 32 predicates of VEX: bits 2:0
// the relation as in SSE, bit 3 negating the unordered result of the
// base predicate, bit 4 swapping signaling and quiet.
func (c *CPU) vcmp(in *dinst, next uint64, op x86asm.Op) int {
	l256 := in.sub != 0
	a := [2]vec{c.xmm[in.args[1].reg], c.avx.ymmh[in.args[1].reg]}
	b0, b1, ok := c.vread(in, next, in.args[2], false)
	if !ok {
		return stFault
	}
	b := [2]vec{b0, b1}
	p := in.imm & 31
	dbl := op == x86asm.CMPPD || op == x86asm.CMPSD_XMM
	n := 4
	if dbl {
		n = 2
	}
	if op == x86asm.CMPSS || op == x86asm.CMPSD_XMM {
		n = 1
	}
	lanes := 1
	if l256 {
		lanes = 2
	}
	var exc uint32
	r := a
	for h := 0; h < lanes; h++ {
		for i := 0; i < n; i++ {
			var x, y uint64
			if dbl {
				x, y = a[h][i], b[h][i]
			} else {
				x, y = uint64(a[h].d(i)), uint64(b[h].d(i))
			}
			t, e := vfcmp(p, x, y, dbl)
			exc |= e
			if dbl {
				r[h][i] = b2u(t)
			} else {
				r[h].setD(i, uint32(b2u(t)))
			}
		}
	}
	if !c.mxRaise(exc) {
		return stFault
	}
	c.vset(in.args[0].reg, r[0], r[1], l256)
	c.RIP = next
	return stOK
}

// vfcmp evaluates VEX compare predicate p (0-31) on raw float bits.
func vfcmp(p uint64, a, b uint64, dbl bool) (bool, uint32) {
	// The SSE predicate with the same relation gives the ordered result.
	base, exc := fcmp(p&7, a, b, dbl)
	var un, snan bool
	if dbl {
		un = isNaN64(a) || isNaN64(b)
		snan = isSNaN64(a) || isSNaN64(b)
	} else {
		un = isNaN32(uint32(a)) || isNaN32(uint32(b))
		snan = isSNaN32(uint32(a)) || isSNaN32(uint32(b))
	}
	r := base
	if p&8 != 0 {
		// EQ_UQ NGE_US NGT_US FALSE_OQ NEQ_OQ GE_OS GT_OS TRUE_UQ: the
		// relation of p&7 with the unordered result inverted.
		if un {
			r = !base
		}
		if p&7 == 3 || p&7 == 7 { // FALSE / TRUE
			r = p&7 == 7
		}
	}
	// Signaling predicates (OS, US) raise IE on any NaN, quiet ones only
	// on SNaN. For p&7 in 1,2,5,6 the base predicate is signaling;
	// bit 4 flips it.
	signaling := p&3 == 1 || p&3 == 2
	if p&16 != 0 {
		signaling = !signaling
	}
	exc = 0
	if snan || (un && signaling) {
		exc = mxIE
	}
	if !un && (isDenormal(a, dbl) || isDenormal(b, dbl)) {
		exc |= mxDE
	}
	return r, exc
}

// execBMI executes the BMI1 and BMI2 instructions.
func (c *CPU) execBMI(in *dinst, next uint64) int {
	size := in.osz
	bitsN := uint64(size) * 8
	mask := sizeMask[size]
	// The r/m operand: args[2] for RVM forms, args[1] otherwise.
	var rmA arg
	switch in.op - opVEXFirst {
	case vxAndn, vxPdep, vxPext, vxMulx:
		rmA = in.args[2]
	default:
		rmA = in.args[1]
	}
	var src uint64
	if rmA.kind == akReg {
		src = c.Regs[rmA.reg] & mask
	} else {
		v, ok := c.rd(c.vea(in, next), size)
		if !ok {
			return stFault
		}
		src = v
	}
	dst := in.args[0]
	setFlags := func(r uint64, cf bool, zfClear bool) {
		f := uint64(0)
		if cf {
			f |= FlagCF
		}
		if r&mask == 0 && !zfClear {
			f |= FlagZF
		}
		if r>>(bitsN-1)&1 != 0 {
			f |= FlagSF
		}
		if parity[uint8(r)] {
			f |= FlagPF
		}
		c.setArith(f)
	}
	var r uint64
	switch in.op - opVEXFirst {
	case vxAndn:
		r = ^c.Regs[in.args[1].reg] & src & mask
		setFlags(r, false, false)
	case vxBextr:
		ctl := c.Regs[in.args[2].reg]
		start, n := ctl&0xff, ctl>>8&0xff
		if start < bitsN {
			r = src >> start
			if n < 64 {
				r &= 1<<n - 1
			}
		}
		setFlags(r, false, false)
	case vxBlsr:
		r = src & (src - 1) & mask
		setFlags(r, src == 0, false)
	case vxBlsmsk:
		r = (src ^ (src - 1)) & mask
		setFlags(r, src == 0, true)
	case vxBlsi:
		r = src & -src & mask
		setFlags(r, src != 0, false)
	case vxBzhi:
		n := c.Regs[in.args[2].reg] & 0xff
		r = src
		if n < bitsN {
			r = src & (1<<n - 1)
		}
		setFlags(r, n > bitsN-1, false)
	case vxPdep:
		m := src
		x := c.Regs[in.args[1].reg] & mask
		for k := uint(0); m != 0; m &= m - 1 {
			if x>>k&1 != 0 {
				r |= m & -m
			}
			k++
		}
	case vxPext:
		m := src
		x := c.Regs[in.args[1].reg] & mask
		k := uint(0)
		for ; m != 0; m &= m - 1 {
			if x&(m&-m) != 0 {
				r |= 1 << k
			}
			k++
		}
	case vxRorx:
		n := in.imm & (bitsN - 1)
		if size == 8 {
			r = bits.RotateLeft64(src, -int(n))
		} else {
			r = uint64(bits.RotateLeft32(uint32(src), -int(n)))
		}
	case vxSarx, vxShlx, vxShrx:
		n := c.Regs[in.args[2].reg] & (bitsN - 1)
		switch in.op - opVEXFirst {
		case vxSarx:
			r = uint64(int64(sext(src, size)) >> n)
		case vxShlx:
			r = src << n
		default:
			r = src >> n
		}
	case vxMulx:
		var hi, lo uint64
		if size == 8 {
			hi, lo = bits.Mul64(c.Regs[RDX], src)
		} else {
			p := (c.Regs[RDX] & mask) * src
			hi, lo = p>>32, p&mask
		}
		c.setReg(in.args[1].reg, size, lo)
		c.setReg(dst.reg, size, hi)
		c.RIP = next
		return stOK
	}
	c.setReg(dst.reg, size, r&mask)
	c.RIP = next
	return stOK
}
