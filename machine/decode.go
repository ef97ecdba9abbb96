package machine

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"
)

// Operand kinds of a decoded instruction.
const (
	akNone uint8 = iota
	akReg        // general register Regs[reg], size bytes
	akRegH       // AH, CH, DH, BH: bits 8-15 of Regs[reg]
	akMem        // the instruction's memory operand, size bytes
	akImm        // the instruction's immediate (imm), size bytes
	akXMM        // xmm[reg]
	akST         // x87 ST(reg)
	akSeg        // segment register (reg: 0 ES .. 5 GS)
	akMMX        // MMX register MM(reg): the mantissa of x87 physical register reg
)

type arg struct {
	kind, reg, size uint8
}

// dinst is a decoded instruction: what the executor needs, with no
// interfaces or pointers. The op is an x86asm.Op value, or one of the op*
// extras below for forms x86asm does not know. In a block (fastblock.go)
// the copy of an instruction may carry a block-local kind: its flags
// elided (dead) or fused with the jump that follows it.
type dinst struct {
	kind  uint8 // fast-path class (k* constants), kSlow for the general executor
	sub   uint8 // ALU operation of the kAlu* kinds
	op    uint16
	len   uint8
	osz   uint8 // operand size in bytes from prefixes (2, 4 or 8)
	cc    uint8 // condition code of Jcc/SETcc/CMOVcc, and of the jump a fused kind ends with
	rep   uint8 // 0, 0xf3 or 0xf2 (last one wins)
	narg  uint8
	seg   uint8 // 0 none, 1 FS, 2 GS
	base  int8  // -1 none
	index int8  // -1 none
	scale uint8 // shift count 0..3
	a32   bool  // 32-bit address size
	sh    uint8 // fast kinds: 64 - 8*operand size (0 or 32); kVEX: the fast operation (vf*)
	x87   uint16
	args  [4]arg
	disp  int64 // displacement; for RIP-relative, the absolute address
	imm   uint64
	imm2  uint64 // second immediate; the jump target of a fused kind
	pc    uint64 // the instruction's address
}

// Extra ops beyond x86asm's table.
const (
	opENDBR   = 0x7f00 + iota // endbr64/endbr32: a nop
	opRDSEED                  // rdseed r
	opHINTNOP                 // 0F 18-1F reserved hint nops
)

const opRDTSCP = uint16(x86asm.RDTSCP)

// Fast-path kinds: the hottest instruction forms, executed inline by Run.
// Kinds marked "4/8" take 32- and 64-bit operands: sh is 64 - 8*size and
// a 32-bit result is zero-extended.
const (
	kSlow    uint8 = iota
	kMovRR         // 4/8
	kMovRI         // 4/8, imm zero-extended at decode
	kMovRM64       // mov r64, m64
	kMovRM32       // mov r32, m32
	kMovMR64       // mov m64, r64
	kMovMR32       // mov m32, r32
	kMovMI         // any size
	kAluRR         // adc, sbb r, r; any ALU operation on 8- or 16-bit registers
	kAluRI         // the same with an immediate
	kAluRM         // 1/2/4/8
	kAluMR         // 1/2/4/8
	kAluMI         // 1/2/4/8
	kMovRMs        // mov r8/r16, m: the low bits of the register are replaced
	kMovMRs        // mov m8/m16, r8/r16
	kIncDecM       // inc (sub 0), dec (sub 1) m: incDecMem, else the general executor
	kJmpI          // jmp r64/m64
	kCallI         // call r64/m64
	kJcc
	kJmp
	kCall
	kRet
	kIncR
	kDecR
	kLea // 4/8
	kPushR
	kPopR
	kMovzxRM
	kNop
	kShiftRI // shl/shr/sar r, imm whose masked count is 0
	kShiftRC
	kRotR
	kMovxRR
	kCmovRR
	kSetccR
	kImulRR
	kImulRRI
	kMulR
	kSSE  // an SSE2 form with a fast path (fastsse.go), else the general executor
	kDivR // div r32/r64

	// Two-operand ALU forms with their flags (4/8).
	kAddRR
	kAddRI
	kSubRR
	kSubRI
	kAndRR
	kAndRI
	kOrRR
	kOrRI
	kXorRR
	kXorRI
	kCmpRR
	kCmpRI
	kTestRR
	kTestRI
	kShlRI // count (masked, non-zero) in imm
	kShrRI
	kSarRI

	// Block-local kinds (fastblock.go), never in the page's instruction
	// cache: the same operation with its flags dead (no flag update), ...
	kAddRRn // also 4/8 from here on
	kAddRIn // also sub, inc, dec r, imm with the immediate negated or 1/-1
	kSubRRn
	kAndRRn
	kAndRIn
	kOrRRn
	kOrRIn
	kXorRRn
	kXorRIn
	kShlRIn
	kShrRIn
	kSarRIn
	kRotRn
	kImulRRn
	kImulRRIn
	// ... or fused with the jcc that follows and ends the block: the
	// operation with its flags, then the jump (cc, target in imm2).
	kCmpRRJ
	kCmpRIJ
	kSubRRJ
	kSubRIJ
	kTestRRJ
	kTestRIJ
	kAndRRJ
	kAddRIJ
	kIncRJ
	kDecRJ
	kAluRRJ // the kAlu* kinds fused with the jcc that follows
	kAluRIJ
	kAluRMJ
	kAluMRJ
	kAluMIJ
	// ... or a mov r, r fused with the flag-dead operation on its
	// destination that follows it (movOpKind): Run executes both at once
	// and skips the second.
	kMovOpn

	// More plain kinds (run.go, fastint.go).
	kNotR    // not r (4/8)
	kNegR    // neg r (4/8)
	kBitScan // bsf, bsr, tzcnt, lzcnt, popcnt r, r/m (4/8): bitScan
	kBtR     // bt, bts, btr, btc r, r/imm (2/4/8; sub 0-3)
	kCdq     // cdqe (sub 0), cqo (1), cdq (2), cwde (3)
	kShiftRs // shl/shr/sar (sub 0-2) r8/r16, imm: the count, masked, in imm, 1 to width-1
	kCmovRM  // cmovcc r, m (4/8): the memory is read whatever the condition
	kVEX     // a VEX form with a fast path (fastvex.go), else the general executor
)

// ALU operations of the kAlu* kinds.
const (
	aluAdd uint8 = iota
	aluOr
	aluAdc
	aluSbb
	aluAnd
	aluSub
	aluXor
	aluCmp
	aluTest
)

// aluKinds maps the ALU operations to their register-register kinds (the
// register-immediate kind follows each); adc and sbb have none.
var aluKinds = [...]uint8{aluAdd: kAddRR, aluOr: kOrRR, aluAnd: kAndRR, aluSub: kSubRR, aluXor: kXorRR,
	aluCmp: kCmpRR, aluTest: kTestRR}

// classify picks the fast-path kind of a decoded instruction.
func classify(d *dinst) {
	a0, a1 := d.args[0], d.args[1]
	reg := func(a arg) bool { return a.kind == akReg && (a.size == 8 || a.size == 4) }
	small := func(a arg) bool { return a.kind == akReg && (a.size == 1 || a.size == 2) } // not AH..BH
	simpleMem := !d.a32                                                                  // eaFast adds an FS or GS base
	mem := func(a arg) bool { return a.kind == akMem && (a.size == 8 || a.size == 4) && simpleMem }
	anyMem := func(a arg) bool { return a.kind == akMem && a.size <= 8 && a.size != 0 && simpleMem }
	imm := func(a arg) bool { return a.kind == akImm }
	if reg(a0) {
		d.sh = 64 - 8*a0.size
	}
	switch x86asm.Op(d.op) {
	case x86asm.MOV:
		switch {
		case d.narg != 2:
		case reg(a0) && reg(a1):
			d.kind = kMovRR
		case reg(a0) && imm(a1):
			d.kind = kMovRI
			d.imm &= sizeMask[a0.size]
		case reg(a0) && mem(a1) && a0.size == a1.size:
			d.kind = kMovRM32
			if a0.size == 8 {
				d.kind = kMovRM64
			}
		case mem(a0) && reg(a1) && a0.size == a1.size:
			d.kind = kMovMR32
			if a0.size == 8 {
				d.kind = kMovMR64
			}
		case anyMem(a0) && imm(a1):
			d.kind = kMovMI
		case small(a0) && anyMem(a1) && a0.size == a1.size:
			d.kind = kMovRMs
		case anyMem(a0) && small(a1) && a0.size == a1.size:
			d.kind = kMovMRs
		}
	case x86asm.ADD, x86asm.OR, x86asm.ADC, x86asm.SBB, x86asm.AND, x86asm.SUB, x86asm.XOR, x86asm.CMP, x86asm.TEST:
		switch x86asm.Op(d.op) {
		case x86asm.ADD:
			d.sub = aluAdd
		case x86asm.OR:
			d.sub = aluOr
		case x86asm.ADC:
			d.sub = aluAdc
		case x86asm.SBB:
			d.sub = aluSbb
		case x86asm.AND:
			d.sub = aluAnd
		case x86asm.SUB:
			d.sub = aluSub
		case x86asm.XOR:
			d.sub = aluXor
		case x86asm.CMP:
			d.sub = aluCmp
		case x86asm.TEST:
			d.sub = aluTest
		}
		fast := d.sub != aluAdc && d.sub != aluSbb
		switch {
		case d.narg != 2:
		case reg(a0) && reg(a1) && a0.size == a1.size:
			d.kind = kAluRR
			if fast {
				d.kind = aluKinds[d.sub]
			}
		case reg(a0) && imm(a1):
			d.kind = kAluRI
			if fast {
				d.kind = aluKinds[d.sub] + 1
			}
		case small(a0) && small(a1) && a0.size == a1.size:
			d.kind = kAluRR
		case small(a0) && imm(a1):
			d.kind = kAluRI
		case (reg(a0) || small(a0)) && anyMem(a1) && a0.size == a1.size:
			d.kind = kAluRM
		case anyMem(a0) && (reg(a1) || small(a1)) && a0.size == a1.size:
			d.kind = kAluMR
		case anyMem(a0) && imm(a1):
			d.kind = kAluMI
		}
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE, x86asm.JL,
		x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JS:
		d.kind = kJcc
	case x86asm.JMP:
		if imm(a0) {
			d.kind = kJmp
		} else if a0.size == 8 && (a0.kind == akReg || anyMem(a0)) {
			d.kind = kJmpI
		}
	case x86asm.CALL:
		if imm(a0) {
			d.kind = kCall
		} else if a0.size == 8 && (a0.kind == akReg || anyMem(a0)) {
			d.kind = kCallI
		}
	case x86asm.RET:
		if d.narg == 0 && d.osz != 2 {
			d.kind = kRet
		}
	case x86asm.INC:
		if reg(a0) {
			d.kind = kIncR
		} else if anyMem(a0) {
			d.kind = kIncDecM
		}
	case x86asm.DEC:
		if reg(a0) {
			d.kind = kDecR
		} else if anyMem(a0) {
			d.kind, d.sub = kIncDecM, 1
		}
	case x86asm.NOT, x86asm.NEG:
		if d.narg == 1 && reg(a0) {
			d.kind = kNotR
			if x86asm.Op(d.op) == x86asm.NEG {
				d.kind = kNegR
			}
		}
	case x86asm.BSF, x86asm.BSR, x86asm.TZCNT, x86asm.LZCNT, x86asm.POPCNT:
		if d.narg == 2 && reg(a0) && a1.size == a0.size && (a1.kind == akReg || a1.kind == akMem && simpleMem) {
			d.kind = kBitScan
		}
	case x86asm.BT, x86asm.BTS, x86asm.BTR, x86asm.BTC:
		if d.narg == 2 && (reg(a0) || a0.kind == akReg && a0.size == 2) && (imm(a1) || a1.kind == akReg && a1.size == a0.size) {
			d.kind = kBtR
			switch x86asm.Op(d.op) {
			case x86asm.BTS:
				d.sub = 1
			case x86asm.BTR:
				d.sub = 2
			case x86asm.BTC:
				d.sub = 3
			}
		}
	case x86asm.CDQE, x86asm.CQO, x86asm.CDQ, x86asm.CWDE:
		d.kind = kCdq
		switch x86asm.Op(d.op) {
		case x86asm.CQO:
			d.sub = 1
		case x86asm.CDQ:
			d.sub = 2
		case x86asm.CWDE:
			d.sub = 3
		}
	case x86asm.PREFETCHNTA, x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW, x86asm.PAUSE:
		d.kind = kNop
	case x86asm.LEA:
		if reg(a0) && !d.a32 {
			d.kind = kLea
		}
	case x86asm.PUSH:
		if a0.kind == akReg && a0.size == 8 {
			d.kind = kPushR
		}
	case x86asm.POP:
		if a0.kind == akReg && a0.size == 8 && a0.reg != RSP {
			d.kind = kPopR
		}
	case x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		if x86asm.Op(d.op) != x86asm.MOVZX {
			d.sub = 1
		}
		switch {
		case reg(a0) && a1.kind == akMem && (a1.size == 1 || a1.size == 2 || a1.size == 4 && d.sub == 1) && simpleMem:
			d.kind = kMovzxRM
		case reg(a0) && a1.kind == akReg && a1.size < a0.size:
			d.kind = kMovxRR
		}
	case x86asm.CMOVA, x86asm.CMOVAE, x86asm.CMOVB, x86asm.CMOVBE, x86asm.CMOVE, x86asm.CMOVG, x86asm.CMOVGE, x86asm.CMOVL,
		x86asm.CMOVLE, x86asm.CMOVNE, x86asm.CMOVNO, x86asm.CMOVNP, x86asm.CMOVNS, x86asm.CMOVO, x86asm.CMOVP, x86asm.CMOVS:
		if reg(a0) && reg(a1) {
			d.kind = kCmovRR
		} else if reg(a0) && mem(a1) && a0.size == a1.size {
			d.kind = kCmovRM
		}
	case x86asm.SETA, x86asm.SETAE, x86asm.SETB, x86asm.SETBE, x86asm.SETE, x86asm.SETG, x86asm.SETGE, x86asm.SETL,
		x86asm.SETLE, x86asm.SETNE, x86asm.SETNO, x86asm.SETNP, x86asm.SETNS, x86asm.SETO, x86asm.SETP, x86asm.SETS:
		if a0.kind == akReg && a0.size == 1 {
			d.kind = kSetccR
		}
	case x86asm.NOP:
		d.kind = kNop
	case x86asm.SHL, x86asm.SHR, x86asm.SAR:
		if d.narg == 2 && reg(a0) && (imm(a1) || a1.kind == akReg && a1.reg == RCX && a1.size == 1) {
			d.kind = kShiftRI
			if !imm(a1) {
				d.kind = kShiftRC
			}
			switch x86asm.Op(d.op) {
			case x86asm.SHL:
				d.sub = 0
			case x86asm.SHR:
				d.sub = 1
			default:
				d.sub = 2
			}
			if cnt := d.imm & (uint64(a0.size)*8 - 1); d.kind == kShiftRI && cnt != 0 {
				d.kind = kShlRI + d.sub
				d.imm = cnt
			}
		} else if d.narg == 2 && small(a0) && imm(a1) {
			if cnt := d.imm & 31; cnt != 0 && cnt < uint64(a0.size)*8 {
				d.kind = kShiftRs
				d.imm = cnt
				switch x86asm.Op(d.op) {
				case x86asm.SHR:
					d.sub = 1
				case x86asm.SAR:
					d.sub = 2
				}
			}
		}
	case x86asm.ROL, x86asm.ROR:
		if d.narg == 2 && reg(a0) && (imm(a1) || a1.kind == akReg && a1.reg == RCX && a1.size == 1) {
			d.kind = kRotR
			if x86asm.Op(d.op) == x86asm.ROR {
				d.sub = 1
			}
			if !imm(a1) {
				d.sub |= 2
			}
		}
	case x86asm.IMUL:
		switch {
		case d.narg == 2 && reg(a0) && reg(a1) && a0.size == a1.size:
			d.kind = kImulRR
		case d.narg == 3 && reg(a0) && reg(a1) && a0.size == a1.size && imm(d.args[2]):
			d.kind = kImulRRI
		}
	case x86asm.MUL:
		if d.narg == 1 && a0.kind == akReg && a0.size == 8 {
			d.kind = kMulR
		}
	case x86asm.DIV:
		if d.narg == 1 && reg(a0) {
			d.kind = kDivR
		}
	default:
		classifySSE(d)
	}
	if d.op == opENDBR || d.op == opHINTNOP {
		d.kind = kNop
	}
}

// codePage caches decoded instructions of one page by offset.
type codePage struct {
	idx    [PageSize]uint16 // 1 + index into insts, 0 not decoded
	insts  []dinst
	bidx   [PageSize]uint16 // 1 + index into blocks of the block starting there, 0 none
	blocks []*block
}

func gpr(r x86asm.Reg) (a arg, ok bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.BL:
		return arg{akReg, uint8(r - x86asm.AL), 1}, true
	case r >= x86asm.AH && r <= x86asm.BH:
		return arg{akRegH, uint8(r - x86asm.AH), 1}, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return arg{akReg, uint8(r-x86asm.SPB) + 4, 1}, true
	case r >= x86asm.AX && r <= x86asm.R15W:
		return arg{akReg, uint8(r - x86asm.AX), 2}, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return arg{akReg, uint8(r - x86asm.EAX), 4}, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return arg{akReg, uint8(r - x86asm.RAX), 8}, true
	case r >= x86asm.X0 && r <= x86asm.X15:
		return arg{akXMM, uint8(r - x86asm.X0), 16}, true
	case r >= x86asm.M0 && r <= x86asm.M7:
		return arg{akMMX, uint8(r - x86asm.M0), 8}, true
	case r >= x86asm.F0 && r <= x86asm.F7:
		return arg{akST, uint8(r - x86asm.F0), 10}, true
	case r >= x86asm.ES && r <= x86asm.GS:
		return arg{akSeg, uint8(r - x86asm.ES), 2}, true
	}
	return arg{}, false
}

// addrReg maps a base or index register of a memory operand.
func addrReg(r x86asm.Reg) (int8, bool) {
	switch {
	case r == 0:
		return -1, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int8(r - x86asm.EAX), true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int8(r - x86asm.RAX), true
	}
	return -1, false
}

// prefixes is the legacy/REX prefix scan of an instruction.
type prefixes struct {
	n        int // bytes of prefixes (legacy + REX)
	opsize   bool
	addrsize bool
	rep      uint8
	seg      uint8
	rex      uint8
}

func scanPrefixes(b []byte) (p prefixes) {
	for i := 0; i < len(b) && i < 15; i++ {
		switch x := b[i]; x {
		case 0x66:
			p.opsize = true
		case 0x67:
			p.addrsize = true
		case 0xf2, 0xf3:
			p.rep = x
		case 0x64:
			p.seg = 1
		case 0x65:
			p.seg = 2
		case 0x26, 0x2e, 0x36, 0x3e:
			p.seg = 0
		case 0xf0:
		default:
			p.rex = 0
			if x&0xf0 == 0x40 {
				p.rex = x
				if i+1 < len(b) && b[i+1]&0xf0 == 0x40 {
					continue // a REX prefix followed by another is ignored
				}
				p.n = i + 1
				return
			}
			p.n = i
			return
		}
		p.rex = 0
	}
	p.n = len(b)
	return
}

// modrmLen returns the length of a ModRM operand (ModRM, SIB,
// displacement) starting at b, or 0 if b is too short.
func modrmLen(b []byte, addr32 bool) int {
	_ = addr32
	if len(b) < 1 {
		return 0
	}
	mod, rm := b[0]>>6, b[0]&7
	n := 1
	if mod != 3 && rm == 4 {
		if len(b) < 2 {
			return 0
		}
		n++
		if mod == 0 && b[1]&7 == 5 {
			n += 4
		}
	}
	switch mod {
	case 0:
		if rm == 5 {
			n += 4
		}
	case 1:
		n++
	case 2:
		n += 4
	}
	if n > len(b) {
		return 0
	}
	return n
}

// decodeErr classifies a failed decode.
type decodeErr uint8

const (
	decOK decodeErr = iota
	decUD
	decTruncated
)

// decode decodes the instruction in b at guest address addr into d.
func decode(b []byte, addr uint64, d *dinst) decodeErr {
	*d = dinst{base: -1, index: -1, pc: addr}
	p := scanPrefixes(b)
	if p.n >= len(b) {
		if len(b) >= 15 {
			return decUD
		}
		return decTruncated
	}
	d.rep = p.rep
	d.seg = p.seg
	d.a32 = p.addrsize
	switch {
	case p.rex&8 != 0:
		d.osz = 8
	case p.opsize:
		d.osz = 2
	default:
		d.osz = 4
	}
	op := b[p.n:]
	switch op[0] {
	case 0xc4, 0xc5: // VEX (LES/LDS do not exist in 64-bit mode)
		if p.rex == 0 {
			r := decodeVEX(b, p, d)
			if r == decOK {
				classifyVEX(d)
			}
			return r
		}
	case 0x62: // EVEX (AVX-512): not implemented
		if p.rex == 0 {
			return decUD
		}
	}
	if op[0] == 0x0f {
		if len(op) < 3 {
			return decTruncated
		}
		switch {
		case op[1] == 0x1e && p.rep == 0xf3 && (op[2] == 0xfa || op[2] == 0xfb):
			d.op = opENDBR
			d.kind = kNop
			d.len = uint8(p.n + 3)
			return decOK
		case op[1] == 0xc7 && op[2]>>6 == 3 && (op[2]>>3)&7 >= 6:
			if (op[2]>>3)&7 == 7 {
				d.op = opRDSEED
			} else {
				d.op = uint16(x86asm.RDRAND)
			}
			d.args[0] = arg{akReg, op[2]&7 | (p.rex&1)<<3, d.osz}
			d.narg = 1
			d.len = uint8(p.n + 3)
			return decOK
		case op[1] >= 0x18 && op[1] <= 0x1f && (op[1] != 0x18 || op[2]>>6 == 3):
			n := modrmLen(op[2:], p.addrsize)
			if n == 0 {
				return decTruncated
			}
			if p.n+2+n > 15 {
				return decUD
			}
			d.op = opHINTNOP
			d.kind = kNop
			d.len = uint8(p.n + 2 + n)
			return decOK
		}
	}
	if op[0] == 0x0f && op[1] == 0xf0 && p.rep == 0xf2 {
		// LDDQU xmm, m128: decode as the equivalent MOVDQU form.
		var nb [15]byte
		n := copy(nb[:], b)
		for i := 0; i < p.n; i++ {
			if nb[i] == 0xf2 {
				nb[i] = 0xf3
			}
		}
		nb[p.n+1] = 0x6f
		b = nb[:n]
	}
	inst, err := x86asm.Decode(b, 64)
	if err != nil {
		if err == x86asm.ErrTruncated && len(b) < 15 {
			return decTruncated
		}
		return decUD
	}
	if inst.Op == 0 || inst.Len > 15 {
		if len(b) < 15 && inst.Len >= len(b) {
			return decTruncated
		}
		return decUD
	}
	d.op = uint16(inst.Op)
	d.len = uint8(inst.Len)
	if inst.Op >= x86asm.JA && inst.Op <= x86asm.JS || inst.Op >= x86asm.CMOVA && inst.Op <= x86asm.CMOVS || inst.Op >= x86asm.SETA && inst.Op <= x86asm.SETS {
		d.cc = ccOf(inst.Op)
	}
	// x87 opcode: first opcode byte's low 3 bits and ModRM, as FOP.
	if o := op[0]; o >= 0xd8 && o <= 0xdf && len(op) > 1 {
		d.x87 = uint16(o&7)<<8 | uint16(op[1])
	}
	next := addr + uint64(inst.Len)
	nimm := 0
	for i, a := range inst.Args {
		if a == nil || i >= 4 {
			break
		}
		switch a := a.(type) {
		case x86asm.Reg:
			g, ok := gpr(a)
			if !ok {
				return decUD
			}
			d.args[i] = g
		case x86asm.Mem:
			base, ok1 := addrReg(a.Base)
			index, ok2 := addrReg(a.Index)
			if a.Base == x86asm.RIP || a.Base == x86asm.EIP {
				base = -1
				ok1 = true
				d.disp = int64(next) + a.Disp
				if a.Base == x86asm.EIP {
					d.disp = int64(uint32(d.disp))
				}
			} else {
				d.disp = a.Disp
			}
			if !ok1 || !ok2 {
				return decUD
			}
			d.base, d.index = base, index
			switch a.Scale {
			case 2:
				d.scale = 1
			case 4:
				d.scale = 2
			case 8:
				d.scale = 3
			}
			switch a.Segment {
			case x86asm.FS:
				d.seg = 1
			case x86asm.GS:
				d.seg = 2
			}
			sz := inst.MemBytes
			if sz > 255 {
				sz = 0
			}
			d.args[i] = arg{akMem, 0, uint8(sz)}
		case x86asm.Imm:
			if nimm == 0 {
				d.imm = uint64(a)
			} else {
				d.imm2 = uint64(a)
			}
			nimm++
			d.args[i] = arg{akImm, 0, 0}
		case x86asm.Rel:
			d.imm = next + uint64(int64(a))
			d.args[i] = arg{akImm, 0, 8}
		default:
			return decUD
		}
		d.narg = uint8(i + 1)
	}
	// Immediates take the size of the first operand.
	for i := 0; i < int(d.narg); i++ {
		if d.args[i].kind == akImm && d.args[i].size == 0 {
			if d.narg > 1 && i > 0 {
				d.args[i].size = d.args[0].size
			} else {
				d.args[i].size = d.osz
			}
		}
	}
	classify(d)
	return decOK
}

func isString(op x86asm.Op) bool {
	switch op {
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ,
		x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ,
		x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ,
		x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ:
		return true
	}
	return false
}

func ccOf(op x86asm.Op) uint8 {
	switch op {
	case x86asm.JO, x86asm.CMOVO, x86asm.SETO:
		return 0
	case x86asm.JNO, x86asm.CMOVNO, x86asm.SETNO:
		return 1
	case x86asm.JB, x86asm.CMOVB, x86asm.SETB:
		return 2
	case x86asm.JAE, x86asm.CMOVAE, x86asm.SETAE:
		return 3
	case x86asm.JE, x86asm.CMOVE, x86asm.SETE:
		return 4
	case x86asm.JNE, x86asm.CMOVNE, x86asm.SETNE:
		return 5
	case x86asm.JBE, x86asm.CMOVBE, x86asm.SETBE:
		return 6
	case x86asm.JA, x86asm.CMOVA, x86asm.SETA:
		return 7
	case x86asm.JS, x86asm.CMOVS, x86asm.SETS:
		return 8
	case x86asm.JNS, x86asm.CMOVNS, x86asm.SETNS:
		return 9
	case x86asm.JP, x86asm.CMOVP, x86asm.SETP:
		return 10
	case x86asm.JNP, x86asm.CMOVNP, x86asm.SETNP:
		return 11
	case x86asm.JL, x86asm.CMOVL, x86asm.SETL:
		return 12
	case x86asm.JGE, x86asm.CMOVGE, x86asm.SETGE:
		return 13
	case x86asm.JLE, x86asm.CMOVLE, x86asm.SETLE:
		return 14
	case x86asm.JG, x86asm.CMOVG, x86asm.SETG:
		return 15
	}
	return 0
}

// fetch returns the decoded instruction at rip, decoding it on a cache
// miss. On failure it records the exit in c.pend.
func (c *CPU) fetch(rip uint64) (*dinst, bool) {
	m := c.Mem
	if !canonical(rip) {
		c.pend = Exit{Reason: ExitGP}
		return nil, false
	}
	pn := rip / PageSize
	p, prot, mapped := m.lookup(pn)
	if !mapped || prot&ProtExec == 0 {
		c.pend = Exit{Reason: ExitPageFault, Addr: rip, Access: AccessExec}
		return nil, false
	}
	if c.tlbGen != m.gen {
		c.flushTLB()
	}
	before := m.gen
	if p == nil {
		p = m.materialize(pn, prot)
	}
	if p.code == nil {
		p.code = &codePage{}
		m.gen++
	}
	c.syncPage(before, pn)
	cp := p.code
	c.fetchPN = pn
	c.fetchCP = cp
	if c.codeCache == nil {
		c.codeCache = new([codeCacheSize]codeEntry)
		for i := range c.codeCache {
			c.codeCache[i].pn = ^uint64(0)
		}
	}
	c.codeCache[pn%codeCacheSize] = codeEntry{pn: pn, cp: cp}
	off := rip % PageSize
	if ix := cp.idx[off]; ix != 0 {
		return &cp.insts[ix-1], true
	}
	var buf [15]byte
	n := copy(buf[:], p.buf.b[off:])
	cut := false
	if n < 15 {
		np, nprot, nmapped := m.lookup(pn + 1)
		if nmapped && nprot&ProtExec != 0 && canonical(rip+uint64(n)) {
			if np != nil {
				copy(buf[n:], np.buf.b[:])
			}
			n = 15
		} else {
			cut = true
		}
	}
	d := &c.scratch
	if decode(buf[:n], rip, d) != decOK {
		// If the bytes were cut by an unfetchable page and the padded
		// instruction is longer than what could be fetched, the fetch of
		// the next page faults; otherwise the instruction is invalid.
		if cut {
			if decode(buf[:], rip, d) == decOK && int(d.len) > n {
				c.pend = Exit{Reason: ExitPageFault, Addr: (pn + 1) * PageSize, Access: AccessExec}
				if !canonical((pn + 1) * PageSize) {
					c.pend = Exit{Reason: ExitGP}
				}
				return nil, false
			}
		}
		c.pend = Exit{Reason: ExitUD}
		return nil, false
	}
	if off+uint64(d.len) > PageSize {
		return d, true // straddles a page: not cached
	}
	cp.insts = append(cp.insts, *d)
	cp.idx[off] = uint16(len(cp.insts))
	return &cp.insts[len(cp.insts)-1], true
}

// le is shorthand for little-endian access.
var le = binary.LittleEndian
