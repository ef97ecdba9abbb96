package machine

import (
	"hash"

	"golang.org/x/arch/x86/x86asm"
)

// VEX-encoded instructions (AVX, AVX2, BMI1, BMI2): decoding and
// execution. The machine does not advertise them in CPUID until they are
// implemented and proven against the host CPU; every VEX encoding not in
// the table below is #UD.
//
// A decoded VEX instruction keeps its operands in dinst.args in the
// order of the Intel SDM's operand columns: ModRM.reg, VEX.vvvv, ModRM.rm
// (as the form says), then an is4 register or the immediate. The other
// fields are reused as follows: op is opVEXFirst plus the execution class
// (vx*), imm2 the legacy SSE op run per 128-bit lane by classes that
// reuse sse.go, sub VEX.L, cc VEX.W, osz the general-register operand
// size, rep vexRIPRel when disp is relative to the next instruction.

// Internal ops of VEX-encoded instructions occupy [opVEXFirst, opVEXLast);
// exec hands them to execVEX.
const (
	opVEXFirst = 0x7e00
	opVEXLast  = 0x7f00
)

// avxState is the architectural state AVX adds to SSE's: the upper halves
// of YMM0-15.
type avxState struct {
	ymmh [16]vec
}

// hash writes the upper YMM halves to h when any is nonzero, so the
// hashes of states that never held AVX state are what they were before
// AVX.
func (s *avxState) hash(h hash.Hash) {
	if s.ymmh == [16]vec{} {
		return
	}
	for _, v := range s.ymmh {
		b := v.bytes()
		h.Write(b[:])
	}
}

// Execution classes of VEX instructions (dinst.op - opVEXFirst).
const (
	vxNone    = iota
	vxLane    // per 128-bit lane: legacy op (imm2) on src1 (or 0), src2
	vxShiftI  // per lane: legacy shift of rm by imm, into vvvv
	vxShiftX  // per lane: legacy shift of src1 by the count in xmm/m128
	vxWiden   // legacy widening op; the 256 form takes a 128-bit source
	vxNarrow  // legacy narrowing op; the 256 form gives a 128-bit result
	vxScalar  // legacy scalar op: result 128 bits from src1 and src2
	vxMovU    // vmovdqu/vmovups/...: whole-register move
	vxMovA    // vmovdqa/vmovaps/vmovnt*: aligned whole-register move
	vxMovS    // vmovss/vmovsd (imm2 MOVSS or MOVSD_XMM)
	vxMovD    // vmovd/vmovq xmm, r/m
	vxMovDSt  // vmovd/vmovq r/m, xmm
	vxMovQ    // vmovq xmm, xmm/m64
	vxMovQSt  // vmovq xmm/m64, xmm
	vxMovLo   // vmovlps/vmovlpd/vmovhlps: low quadword from rm
	vxMovHi   // vmovhps/vmovhpd/vmovlhps: high quadword from rm
	vxMovLoSt // vmovlps/vmovlpd m64, xmm
	vxMovHiSt // vmovhps/vmovhpd m64, xmm
	vxMovmsk  // vmovmskps/vmovmskpd/vpmovmskb
	vxPtest   // vptest
	vxBcast   // vpbroadcast*/vbroadcast*: element size in imm2
	vxPerm2   // vperm2i128/vperm2f128
	vxPermQ   // vpermq/vpermpd
	vxPermD   // vpermd/vpermps
	vxPermilI // vpermilps/vpermilpd with an immediate (imm2 4 or 8)
	vxPermilV // vpermilps/vpermilpd with a vector control
	vxIns128  // vinserti128/vinsertf128
	vxExt128  // vextracti128/vextractf128
	vxBlendD  // vpblendd
	vxBlendV  // vblendvps/vblendvpd/vpblendvb (imm2 element size)
	vxShiftV  // vpsllv/vpsrlv/vpsrav (imm2 the legacy shift op)
	vxZero    // vzeroupper/vzeroall
	vxToGPR   // legacy op writing a general register or memory: cvt*2si, pextr*, extractps, (v)ld/stmxcsr
	vxFromGPR // legacy op reading a general register or memory: cvtsi2s*, pinsr*
	vxFlags   // legacy op setting flags: (u)comis*
	vxStr     // vpcmp{e,i}str{i,m}
	vxCmp     // vcmpps/pd/ss/sd with the 32 VEX predicates
	vxInsPS   // vinsertps
	vxAndn
	vxBextr
	vxBlsr
	vxBlsmsk
	vxBlsi
	vxBzhi
	vxPdep
	vxPext
	vxRorx
	vxSarx
	vxShlx
	vxShrx
	vxMulx
)

// Operand forms.
const (
	fRVM  = iota // reg, vvvv, rm
	fRM          // reg, rm (vvvv unused)
	fMR          // rm, reg (vvvv unused)
	fVM          // vvvv, rm (ModRM.reg is an opcode extension)
	fRMV         // reg, rm, vvvv
	fRVMR        // reg, vvvv, rm, is4 register in imm8[7:4]
	fNone        // no ModRM
)

// L and W rules.
const (
	lAny  = iota // 128 and 256
	l0           // VEX.128 only
	l1           // VEX.256 only
	lIG          // ignored (scalar): executed as 128
	wIG   = 0
	w0    = 1
	w1    = 2
	wSize = 3 // W selects the 32/64-bit general register or element size
)

// Memory operand sizes.
const (
	mV       = iota // the vector: 16 or 32 bytes
	mX              // 16 bytes
	mH              // half the vector: 8 or 16
	mQ              // a quarter: 4 or 8
	mE              // an eighth: 2 or 4
	m1              // 1 byte
	m2              // 2 bytes
	m4              // 4 bytes
	m8              // 8 bytes
	mW              // 4 or 8 by VEX.W
	mNoMem          // register operand only
	mMemOnly        // memory operand only, 16 or 32 bytes
)

// Which operands are general registers.
const (
	gReg = 1 << iota // ModRM.reg
	gRM              // ModRM.rm
	gV               // VEX.vvvv
)

type vexEnt struct {
	class uint16
	leg   x86asm.Op
	form  uint8
	l, w  uint8
	msz   uint8
	gpr   uint8
	imm   bool
}

// vexKey identifies a table entry: map (1-3), pp, opcode and, for group
// opcodes, 8+ModRM.reg.
func vexKey(mp, pp, opc, grp uint8) uint32 {
	return uint32(mp)<<20 | uint32(pp)<<16 | uint32(opc)<<8 | uint32(grp)
}

var vexTable = map[uint32]vexEnt{}

// vexGroup lists the opcodes whose ModRM.reg extends the opcode.
func vexGroup(mp, pp, opc uint8) bool {
	return mp == 1 && pp == 1 && opc >= 0x71 && opc <= 0x73 || mp == 2 && pp == 0 && opc == 0xf3 || mp == 1 && pp == 0 && opc == 0xae
}

const (
	pNone = 0
	p66   = 1
	pF3   = 2
	pF2   = 3
)

func init() {
	add := func(mp, pp, opc uint8, e vexEnt) {
		vexTable[vexKey(mp, pp, opc, 0)] = e
	}
	grp := func(mp, pp, opc, reg uint8, e vexEnt) {
		vexTable[vexKey(mp, pp, opc, 8+reg)] = e
	}
	lane := func(mp, pp, opc uint8, leg x86asm.Op) {
		add(mp, pp, opc, vexEnt{class: vxLane, leg: leg, form: fRVM})
	}
	unary := func(mp, pp, opc uint8, leg x86asm.Op) {
		add(mp, pp, opc, vexEnt{class: vxLane, leg: leg, form: fRM})
	}
	scalar := func(mp, pp, opc uint8, leg x86asm.Op, msz uint8) {
		add(mp, pp, opc, vexEnt{class: vxScalar, leg: leg, form: fRVM, l: lIG, msz: msz})
	}
	laneImm := func(mp, pp, opc uint8, leg x86asm.Op, l uint8) {
		add(mp, pp, opc, vexEnt{class: vxLane, leg: leg, form: fRVM, l: l, imm: true})
	}
	// Map 0F.
	add(1, pNone, 0x10, vexEnt{class: vxMovU, form: fRM})
	add(1, p66, 0x10, vexEnt{class: vxMovU, form: fRM})
	add(1, pNone, 0x11, vexEnt{class: vxMovU, form: fMR})
	add(1, p66, 0x11, vexEnt{class: vxMovU, form: fMR})
	add(1, pF3, 0x10, vexEnt{class: vxMovS, leg: x86asm.MOVSS, form: fRVM, l: lIG, msz: m4})
	add(1, pF2, 0x10, vexEnt{class: vxMovS, leg: x86asm.MOVSD_XMM, form: fRVM, l: lIG, msz: m8})
	add(1, pF3, 0x11, vexEnt{class: vxMovS, leg: x86asm.MOVSS, form: fMR, l: lIG, msz: m4})
	add(1, pF2, 0x11, vexEnt{class: vxMovS, leg: x86asm.MOVSD_XMM, form: fMR, l: lIG, msz: m8})
	add(1, pNone, 0x12, vexEnt{class: vxMovLo, form: fRVM, l: l0, msz: m8})
	add(1, p66, 0x12, vexEnt{class: vxMovLo, form: fRVM, l: l0, msz: mMemOnly})
	add(1, pNone, 0x13, vexEnt{class: vxMovLoSt, form: fMR, l: l0, msz: mMemOnly})
	add(1, p66, 0x13, vexEnt{class: vxMovLoSt, form: fMR, l: l0, msz: mMemOnly})
	add(1, pNone, 0x16, vexEnt{class: vxMovHi, form: fRVM, l: l0, msz: m8})
	add(1, p66, 0x16, vexEnt{class: vxMovHi, form: fRVM, l: l0, msz: mMemOnly})
	add(1, pNone, 0x17, vexEnt{class: vxMovHiSt, form: fMR, l: l0, msz: mMemOnly})
	add(1, p66, 0x17, vexEnt{class: vxMovHiSt, form: fMR, l: l0, msz: mMemOnly})
	unary(1, pF3, 0x12, x86asm.MOVSLDUP)
	unary(1, pF3, 0x16, x86asm.MOVSHDUP)
	unary(1, pF2, 0x12, x86asm.MOVDDUP)
	lane(1, pNone, 0x14, x86asm.UNPCKLPS)
	lane(1, p66, 0x14, x86asm.UNPCKLPD)
	lane(1, pNone, 0x15, x86asm.UNPCKHPS)
	lane(1, p66, 0x15, x86asm.UNPCKHPD)
	add(1, pNone, 0x28, vexEnt{class: vxMovA, form: fRM})
	add(1, p66, 0x28, vexEnt{class: vxMovA, form: fRM})
	add(1, pNone, 0x29, vexEnt{class: vxMovA, form: fMR})
	add(1, p66, 0x29, vexEnt{class: vxMovA, form: fMR})
	add(1, pF3, 0x2a, vexEnt{class: vxFromGPR, leg: x86asm.CVTSI2SS, form: fRVM, l: lIG, w: wSize, msz: mW, gpr: gRM})
	add(1, pF2, 0x2a, vexEnt{class: vxFromGPR, leg: x86asm.CVTSI2SD, form: fRVM, l: lIG, w: wSize, msz: mW, gpr: gRM})
	add(1, pNone, 0x2b, vexEnt{class: vxMovA, form: fMR, msz: mMemOnly})
	add(1, p66, 0x2b, vexEnt{class: vxMovA, form: fMR, msz: mMemOnly})
	add(1, pF3, 0x2c, vexEnt{class: vxToGPR, leg: x86asm.CVTTSS2SI, form: fRM, l: lIG, w: wSize, msz: m4, gpr: gReg})
	add(1, pF2, 0x2c, vexEnt{class: vxToGPR, leg: x86asm.CVTTSD2SI, form: fRM, l: lIG, w: wSize, msz: m8, gpr: gReg})
	add(1, pF3, 0x2d, vexEnt{class: vxToGPR, leg: x86asm.CVTSS2SI, form: fRM, l: lIG, w: wSize, msz: m4, gpr: gReg})
	add(1, pF2, 0x2d, vexEnt{class: vxToGPR, leg: x86asm.CVTSD2SI, form: fRM, l: lIG, w: wSize, msz: m8, gpr: gReg})
	add(1, pNone, 0x2e, vexEnt{class: vxFlags, leg: x86asm.UCOMISS, form: fRM, l: lIG, msz: m4})
	add(1, p66, 0x2e, vexEnt{class: vxFlags, leg: x86asm.UCOMISD, form: fRM, l: lIG, msz: m8})
	add(1, pNone, 0x2f, vexEnt{class: vxFlags, leg: x86asm.COMISS, form: fRM, l: lIG, msz: m4})
	add(1, p66, 0x2f, vexEnt{class: vxFlags, leg: x86asm.COMISD, form: fRM, l: lIG, msz: m8})
	add(1, pNone, 0x50, vexEnt{class: vxMovmsk, leg: x86asm.MOVMSKPS, form: fRM, msz: mNoMem, gpr: gReg})
	add(1, p66, 0x50, vexEnt{class: vxMovmsk, leg: x86asm.MOVMSKPD, form: fRM, msz: mNoMem, gpr: gReg})
	unary(1, pNone, 0x51, x86asm.SQRTPS)
	unary(1, p66, 0x51, x86asm.SQRTPD)
	scalar(1, pF3, 0x51, x86asm.SQRTSS, m4)
	scalar(1, pF2, 0x51, x86asm.SQRTSD, m8)
	unary(1, pNone, 0x52, x86asm.RSQRTPS)
	scalar(1, pF3, 0x52, x86asm.RSQRTSS, m4)
	unary(1, pNone, 0x53, x86asm.RCPPS)
	scalar(1, pF3, 0x53, x86asm.RCPSS, m4)
	for _, o := range []struct {
		opc        uint8
		ps, pd     x86asm.Op
		ss, sd     x86asm.Op
		hasScalars bool
	}{
		{0x54, x86asm.ANDPS, x86asm.ANDPD, 0, 0, false},
		{0x55, x86asm.ANDNPS, x86asm.ANDNPD, 0, 0, false},
		{0x56, x86asm.ORPS, x86asm.ORPD, 0, 0, false},
		{0x57, x86asm.XORPS, x86asm.XORPD, 0, 0, false},
		{0x58, x86asm.ADDPS, x86asm.ADDPD, x86asm.ADDSS, x86asm.ADDSD, true},
		{0x59, x86asm.MULPS, x86asm.MULPD, x86asm.MULSS, x86asm.MULSD, true},
		{0x5c, x86asm.SUBPS, x86asm.SUBPD, x86asm.SUBSS, x86asm.SUBSD, true},
		{0x5d, x86asm.MINPS, x86asm.MINPD, x86asm.MINSS, x86asm.MINSD, true},
		{0x5e, x86asm.DIVPS, x86asm.DIVPD, x86asm.DIVSS, x86asm.DIVSD, true},
		{0x5f, x86asm.MAXPS, x86asm.MAXPD, x86asm.MAXSS, x86asm.MAXSD, true},
	} {
		lane(1, pNone, o.opc, o.ps)
		lane(1, p66, o.opc, o.pd)
		if o.hasScalars {
			scalar(1, pF3, o.opc, o.ss, m4)
			scalar(1, pF2, o.opc, o.sd, m8)
		}
	}
	add(1, pNone, 0x5a, vexEnt{class: vxWiden, leg: x86asm.CVTPS2PD, form: fRM, msz: mH})
	add(1, p66, 0x5a, vexEnt{class: vxNarrow, leg: x86asm.CVTPD2PS, form: fRM})
	scalar(1, pF3, 0x5a, x86asm.CVTSS2SD, m4)
	scalar(1, pF2, 0x5a, x86asm.CVTSD2SS, m8)
	unary(1, pNone, 0x5b, x86asm.CVTDQ2PS)
	unary(1, p66, 0x5b, x86asm.CVTPS2DQ)
	unary(1, pF3, 0x5b, x86asm.CVTTPS2DQ)
	for i, op := range []x86asm.Op{x86asm.PUNPCKLBW, x86asm.PUNPCKLWD, x86asm.PUNPCKLDQ, x86asm.PACKSSWB,
		x86asm.PCMPGTB, x86asm.PCMPGTW, x86asm.PCMPGTD, x86asm.PACKUSWB, x86asm.PUNPCKHBW, x86asm.PUNPCKHWD,
		x86asm.PUNPCKHDQ, x86asm.PACKSSDW, x86asm.PUNPCKLQDQ, x86asm.PUNPCKHQDQ} {
		lane(1, p66, 0x60+uint8(i), op)
	}
	add(1, p66, 0x6e, vexEnt{class: vxMovD, form: fRM, l: l0, w: wSize, msz: mW, gpr: gRM})
	add(1, p66, 0x6f, vexEnt{class: vxMovA, form: fRM})
	add(1, pF3, 0x6f, vexEnt{class: vxMovU, form: fRM})
	laneImm(1, p66, 0x70, x86asm.PSHUFD, lAny)
	laneImm(1, pF3, 0x70, x86asm.PSHUFHW, lAny)
	laneImm(1, pF2, 0x70, x86asm.PSHUFLW, lAny)
	for k, e := range map[[2]uint8]x86asm.Op{
		{0x71, 2}: x86asm.PSRLW, {0x71, 4}: x86asm.PSRAW, {0x71, 6}: x86asm.PSLLW,
		{0x72, 2}: x86asm.PSRLD, {0x72, 4}: x86asm.PSRAD, {0x72, 6}: x86asm.PSLLD,
		{0x73, 2}: x86asm.PSRLQ, {0x73, 3}: x86asm.PSRLDQ, {0x73, 6}: x86asm.PSLLQ, {0x73, 7}: x86asm.PSLLDQ,
	} {
		grp(1, p66, k[0], k[1], vexEnt{class: vxShiftI, leg: e, form: fVM, msz: mNoMem, imm: true})
	}
	lane(1, p66, 0x74, x86asm.PCMPEQB)
	lane(1, p66, 0x75, x86asm.PCMPEQW)
	lane(1, p66, 0x76, x86asm.PCMPEQD)
	add(1, pNone, 0x77, vexEnt{class: vxZero, form: fNone})
	lane(1, p66, 0x7c, x86asm.HADDPD)
	lane(1, pF2, 0x7c, x86asm.HADDPS)
	lane(1, p66, 0x7d, x86asm.HSUBPD)
	lane(1, pF2, 0x7d, x86asm.HSUBPS)
	add(1, p66, 0x7e, vexEnt{class: vxMovDSt, form: fMR, l: l0, w: wSize, msz: mW, gpr: gRM})
	add(1, pF3, 0x7e, vexEnt{class: vxMovQ, form: fRM, l: l0, msz: m8})
	add(1, p66, 0x7f, vexEnt{class: vxMovA, form: fMR})
	add(1, pF3, 0x7f, vexEnt{class: vxMovU, form: fMR})
	grp(1, pNone, 0xae, 2, vexEnt{class: vxToGPR, leg: x86asm.LDMXCSR, form: fMR, l: l0, msz: m4})
	grp(1, pNone, 0xae, 3, vexEnt{class: vxToGPR, leg: x86asm.STMXCSR, form: fMR, l: l0, msz: m4})
	add(1, pNone, 0xc2, vexEnt{class: vxCmp, leg: x86asm.CMPPS, form: fRVM, imm: true})
	add(1, p66, 0xc2, vexEnt{class: vxCmp, leg: x86asm.CMPPD, form: fRVM, imm: true})
	add(1, pF3, 0xc2, vexEnt{class: vxCmp, leg: x86asm.CMPSS, form: fRVM, l: lIG, msz: m4, imm: true})
	add(1, pF2, 0xc2, vexEnt{class: vxCmp, leg: x86asm.CMPSD_XMM, form: fRVM, l: lIG, msz: m8, imm: true})
	add(1, p66, 0xc4, vexEnt{class: vxFromGPR, leg: x86asm.PINSRW, form: fRVM, l: l0, msz: m2, gpr: gRM, imm: true})
	add(1, p66, 0xc5, vexEnt{class: vxToGPR, leg: x86asm.PEXTRW, form: fRM, l: l0, msz: mNoMem, gpr: gReg, imm: true})
	laneImm(1, pNone, 0xc6, x86asm.SHUFPS, lAny)
	laneImm(1, p66, 0xc6, x86asm.SHUFPD, lAny)
	lane(1, p66, 0xd0, x86asm.ADDSUBPD)
	lane(1, pF2, 0xd0, x86asm.ADDSUBPS)
	for opc, op := range map[uint8]x86asm.Op{0xd1: x86asm.PSRLW, 0xd2: x86asm.PSRLD, 0xd3: x86asm.PSRLQ,
		0xe1: x86asm.PSRAW, 0xe2: x86asm.PSRAD, 0xf1: x86asm.PSLLW, 0xf2: x86asm.PSLLD, 0xf3: x86asm.PSLLQ} {
		add(1, p66, opc, vexEnt{class: vxShiftX, leg: op, form: fRVM, msz: mX})
	}
	for opc, op := range map[uint8]x86asm.Op{0xd4: x86asm.PADDQ, 0xd5: x86asm.PMULLW, 0xd8: x86asm.PSUBUSB,
		0xd9: x86asm.PSUBUSW, 0xda: x86asm.PMINUB, 0xdb: x86asm.PAND, 0xdc: x86asm.PADDUSB, 0xdd: x86asm.PADDUSW,
		0xde: x86asm.PMAXUB, 0xdf: x86asm.PANDN, 0xe0: x86asm.PAVGB, 0xe3: x86asm.PAVGW, 0xe4: x86asm.PMULHUW,
		0xe5: x86asm.PMULHW, 0xe8: x86asm.PSUBSB, 0xe9: x86asm.PSUBSW, 0xea: x86asm.PMINSW, 0xeb: x86asm.POR,
		0xec: x86asm.PADDSB, 0xed: x86asm.PADDSW, 0xee: x86asm.PMAXSW, 0xef: x86asm.PXOR, 0xf4: x86asm.PMULUDQ,
		0xf5: x86asm.PMADDWD, 0xf6: x86asm.PSADBW, 0xf8: x86asm.PSUBB, 0xf9: x86asm.PSUBW, 0xfa: x86asm.PSUBD,
		0xfb: x86asm.PSUBQ, 0xfc: x86asm.PADDB, 0xfd: x86asm.PADDW, 0xfe: x86asm.PADDD} {
		lane(1, p66, opc, op)
	}
	add(1, p66, 0xd6, vexEnt{class: vxMovQSt, form: fMR, l: l0, msz: m8})
	add(1, p66, 0xd7, vexEnt{class: vxMovmsk, leg: x86asm.PMOVMSKB, form: fRM, msz: mNoMem, gpr: gReg})
	add(1, p66, 0xe6, vexEnt{class: vxNarrow, leg: x86asm.CVTTPD2DQ, form: fRM})
	add(1, pF2, 0xe6, vexEnt{class: vxNarrow, leg: x86asm.CVTPD2DQ, form: fRM})
	add(1, pF3, 0xe6, vexEnt{class: vxWiden, leg: x86asm.CVTDQ2PD, form: fRM, msz: mH})
	add(1, p66, 0xe7, vexEnt{class: vxMovA, form: fMR, msz: mMemOnly})
	add(1, pF2, 0xf0, vexEnt{class: vxMovU, form: fRM, msz: mMemOnly})

	// Map 0F38.
	for opc, op := range map[uint8]x86asm.Op{0x00: x86asm.PSHUFB, 0x01: x86asm.PHADDW, 0x02: x86asm.PHADDD,
		0x03: x86asm.PHADDSW, 0x04: x86asm.PMADDUBSW, 0x05: x86asm.PHSUBW, 0x06: x86asm.PHSUBD, 0x07: x86asm.PHSUBSW,
		0x08: x86asm.PSIGNB, 0x09: x86asm.PSIGNW, 0x0a: x86asm.PSIGND, 0x0b: x86asm.PMULHRSW, 0x28: x86asm.PMULDQ,
		0x29: x86asm.PCMPEQQ, 0x2b: x86asm.PACKUSDW, 0x37: x86asm.PCMPGTQ, 0x38: x86asm.PMINSB, 0x39: x86asm.PMINSD,
		0x3a: x86asm.PMINUW, 0x3b: x86asm.PMINUD, 0x3c: x86asm.PMAXSB, 0x3d: x86asm.PMAXSD, 0x3e: x86asm.PMAXUW,
		0x3f: x86asm.PMAXUD, 0x40: x86asm.PMULLD} {
		lane(2, p66, opc, op)
	}
	add(2, p66, 0x0c, vexEnt{class: vxPermilV, leg: 4, form: fRVM, w: w0})
	add(2, p66, 0x0d, vexEnt{class: vxPermilV, leg: 8, form: fRVM, w: w0})
	add(2, p66, 0x16, vexEnt{class: vxPermD, form: fRVM, l: l1, w: w0})
	add(2, p66, 0x17, vexEnt{class: vxPtest, form: fRM})
	add(2, p66, 0x18, vexEnt{class: vxBcast, leg: 4, form: fRM, w: w0, msz: m4})
	add(2, p66, 0x19, vexEnt{class: vxBcast, leg: 8, form: fRM, l: l1, w: w0, msz: m8})
	add(2, p66, 0x1a, vexEnt{class: vxBcast, leg: 16, form: fRM, l: l1, w: w0, msz: mMemOnly})
	unary(2, p66, 0x1c, x86asm.PABSB)
	unary(2, p66, 0x1d, x86asm.PABSW)
	unary(2, p66, 0x1e, x86asm.PABSD)
	for i, op := range []x86asm.Op{x86asm.PMOVSXBW, x86asm.PMOVSXBD, x86asm.PMOVSXBQ, x86asm.PMOVSXWD, x86asm.PMOVSXWQ, x86asm.PMOVSXDQ} {
		add(2, p66, 0x20+uint8(i), vexEnt{class: vxWiden, leg: op, form: fRM, msz: []uint8{mH, mQ, mE, mH, mQ, mH}[i]})
	}
	for i, op := range []x86asm.Op{x86asm.PMOVZXBW, x86asm.PMOVZXBD, x86asm.PMOVZXBQ, x86asm.PMOVZXWD, x86asm.PMOVZXWQ, x86asm.PMOVZXDQ} {
		add(2, p66, 0x30+uint8(i), vexEnt{class: vxWiden, leg: op, form: fRM, msz: []uint8{mH, mQ, mE, mH, mQ, mH}[i]})
	}
	add(2, p66, 0x2a, vexEnt{class: vxMovA, form: fRM, msz: mMemOnly})
	add(2, p66, 0x36, vexEnt{class: vxPermD, form: fRVM, l: l1, w: w0})
	add(2, p66, 0x41, vexEnt{class: vxLane, leg: x86asm.PHMINPOSUW, form: fRM, l: l0})
	add(2, p66, 0x45, vexEnt{class: vxShiftV, leg: x86asm.PSRLD, form: fRVM, w: wSize})
	add(2, p66, 0x46, vexEnt{class: vxShiftV, leg: x86asm.PSRAD, form: fRVM, w: w0})
	add(2, p66, 0x47, vexEnt{class: vxShiftV, leg: x86asm.PSLLD, form: fRVM, w: wSize})
	add(2, p66, 0x58, vexEnt{class: vxBcast, leg: 4, form: fRM, w: w0, msz: m4})
	add(2, p66, 0x59, vexEnt{class: vxBcast, leg: 8, form: fRM, w: w0, msz: m8})
	add(2, p66, 0x5a, vexEnt{class: vxBcast, leg: 16, form: fRM, l: l1, w: w0, msz: mMemOnly})
	add(2, p66, 0x78, vexEnt{class: vxBcast, leg: 1, form: fRM, w: w0, msz: m1})
	add(2, p66, 0x79, vexEnt{class: vxBcast, leg: 2, form: fRM, w: w0, msz: m2})
	// BMI1, BMI2.
	add(2, pNone, 0xf2, vexEnt{class: vxAndn, form: fRVM, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	grp(2, pNone, 0xf3, 1, vexEnt{class: vxBlsr, form: fVM, l: l0, w: wSize, msz: mW, gpr: gRM | gV})
	grp(2, pNone, 0xf3, 2, vexEnt{class: vxBlsmsk, form: fVM, l: l0, w: wSize, msz: mW, gpr: gRM | gV})
	grp(2, pNone, 0xf3, 3, vexEnt{class: vxBlsi, form: fVM, l: l0, w: wSize, msz: mW, gpr: gRM | gV})
	add(2, pNone, 0xf5, vexEnt{class: vxBzhi, form: fRMV, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, pF3, 0xf5, vexEnt{class: vxPext, form: fRVM, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, pF2, 0xf5, vexEnt{class: vxPdep, form: fRVM, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, pF2, 0xf6, vexEnt{class: vxMulx, form: fRVM, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, pNone, 0xf7, vexEnt{class: vxBextr, form: fRMV, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, p66, 0xf7, vexEnt{class: vxShlx, form: fRMV, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, pF3, 0xf7, vexEnt{class: vxSarx, form: fRMV, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})
	add(2, pF2, 0xf7, vexEnt{class: vxShrx, form: fRMV, l: l0, w: wSize, msz: mW, gpr: gReg | gRM | gV})

	// Map 0F3A.
	add(3, p66, 0x00, vexEnt{class: vxPermQ, form: fRM, l: l1, w: w1, imm: true})
	add(3, p66, 0x01, vexEnt{class: vxPermQ, form: fRM, l: l1, w: w1, imm: true})
	add(3, p66, 0x02, vexEnt{class: vxBlendD, form: fRVM, w: w0, imm: true})
	add(3, p66, 0x04, vexEnt{class: vxPermilI, leg: 4, form: fRM, w: w0, imm: true})
	add(3, p66, 0x05, vexEnt{class: vxPermilI, leg: 8, form: fRM, w: w0, imm: true})
	add(3, p66, 0x06, vexEnt{class: vxPerm2, form: fRVM, l: l1, w: w0, imm: true})
	add(3, p66, 0x08, vexEnt{class: vxLane, leg: x86asm.ROUNDPS, form: fRM, imm: true})
	add(3, p66, 0x09, vexEnt{class: vxLane, leg: x86asm.ROUNDPD, form: fRM, imm: true})
	add(3, p66, 0x0a, vexEnt{class: vxScalar, leg: x86asm.ROUNDSS, form: fRVM, l: lIG, msz: m4, imm: true})
	add(3, p66, 0x0b, vexEnt{class: vxScalar, leg: x86asm.ROUNDSD, form: fRVM, l: lIG, msz: m8, imm: true})
	laneImm(3, p66, 0x0c, x86asm.BLENDPS, lAny)
	laneImm(3, p66, 0x0d, x86asm.BLENDPD, lAny)
	laneImm(3, p66, 0x0e, x86asm.PBLENDW, lAny)
	laneImm(3, p66, 0x0f, x86asm.PALIGNR, lAny)
	add(3, p66, 0x14, vexEnt{class: vxToGPR, leg: x86asm.PEXTRB, form: fMR, l: l0, msz: m1, gpr: gRM, imm: true})
	add(3, p66, 0x15, vexEnt{class: vxToGPR, leg: x86asm.PEXTRW, form: fMR, l: l0, msz: m2, gpr: gRM, imm: true})
	add(3, p66, 0x16, vexEnt{class: vxToGPR, leg: x86asm.PEXTRD, form: fMR, l: l0, w: wSize, msz: mW, gpr: gRM, imm: true})
	add(3, p66, 0x17, vexEnt{class: vxToGPR, leg: x86asm.EXTRACTPS, form: fMR, l: l0, msz: m4, gpr: gRM, imm: true})
	add(3, p66, 0x18, vexEnt{class: vxIns128, form: fRVM, l: l1, w: w0, msz: mX, imm: true})
	add(3, p66, 0x19, vexEnt{class: vxExt128, form: fMR, l: l1, w: w0, msz: mX, imm: true})
	add(3, p66, 0x20, vexEnt{class: vxFromGPR, leg: x86asm.PINSRB, form: fRVM, l: l0, msz: m1, gpr: gRM, imm: true})
	add(3, p66, 0x21, vexEnt{class: vxInsPS, leg: x86asm.INSERTPS, form: fRVM, l: l0, msz: m4, imm: true})
	add(3, p66, 0x22, vexEnt{class: vxFromGPR, leg: x86asm.PINSRD, form: fRVM, l: l0, w: wSize, msz: mW, gpr: gRM, imm: true})
	add(3, p66, 0x38, vexEnt{class: vxIns128, form: fRVM, l: l1, w: w0, msz: mX, imm: true})
	add(3, p66, 0x39, vexEnt{class: vxExt128, form: fMR, l: l1, w: w0, msz: mX, imm: true})
	laneImm(3, p66, 0x40, x86asm.DPPS, lAny)
	laneImm(3, p66, 0x41, x86asm.DPPD, l0)
	laneImm(3, p66, 0x42, x86asm.MPSADBW, lAny)
	add(3, p66, 0x46, vexEnt{class: vxPerm2, form: fRVM, l: l1, w: w0, imm: true})
	add(3, p66, 0x4a, vexEnt{class: vxBlendV, leg: 4, form: fRVMR, w: w0, imm: true})
	add(3, p66, 0x4b, vexEnt{class: vxBlendV, leg: 8, form: fRVMR, w: w0, imm: true})
	add(3, p66, 0x4c, vexEnt{class: vxBlendV, leg: 1, form: fRVMR, w: w0, imm: true})
	add(3, p66, 0x60, vexEnt{class: vxStr, leg: x86asm.PCMPESTRM, form: fRM, l: l0, w: wSize, imm: true})
	add(3, p66, 0x61, vexEnt{class: vxStr, leg: x86asm.PCMPESTRI, form: fRM, l: l0, w: wSize, imm: true})
	add(3, p66, 0x62, vexEnt{class: vxStr, leg: x86asm.PCMPISTRM, form: fRM, l: l0, imm: true})
	add(3, p66, 0x63, vexEnt{class: vxStr, leg: x86asm.PCMPISTRI, form: fRM, l: l0, imm: true})
	add(3, pF2, 0xf0, vexEnt{class: vxRorx, form: fRM, l: l0, w: wSize, msz: mW, gpr: gReg | gRM, imm: true})
}

// vexRIPRel in dinst.rep marks a RIP-relative memory operand: disp is
// relative to the end of the instruction.
const vexRIPRel = 1

// decodeVEX decodes a VEX-encoded instruction; b starts at its prefixes,
// p describes them.
func decodeVEX(b []byte, p prefixes, d *dinst) decodeErr {
	// VEX after 66, F2, F3, REX or LOCK is #UD (SDM 2.3.2).
	for _, x := range b[:p.n] {
		if x == 0x66 || x == 0xf2 || x == 0xf3 || x == 0xf0 || x&0xf0 == 0x40 {
			return decUD
		}
	}
	i := p.n
	need := func(n int) decodeErr {
		if len(b) >= 15 {
			return decUD
		}
		_ = n
		return decTruncated
	}
	if i+2 > len(b) {
		return need(2)
	}
	var rR, rX, rB, w, l, pp, vvvv, mp uint8
	if b[i] == 0xc5 {
		x := b[i+1]
		rR, vvvv, l, pp, mp = ^x>>7&1, ^x>>3&15, x>>2&1, x&3, 1
		i += 2
	} else {
		if i+3 > len(b) {
			return need(3)
		}
		x, y := b[i+1], b[i+2]
		rR, rX, rB, mp = ^x>>7&1, ^x>>6&1, ^x>>5&1, x&31
		w, vvvv, l, pp = y>>7, ^y>>3&15, y>>2&1, y&3
		i += 3
	}
	if i >= len(b) {
		return need(1)
	}
	if mp < 1 || mp > 3 {
		return decUD
	}
	opc := b[i]
	i++
	var modrm uint8
	hasModRM := !(mp == 1 && opc == 0x77)
	if hasModRM {
		if i >= len(b) {
			return need(1)
		}
		modrm = b[i]
	}
	key := vexKey(mp, pp, opc, 0)
	if vexGroup(mp, pp, opc) {
		key = vexKey(mp, pp, opc, 8+modrm>>3&7)
	}
	e, ok := vexTable[key]
	if !ok {
		return decUD
	}
	switch e.l {
	case l0:
		if l != 0 {
			return decUD
		}
	case l1:
		if l != 1 {
			return decUD
		}
	case lIG:
		l = 0
	}
	switch e.w {
	case w0:
		if w != 0 {
			return decUD
		}
	case w1:
		if w != 1 {
			return decUD
		}
	}
	usesV := e.form == fRVM || e.form == fVM || e.form == fRMV || e.form == fRVMR
	if e.class == vxMovS {
		usesV = modrm>>6 == 3 // vmovss/vmovsd merge only register to register
	}
	if !usesV && vvvv != 0 {
		return decUD
	}
	d.op = opVEXFirst + e.class
	d.imm2 = uint64(e.leg)
	d.sub = l
	d.cc = w
	d.osz = 4
	if w == 1 && e.w == wSize {
		d.osz = 8
	}
	if !hasModRM {
		if i > 15 {
			return decUD
		}
		d.len = uint8(i)
		return decOK
	}
	i++ // ModRM
	mod, reg, rm := modrm>>6, modrm>>3&7|rR<<3, modrm&7
	vsize := uint8(16) << l
	var rmArg arg
	if mod == 3 {
		rmArg = arg{akXMM, rm | rB<<3, vsize}
		if e.gpr&gRM != 0 {
			rmArg = arg{akReg, rm | rB<<3, d.osz}
		}
		if e.msz == mMemOnly {
			return decUD
		}
	} else {
		if e.msz == mNoMem {
			return decUD
		}
		d.base, d.index = -1, -1
		dispSize := 0
		switch {
		case rm == 4:
			if i >= len(b) {
				return need(1)
			}
			sib := b[i]
			i++
			d.scale = sib >> 6
			if idx := sib>>3&7 | rX<<3; idx != 4 {
				d.index = int8(idx)
			}
			if sib&7 == 5 && mod == 0 {
				dispSize = 4
			} else {
				d.base = int8(sib&7 | rB<<3)
			}
		case rm == 5 && mod == 0:
			dispSize = 4
			d.rep = vexRIPRel
		default:
			d.base = int8(rm | rB<<3)
		}
		switch mod {
		case 1:
			dispSize = 1
		case 2:
			dispSize = 4
		}
		if i+dispSize > len(b) {
			return need(dispSize)
		}
		switch dispSize {
		case 1:
			d.disp = int64(int8(b[i]))
		case 4:
			d.disp = int64(int32(le.Uint32(b[i:])))
		}
		i += dispSize
		var sz uint8
		switch e.msz {
		case mV, mMemOnly:
			sz = vsize
		case mX:
			sz = 16
		case mH:
			sz = vsize / 2
		case mQ:
			sz = vsize / 4
		case mE:
			sz = vsize / 8
		case m1:
			sz = 1
		case m2:
			sz = 2
		case m4:
			sz = 4
		case m8:
			sz = 8
		case mW:
			sz = d.osz
		}
		rmArg = arg{akMem, 0, sz}
	}
	regArg := arg{akXMM, reg, vsize}
	if e.gpr&gReg != 0 {
		regArg = arg{akReg, reg, d.osz}
	}
	vArg := arg{akXMM, vvvv, vsize}
	if e.gpr&gV != 0 {
		vArg = arg{akReg, vvvv, d.osz}
	}
	switch e.form {
	case fRVM:
		d.args[0], d.args[1], d.args[2] = regArg, vArg, rmArg
		d.narg = 3
	case fRM:
		d.args[0], d.args[1] = regArg, rmArg
		d.narg = 2
	case fMR:
		d.args[0], d.args[1] = rmArg, regArg
		d.narg = 2
		if usesV { // vmovss/vmovsd xmm1, xmm2, xmm3 (MVR)
			d.args[1], d.args[2] = vArg, regArg
			d.narg = 3
		}
	case fVM:
		d.args[0], d.args[1] = vArg, rmArg
		d.narg = 2
	case fRMV:
		d.args[0], d.args[1], d.args[2] = regArg, rmArg, vArg
		d.narg = 3
	case fRVMR:
		d.args[0], d.args[1], d.args[2] = regArg, vArg, rmArg
		d.narg = 4
	}
	if e.imm {
		if i >= len(b) {
			return need(1)
		}
		d.imm = uint64(b[i])
		i++
		if e.form == fRVMR {
			d.args[3] = arg{akXMM, uint8(d.imm >> 4), vsize}
		} else {
			d.args[d.narg] = arg{akImm, 0, 1}
			d.narg++
		}
	}
	if i > 15 {
		return decUD
	}
	d.len = uint8(i)
	return decOK
}
