package machine

import "golang.org/x/arch/x86/x86asm"

// Fast paths for the VEX forms of the AVX2 string functions of glibc and
// musl (strlen, memchr, strcmp, memcpy, ...): the integer and logic lane
// operations that SWAR does eight bytes at a time, whole-register moves,
// vpmovmskb, vptest, vpbroadcastb, vmovd/vmovq from a general register and
// vzeroupper. A fast path uses memory only through TLB hits inside one
// page and, for the aligned moves, only aligned addresses; anything else
// returns false having changed nothing, and the instruction takes the
// general path (execVEX), which also reports any fault. Stores hit only
// the write TLB, which never holds a page with decoded code.

// Fast VEX operations (dinst.sh of kVEX).
const (
	vfNone    = iota
	vfXor     // vpxor, vxorps, vxorpd
	vfOr      // vpor, vorps, vorpd
	vfAnd     // vpand, vandps, vandpd
	vfAndn    // vpandn, vandnps, vandnpd
	vfCmpeqB  // vpcmpeqb
	vfCmpeqD  // vpcmpeqd
	vfMinUB   // vpminub
	vfMaxUB   // vpmaxub
	vfAddD    // vpaddd
	vfSubD    // vpsubd
	vfAddQ    // vpaddq
	vfSubQ    // vpsubq
	vfLoadU   // vmovdqu/vmovups/vmovupd/vlddqu reg, m
	vfLoadA   // vmovdqa/vmovaps/vmovapd/vmovntdqa reg, m
	vfStoreU  // the same to memory
	vfStoreA  //
	vfMovRR   // whole-register move
	vfMovmskB // vpmovmskb r, xmm/ymm
	vfZero    // vzeroupper (L0), vzeroall (L1)
	vfPtest   // vptest
	vfBcastB  // vpbroadcastb from a register
	vfMovToX  // vmovd/vmovq xmm, r
)

// vexLaneOps maps the legacy op of a vxLane instruction to its fast op.
var vexLaneOps = map[x86asm.Op]uint8{
	x86asm.PXOR: vfXor, x86asm.XORPS: vfXor, x86asm.XORPD: vfXor,
	x86asm.POR: vfOr, x86asm.ORPS: vfOr, x86asm.ORPD: vfOr,
	x86asm.PAND: vfAnd, x86asm.ANDPS: vfAnd, x86asm.ANDPD: vfAnd,
	x86asm.PANDN: vfAndn, x86asm.ANDNPS: vfAndn, x86asm.ANDNPD: vfAndn,
	x86asm.PCMPEQB: vfCmpeqB, x86asm.PCMPEQD: vfCmpeqD, x86asm.PMINUB: vfMinUB, x86asm.PMAXUB: vfMaxUB,
	x86asm.PADDD: vfAddD, x86asm.PSUBD: vfSubD, x86asm.PADDQ: vfAddQ, x86asm.PSUBQ: vfSubQ,
}

// classifyVEX marks the decoded VEX forms that have a fast path as kVEX.
func classifyVEX(d *dinst) {
	if d.a32 {
		return
	}
	a0, a1, a2 := d.args[0], d.args[1], d.args[2]
	x0, x1, x2 := a0.kind == akXMM, a1.kind == akXMM, a2.kind == akXMM
	m0, m1, m2 := a0.kind == akMem, a1.kind == akMem, a2.kind == akMem
	f := uint8(vfNone)
	switch d.op - opVEXFirst {
	case vxLane:
		if d.narg == 3 && x0 && x1 && (x2 || m2) {
			f = vexLaneOps[x86asm.Op(d.imm2)]
		}
	case vxMovU, vxMovA:
		if d.narg != 2 {
			break
		}
		aligned := d.op-opVEXFirst == vxMovA
		switch {
		case x0 && x1:
			f = vfMovRR
		case x0 && m1:
			f = vfLoadU
			if aligned {
				f = vfLoadA
			}
		case m0 && x1:
			f = vfStoreU
			if aligned {
				f = vfStoreA
			}
		}
	case vxMovmsk:
		if x86asm.Op(d.imm2) == x86asm.PMOVMSKB && d.narg == 2 && a0.kind == akReg && x1 {
			f = vfMovmskB
		}
	case vxZero:
		f = vfZero
	case vxPtest:
		if d.narg == 2 && x0 && (x1 || m1) {
			f = vfPtest
		}
	case vxBcast:
		if d.imm2 == 1 && d.narg == 2 && x0 && x1 {
			f = vfBcastB
		}
	case vxMovD:
		if d.narg == 2 && x0 && a1.kind == akReg {
			f = vfMovToX
		}
	}
	if f != vfNone {
		d.kind, d.sh = kVEX, f
	}
}

// vexEA is the address of a kVEX instruction's memory operand.
func (c *CPU) vexEA(in *dinst) uint64 {
	if in.rep&vexRIPRel == 0 {
		return c.eaFast(in)
	}
	a := in.pc + uint64(in.len) + uint64(in.disp)
	if in.seg != 0 {
		a += c.segBase(in.seg)
	}
	return a
}

// vexLoad reads the n-byte (16 or 32) memory operand of in if it hits in the
// read TLB within one page.
func (c *CPU) vexLoad(in *dinst, n uint64) (lo, hi vec, ok bool) {
	a := c.vexEA(in)
	pn, off := a>>12, a&0xfff
	e := &c.rtlb[pn&c.tlbMask]
	if e.pn != pn || off > PageSize-n {
		return lo, hi, false
	}
	b := e.buf.b[off:]
	lo = vec{le.Uint64(b), le.Uint64(b[8:])}
	if n == 32 {
		hi = vec{le.Uint64(b[16:]), le.Uint64(b[24:])}
	}
	return lo, hi, true
}

// vexStore writes lo (and hi if n is 32) to the memory operand of in if it
// hits in the write TLB within one page.
func (c *CPU) vexStore(in *dinst, n uint64, lo, hi vec, aligned bool) bool {
	a := c.vexEA(in)
	pn, off := a>>12, a&0xfff
	e := &c.wtlb[pn&c.tlbMask]
	if e.pn != pn || off > PageSize-n || aligned && a&(n-1) != 0 {
		return false
	}
	b := e.buf.b[off:]
	le.PutUint64(b, lo[0])
	le.PutUint64(b[8:], lo[1])
	if n == 32 {
		le.PutUint64(b[16:], hi[0])
		le.PutUint64(b[24:], hi[1])
	}
	return true
}

// laneOp computes fast lane operation f on one 128-bit lane.
func laneOp(f uint8, a, b vec) vec {
	switch f {
	case vfXor:
		return vec{a[0] ^ b[0], a[1] ^ b[1]}
	case vfOr:
		return vec{a[0] | b[0], a[1] | b[1]}
	case vfAnd:
		return vec{a[0] & b[0], a[1] & b[1]}
	case vfAndn:
		return vec{^a[0] & b[0], ^a[1] & b[1]}
	case vfCmpeqB:
		return vec{zeroBytes(a[0] ^ b[0]), zeroBytes(a[1] ^ b[1])}
	case vfCmpeqD:
		return vec{eqMask(a[0]^b[0], 32), eqMask(a[1]^b[1], 32)}
	case vfMinUB:
		m0, m1 := ltBytes(a[0], b[0]), ltBytes(a[1], b[1])
		return vec{a[0]&m0 | b[0]&^m0, a[1]&m1 | b[1]&^m1}
	case vfMaxUB:
		m0, m1 := ltBytes(a[0], b[0]), ltBytes(a[1], b[1])
		return vec{b[0]&m0 | a[0]&^m0, b[1]&m1 | a[1]&^m1}
	case vfAddD:
		return vec{add32x2(a[0], b[0]), add32x2(a[1], b[1])}
	case vfSubD:
		return vec{sub32x2(a[0], b[0]), sub32x2(a[1], b[1])}
	case vfAddQ:
		return vec{a[0] + b[0], a[1] + b[1]}
	default: // vfSubQ
		return vec{a[0] - b[0], a[1] - b[1]}
	}
}

// vexFast executes kVEX instruction in if it can, reporting whether it
// did; if not, nothing changed.
func (c *CPU) vexFast(in *dinst) bool {
	l256 := in.sub != 0
	n := uint64(16)
	if l256 {
		n = 32
	}
	d := in.args[0].reg & 15
	switch f := in.sh; f {
	case vfXor, vfOr, vfAnd, vfAndn, vfCmpeqB, vfCmpeqD, vfMinUB, vfMaxUB, vfAddD, vfSubD, vfAddQ, vfSubQ:
		s1 := in.args[1].reg & 15
		var b0, b1 vec
		if s2 := in.args[2]; s2.kind == akXMM {
			b0, b1 = c.xmm[s2.reg&15], c.avx.ymmh[s2.reg&15]
		} else {
			var ok bool
			if b0, b1, ok = c.vexLoad(in, n); !ok {
				return false
			}
		}
		r0 := laneOp(f, c.xmm[s1], b0)
		var r1 vec
		if l256 {
			r1 = laneOp(f, c.avx.ymmh[s1], b1)
		}
		c.xmm[d], c.avx.ymmh[d] = r0, r1
	case vfLoadU, vfLoadA:
		lo, hi, ok := c.vexLoad(in, n)
		if !ok || f == vfLoadA && c.vexEA(in)&(n-1) != 0 {
			return false
		}
		c.xmm[d], c.avx.ymmh[d] = lo, hi
	case vfStoreU, vfStoreA:
		s := in.args[1].reg & 15
		hi := c.avx.ymmh[s]
		return c.vexStore(in, n, c.xmm[s], hi, f == vfStoreA)
	case vfMovRR:
		s := in.args[1].reg & 15
		var hi vec
		if l256 {
			hi = c.avx.ymmh[s]
		}
		c.xmm[d], c.avx.ymmh[d] = c.xmm[s], hi
	case vfMovmskB:
		s := in.args[1].reg & 15
		v := c.xmm[s]
		r := movmskB(v[0]) | movmskB(v[1])<<8
		if l256 {
			h := c.avx.ymmh[s]
			r |= (movmskB(h[0]) | movmskB(h[1])<<8) << 16
		}
		c.Regs[d] = r
	case vfZero:
		c.avx.ymmh = [16]vec{}
		if l256 {
			c.xmm = [16]vec{}
		}
	case vfPtest:
		a0, a1 := c.xmm[d], c.avx.ymmh[d]
		var b0, b1 vec
		if s := in.args[1]; s.kind == akXMM {
			b0, b1 = c.xmm[s.reg&15], c.avx.ymmh[s.reg&15]
		} else {
			var ok bool
			if b0, b1, ok = c.vexLoad(in, n); !ok {
				return false
			}
		}
		if !l256 {
			a1, b1 = vec{}, vec{}
		}
		// ptestFlags, inline: it is over the inlining budget, and this
		// is the fast path.
		f := uint64(0)
		if a0[0]&b0[0]|a0[1]&b0[1]|a1[0]&b1[0]|a1[1]&b1[1] == 0 {
			f |= FlagZF
		}
		if ^a0[0]&b0[0]|^a0[1]&b0[1]|^a1[0]&b1[0]|^a1[1]&b1[1] == 0 {
			f |= FlagCF
		}
		c.setArith(f)
	case vfBcastB:
		x := c.xmm[in.args[1].reg&15][0] & 0xff * 0x0101010101010101
		var hi vec
		if l256 {
			hi = vec{x, x}
		}
		c.xmm[d], c.avx.ymmh[d] = vec{x, x}, hi
	case vfMovToX:
		s := in.args[1]
		c.xmm[d], c.avx.ymmh[d] = vec{c.Regs[s.reg&15] & sizeMask[s.size], 0}, vec{}
	default:
		return false
	}
	return true
}
