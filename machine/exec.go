package machine

import (
	"math/bits"

	"golang.org/x/arch/x86/x86asm"
)

// Step status of an instruction.
const (
	stOK       = iota // retired; RIP set
	stFault           // not retired: return c.pend, RIP at the instruction
	stExitDone        // retired; then return c.pend
	stFlags           // retired; TF may have changed (popf)
	stCheck           // retired; it may have jumped or written decoded code
)

// aluFlags maps the ALU operations to their lazy flag kinds.
var aluFlags = [...]uint8{aluAdd: fkAdd, aluOr: fkLogic, aluAdc: fkAdc, aluSbb: fkSbb, aluAnd: fkLogic,
	aluSub: fkSub, aluXor: fkLogic, aluCmp: fkSub, aluTest: fkLogic}

// panicOnBug makes Run re-panic on an internal error instead of turning it
// into ExitUD; tests and fuzzing set it.
var panicOnBug = false

// eaFast computes the effective address of a memory operand with 64-bit
// addressing (and the FS/GS base of a segment override).
func (c *CPU) eaFast(in *dinst) uint64 {
	a := uint64(in.disp)
	if in.base >= 0 {
		a += c.Regs[in.base&15]
	}
	if in.index >= 0 {
		a += c.Regs[in.index&15] << (in.scale & 3)
	}
	if in.seg != 0 {
		a += c.segBase(in.seg)
	}
	return a
}

// segBase returns the base of segment seg (1 FS, 2 GS).
func (c *CPU) segBase(seg uint8) uint64 {
	if seg == 1 {
		return c.FSBase
	}
	return c.GSBase
}

// alu computes a two-operand ALU operation, records its lazy flags and
// reports whether the result is written back.
func (c *CPU) alu(op, size uint8, a, b uint64) (uint64, bool) {
	var r uint64
	var fk uint8
	w := true
	switch op {
	case aluAdd:
		r, fk = a+b, fkAdd
	case aluSub:
		r, fk = a-b, fkSub
	case aluCmp:
		r, fk, w = a-b, fkSub, false
	case aluXor:
		r, fk = a^b, fkLogic
	case aluAnd:
		r, fk = a&b, fkLogic
	case aluTest:
		r, fk, w = a&b, fkLogic, false
	case aluOr:
		r, fk = a|b, fkLogic
	case aluAdc:
		cin := c.cf()
		r, fk = a+b, fkAdc
		if cin {
			r++
		}
		c.fcf = cin
	case aluSbb:
		cin := c.cf()
		r, fk = a-b, fkSbb
		if cin {
			r--
		}
		c.fcf = cin
	}
	c.fk = fk
	c.fsh = 64 - 8*size
	c.fa, c.fb, c.fr = a, b, r
	return r, w
}

// ea computes the effective address of the memory operand, with the FS/GS base.
func (c *CPU) ea(in *dinst) uint64 {
	a := uint64(in.disp)
	if in.base >= 0 {
		a += c.Regs[in.base]
	}
	if in.index >= 0 {
		a += c.Regs[in.index] << in.scale
	}
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

func (c *CPU) setReg(r, size uint8, v uint64) {
	switch size {
	case 8:
		c.Regs[r] = v
	case 4:
		c.Regs[r] = uint64(uint32(v))
	case 2:
		c.Regs[r] = c.Regs[r]&^0xffff | v&0xffff
	default:
		c.Regs[r] = c.Regs[r]&^0xff | v&0xff
	}
}

// get reads operand a (memory at addr), zero-extended.
func (c *CPU) get(in *dinst, a arg, addr uint64) (uint64, bool) {
	switch a.kind {
	case akReg:
		return c.Regs[a.reg] & sizeMask[a.size], true
	case akImm:
		return in.imm & sizeMask[a.size], true
	case akMem:
		if a.size > 8 || a.size == 0 {
			break
		}
		return c.rd(addr, a.size)
	case akRegH:
		return c.Regs[a.reg] >> 8 & 0xff, true
	case akSeg:
		switch a.reg {
		case 1:
			return 0x33, true
		case 2:
			return 0x2b, true
		}
		return 0, true
	}
	c.pend = Exit{Reason: ExitUD}
	return 0, false
}

// set writes operand a (memory at addr).
func (c *CPU) set(a arg, addr uint64, v uint64) bool {
	switch a.kind {
	case akReg:
		c.setReg(a.reg, a.size, v)
		return true
	case akMem:
		if a.size > 8 || a.size == 0 {
			break
		}
		return c.wr(addr, a.size, v)
	case akRegH:
		c.Regs[a.reg] = c.Regs[a.reg]&^0xff00 | (v&0xff)<<8
		return true
	}
	c.pend = Exit{Reason: ExitUD}
	return false
}

func (c *CPU) ud() int {
	c.pend = Exit{Reason: ExitUD}
	return stFault
}

func (c *CPU) gp() int {
	c.pend = Exit{Reason: ExitGP}
	return stFault
}

func (c *CPU) opMov(in *dinst, next uint64) int {
	d, s := in.args[0], in.args[1]
	if d.kind == akReg && s.kind == akReg {
		c.setReg(d.reg, d.size, c.Regs[s.reg])
		c.RIP = next
		return stOK
	}
	var addr uint64
	if d.kind == akMem || s.kind == akMem {
		addr = c.ea(in)
	}
	v, ok := c.get(in, s, addr)
	if !ok {
		return stFault
	}
	if d.kind == akSeg {
		return c.gp()
	}
	if !c.set(d, addr, v) {
		return stFault
	}
	c.RIP = next
	return stOK
}

func (c *CPU) opAlu(in *dinst, next uint64) int {
	d, s := in.args[0], in.args[1]
	var addr uint64
	var a, b uint64
	if d.kind == akReg && s.kind == akReg {
		a, b = c.Regs[d.reg], c.Regs[s.reg]
	} else {
		if d.kind == akMem || s.kind == akMem {
			addr = c.ea(in)
		}
		var ok bool
		if a, ok = c.get(in, d, addr); !ok {
			return stFault
		}
		if b, ok = c.get(in, s, addr); !ok {
			return stFault
		}
		if s.kind == akImm {
			b = in.imm // sign-extended: the high bits do not matter
		}
	}
	var r uint64
	var fk uint8
	var cin bool
	switch x86asm.Op(in.op) {
	case x86asm.ADD:
		r, fk = a+b, fkAdd
	case x86asm.SUB, x86asm.CMP:
		r, fk = a-b, fkSub
	case x86asm.AND, x86asm.TEST:
		r, fk = a&b, fkLogic
	case x86asm.OR:
		r, fk = a|b, fkLogic
	case x86asm.XOR:
		r, fk = a^b, fkLogic
	case x86asm.ADC:
		cin = c.cf()
		r, fk = a+b, fkAdc
		if cin {
			r++
		}
	case x86asm.SBB:
		cin = c.cf()
		r, fk = a-b, fkSbb
		if cin {
			r--
		}
	}
	if in.op != uint16(x86asm.CMP) && in.op != uint16(x86asm.TEST) {
		if d.kind == akReg {
			c.setReg(d.reg, d.size, r)
		} else if !c.set(d, addr, r) {
			return stFault
		}
	}
	c.fk = fk
	c.fsh = 64 - 8*d.size
	c.fa, c.fb, c.fr, c.fcf = a, b, r, cin
	c.RIP = next
	return stOK
}

func (c *CPU) push(v uint64, size uint8) bool {
	sp := c.Regs[RSP] - uint64(size)
	if !c.wr(sp, size, v) {
		return false
	}
	c.Regs[RSP] = sp
	return true
}

func stackSize(in *dinst) uint8 {
	if in.osz == 2 {
		return 2
	}
	return 8
}

func sext(v uint64, size uint8) uint64 {
	sh := 64 - 8*uint(size)
	return uint64(int64(v<<sh) >> sh)
}

// exec executes one instruction other than the hottest few.
func (c *CPU) exec(in *dinst, next uint64) int {
	if in.op >= opVEXFirst && in.op < opVEXLast {
		return c.execVEX(in, next)
	}
	switch in.op {
	case opENDBR, opHINTNOP:
		c.RIP = next
		return stOK
	case opRDSEED:
		c.pend = Exit{Reason: ExitRdrand, Len: int(in.len), Reg: int(in.args[0].reg), Size: int(in.osz)}
		return stFault
	}
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.XGETBV, x86asm.XSAVE, x86asm.XSAVE64, x86asm.XRSTOR, x86asm.XRSTOR64:
		return c.execXSave(in, next) // xsave.go
	case x86asm.NOP, x86asm.PAUSE, x86asm.LFENCE, x86asm.MFENCE, x86asm.SFENCE, x86asm.PREFETCHNTA,
		x86asm.PREFETCHT0, x86asm.PREFETCHT1, x86asm.PREFETCHT2, x86asm.PREFETCHW, x86asm.FWAIT:
	case x86asm.CLFLUSH:
		if _, ok := c.rd(c.ea(in), 1); !ok {
			return stFault
		}
	case x86asm.LEA:
		a := uint64(in.disp)
		if in.base >= 0 {
			a += c.Regs[in.base]
		}
		if in.index >= 0 {
			a += c.Regs[in.index] << in.scale
		}
		if in.a32 {
			a = uint64(uint32(a))
		}
		c.setReg(in.args[0].reg, in.args[0].size, a)
	case x86asm.INC, x86asm.DEC, x86asm.NEG, x86asm.NOT:
		return c.opUnary(in, next)
	case x86asm.CALL:
		var target uint64
		if a := in.args[0]; a.kind == akImm {
			target = in.imm
		} else {
			var ok bool
			if target, ok = c.get(in, a, c.ea(in)); !ok {
				return stFault
			}
		}
		if !canonical(target) {
			return c.gp()
		}
		if !c.push(next, 8) {
			return stFault
		}
		c.RIP = target
		return stOK
	case x86asm.RET:
		t, ok := c.rd(c.Regs[RSP], 8)
		if !ok {
			return stFault
		}
		if !canonical(t) {
			return c.gp()
		}
		c.Regs[RSP] += 8
		if in.narg > 0 {
			c.Regs[RSP] += in.imm & 0xffff
		}
		c.RIP = t
		return stOK
	case x86asm.JMP:
		if a := in.args[0]; a.kind == akImm {
			c.RIP = in.imm
		} else {
			t, ok := c.get(in, a, c.ea(in))
			if !ok {
				return stFault
			}
			if !canonical(t) {
				return c.gp()
			}
			c.RIP = t
		}
		return stOK
	case x86asm.PUSH:
		sz := stackSize(in)
		a := in.args[0]
		var v uint64
		switch a.kind {
		case akImm:
			v = in.imm
		case akSeg:
			v = 0
		default:
			var ok bool
			var addr uint64
			if a.kind == akMem {
				addr = c.ea(in)
				a.size = sz
			}
			if v, ok = c.get(in, a, addr); !ok {
				return stFault
			}
		}
		if !c.push(v, sz) {
			return stFault
		}
	case x86asm.POP:
		sz := stackSize(in)
		a := in.args[0]
		if a.kind == akSeg {
			return c.ud()
		}
		v, ok := c.rd(c.Regs[RSP], sz)
		if !ok {
			return stFault
		}
		if a.kind == akMem {
			old := c.Regs[RSP]
			c.Regs[RSP] += uint64(sz)
			addr := c.ea(in)
			c.Regs[RSP] = old
			a.size = sz
			if !c.set(a, addr, v) {
				return stFault
			}
			c.Regs[RSP] += uint64(sz)
		} else {
			c.Regs[RSP] += uint64(sz)
			c.setReg(a.reg, a.size, v)
		}
	case x86asm.PUSHF, x86asm.PUSHFQ, x86asm.PUSHFD:
		if !c.push(c.Flags()&^(FlagRF|1<<17), stackSize(in)) {
			return stFault
		}
	case x86asm.POPF, x86asm.POPFQ, x86asm.POPFD:
		sz := stackSize(in)
		v, ok := c.rd(c.Regs[RSP], sz)
		if !ok {
			return stFault
		}
		c.Regs[RSP] += uint64(sz)
		const user = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagTF | FlagDF | FlagOF | 1<<14 | FlagAC | FlagID
		mask := uint64(user)
		if sz == 2 {
			mask &= 0xffff
		}
		f := c.Flags()
		c.rflags = (f&^mask | v&mask) &^ FlagRF
		c.RIP = next
		return stFlags
	case x86asm.LEAVE:
		v, ok := c.rd(c.Regs[RBP], stackSize(in))
		if !ok {
			return stFault
		}
		c.Regs[RSP] = c.Regs[RBP] + uint64(stackSize(in))
		c.setReg(RBP, stackSize(in), v)
	case x86asm.ENTER:
		return c.opEnter(in, next)
	case x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		d, s := in.args[0], in.args[1]
		var addr uint64
		if s.kind == akMem {
			addr = c.ea(in)
			if s.size == 0 {
				s.size = 4
			}
		}
		v, ok := c.get(in, s, addr)
		if !ok {
			return stFault
		}
		if op != x86asm.MOVZX {
			v = sext(v, s.size)
		}
		c.setReg(d.reg, d.size, v)
	case x86asm.CBW:
		c.setReg(RAX, 2, sext(c.Regs[RAX], 1))
	case x86asm.CWDE:
		c.setReg(RAX, 4, sext(c.Regs[RAX], 2))
	case x86asm.CDQE:
		c.Regs[RAX] = sext(c.Regs[RAX], 4)
	case x86asm.CWD:
		c.setReg(RDX, 2, sext(c.Regs[RAX], 2)>>16)
	case x86asm.CDQ:
		c.setReg(RDX, 4, sext(c.Regs[RAX], 4)>>32)
	case x86asm.CQO:
		c.Regs[RDX] = uint64(int64(c.Regs[RAX]) >> 63)
	case x86asm.XCHG:
		d, s := in.args[0], in.args[1]
		if d.kind == akMem {
			d, s = s, d
		}
		var addr uint64
		if s.kind == akMem {
			addr = c.ea(in)
		}
		a, ok := c.get(in, d, 0)
		if !ok {
			return stFault
		}
		b, ok := c.get(in, s, addr)
		if !ok {
			return stFault
		}
		if !c.set(s, addr, a) {
			return stFault
		}
		c.set(d, 0, b)
	case x86asm.CMOVA, x86asm.CMOVAE, x86asm.CMOVB, x86asm.CMOVBE, x86asm.CMOVE, x86asm.CMOVG, x86asm.CMOVGE, x86asm.CMOVL,
		x86asm.CMOVLE, x86asm.CMOVNE, x86asm.CMOVNO, x86asm.CMOVNP, x86asm.CMOVNS, x86asm.CMOVO, x86asm.CMOVP, x86asm.CMOVS:
		d, s := in.args[0], in.args[1]
		var addr uint64
		if s.kind == akMem {
			addr = c.ea(in)
		}
		v, ok := c.get(in, s, addr)
		if !ok {
			return stFault
		}
		if c.cond(in.cc) {
			c.setReg(d.reg, d.size, v)
		} else if d.size == 4 {
			c.Regs[d.reg] &= 0xffffffff
		}
	case x86asm.SETA, x86asm.SETAE, x86asm.SETB, x86asm.SETBE, x86asm.SETE, x86asm.SETG, x86asm.SETGE, x86asm.SETL,
		x86asm.SETLE, x86asm.SETNE, x86asm.SETNO, x86asm.SETNP, x86asm.SETNS, x86asm.SETO, x86asm.SETP, x86asm.SETS:
		var v uint64
		if c.cond(in.cc) {
			v = 1
		}
		d := in.args[0]
		var addr uint64
		if d.kind == akMem {
			addr = c.ea(in)
			d.size = 1
		}
		if !c.set(d, addr, v) {
			return stFault
		}
	case x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		cnt := c.Regs[RCX] - 1
		if in.a32 {
			cnt &= 0xffffffff
			c.Regs[RCX] = cnt
		} else {
			c.Regs[RCX] = cnt
		}
		take := cnt != 0
		switch op {
		case x86asm.LOOPE:
			take = take && c.cond(4)
		case x86asm.LOOPNE:
			take = take && c.cond(5)
		}
		if take {
			c.RIP = in.imm
			return stOK
		}
	case x86asm.JRCXZ:
		if c.Regs[RCX] == 0 {
			c.RIP = in.imm
			return stOK
		}
	case x86asm.JECXZ:
		if uint32(c.Regs[RCX]) == 0 {
			c.RIP = in.imm
			return stOK
		}
	case x86asm.SHL, x86asm.SHR, x86asm.SAR, x86asm.ROL, x86asm.ROR, x86asm.RCL, x86asm.RCR:
		return c.opShift(in, next)
	case x86asm.SHLD, x86asm.SHRD:
		return c.opShiftD(in, next)
	case x86asm.MUL, x86asm.IMUL, x86asm.DIV, x86asm.IDIV:
		return c.opMulDiv(in, next)
	case x86asm.BT, x86asm.BTS, x86asm.BTR, x86asm.BTC:
		return c.opBit(in, next)
	case x86asm.BSF, x86asm.BSR, x86asm.TZCNT, x86asm.LZCNT, x86asm.POPCNT:
		d, s := in.args[0], in.args[1]
		var addr uint64
		if s.kind == akMem {
			addr = c.ea(in)
		}
		v, ok := c.get(in, s, addr)
		if !ok {
			return stFault
		}
		c.bitScan(op, d, v)
	case x86asm.BSWAP:
		d := in.args[0]
		switch d.size {
		case 8:
			c.Regs[d.reg] = bits.ReverseBytes64(c.Regs[d.reg])
		case 4:
			c.Regs[d.reg] = uint64(bits.ReverseBytes32(uint32(c.Regs[d.reg])))
		default:
			c.setReg(d.reg, 2, 0)
		}
	case x86asm.MOVBE:
		d, s := in.args[0], in.args[1]
		addr := c.ea(in)
		v, ok := c.get(in, s, addr)
		if !ok {
			return stFault
		}
		switch d.size {
		case 8:
			v = bits.ReverseBytes64(v)
		case 4:
			v = uint64(bits.ReverseBytes32(uint32(v)))
		default:
			v = uint64(bits.ReverseBytes16(uint16(v)))
		}
		if !c.set(d, addr, v) {
			return stFault
		}
	case x86asm.XADD:
		d, s := in.args[0], in.args[1]
		var addr uint64
		if d.kind == akMem {
			addr = c.ea(in)
		}
		a, ok := c.get(in, d, addr)
		if !ok {
			return stFault
		}
		b, _ := c.get(in, s, 0)
		r := a + b
		if d.kind == akMem {
			if !c.set(d, addr, r) {
				return stFault
			}
			c.set(s, 0, a)
		} else {
			c.set(s, 0, a)
			c.set(d, 0, r)
		}
		c.fk, c.fsh, c.fa, c.fb, c.fr = fkAdd, 64-8*d.size, a, b, r
	case x86asm.CMPXCHG:
		d, s := in.args[0], in.args[1]
		var addr uint64
		if d.kind == akMem {
			addr = c.ea(in)
		}
		dv, ok := c.get(in, d, addr)
		if !ok {
			return stFault
		}
		acc := c.Regs[RAX] & sizeMask[d.size]
		if acc == dv {
			sv, _ := c.get(in, s, 0)
			if !c.set(d, addr, sv) {
				return stFault
			}
		} else {
			if d.kind == akMem && !c.set(d, addr, dv) {
				return stFault
			}
			c.setReg(RAX, d.size, dv)
		}
		c.fk, c.fsh, c.fa, c.fb, c.fr = fkSub, 64-8*d.size, acc, dv, acc-dv
	case x86asm.CMPXCHG8B:
		addr := c.ea(in)
		v, ok := c.rd(addr, 8)
		if !ok {
			return stFault
		}
		f := c.Flags() &^ FlagZF
		if v == uint64(uint32(c.Regs[RDX]))<<32|uint64(uint32(c.Regs[RAX])) {
			if !c.wr(addr, 8, uint64(uint32(c.Regs[RCX]))<<32|uint64(uint32(c.Regs[RBX]))) {
				return stFault
			}
			f |= FlagZF
		} else {
			if !c.wr(addr, 8, v) {
				return stFault
			}
			c.Regs[RAX] = v & 0xffffffff
			c.Regs[RDX] = v >> 32
		}
		c.rflags = f
	case x86asm.CMPXCHG16B:
		addr := c.ea(in)
		if addr&15 != 0 {
			return c.gp()
		}
		var b [16]byte
		if !c.rdBytes(addr, b[:]) {
			return stFault
		}
		lo, hi := le.Uint64(b[:]), le.Uint64(b[8:])
		f := c.Flags() &^ FlagZF
		if lo == c.Regs[RAX] && hi == c.Regs[RDX] {
			le.PutUint64(b[:], c.Regs[RBX])
			le.PutUint64(b[8:], c.Regs[RCX])
			f |= FlagZF
		}
		if !c.wrBytes(addr, b[:]) {
			return stFault
		}
		if f&FlagZF == 0 {
			c.Regs[RAX], c.Regs[RDX] = lo, hi
		}
		c.rflags = f
	case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ,
		x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ,
		x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ,
		x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ,
		x86asm.CMPSB, x86asm.CMPSW, x86asm.CMPSD, x86asm.CMPSQ:
		return c.opString(in, next)
	case x86asm.CLC:
		c.setArith(c.Flags() &^ FlagCF)
	case x86asm.STC:
		c.setArith(c.Flags() | FlagCF)
	case x86asm.CMC:
		c.setArith(c.Flags() ^ FlagCF)
	case x86asm.CLD:
		c.rflags &^= FlagDF
	case x86asm.STD:
		c.rflags |= FlagDF
	case x86asm.LAHF:
		f := c.Flags()
		c.Regs[RAX] = c.Regs[RAX]&^0xff00 | (f&0xd5|2)<<8
	case x86asm.SAHF:
		f := c.Flags()
		c.rflags = f&^0xd5 | (c.Regs[RAX]>>8)&0xd5
	case x86asm.XLATB:
		a := c.Regs[RBX] + c.Regs[RAX]&0xff
		if in.a32 {
			a = uint64(uint32(a))
		}
		if in.seg == 1 {
			a += c.FSBase
		} else if in.seg == 2 {
			a += c.GSBase
		}
		v, ok := c.rd(a, 1)
		if !ok {
			return stFault
		}
		c.setReg(RAX, 1, v)
	case x86asm.CPUID:
		a, b, cc, d := cpuid(uint32(c.Regs[RAX]), uint32(c.Regs[RCX]))
		c.Regs[RAX], c.Regs[RBX], c.Regs[RCX], c.Regs[RDX] = uint64(a), uint64(b), uint64(cc), uint64(d)
	case x86asm.SYSCALL:
		c.Regs[RCX] = next
		c.Regs[R11] = c.Flags() &^ FlagRF
		c.RIP = next
		c.pend = Exit{Reason: ExitSyscall}
		return stExitDone
	case x86asm.INT:
		if in.imm&0xff == 3 {
			c.RIP = next
			c.pend = Exit{Reason: ExitBreakpoint}
			return stExitDone
		}
		return c.gp()
	case x86asm.RDTSC, x86asm.RDTSCP:
		c.pend = Exit{Reason: ExitRdtsc, Len: int(in.len), Rdtscp: op == x86asm.RDTSCP}
		return stFault
	case x86asm.RDRAND:
		c.pend = Exit{Reason: ExitRdrand, Len: int(in.len), Reg: int(in.args[0].reg), Size: int(in.osz)}
		return stFault
	case x86asm.HLT:
		c.pend = Exit{Reason: ExitHalt}
		return stFault
	case x86asm.CLI, x86asm.STI, x86asm.IN, x86asm.OUT, x86asm.INSB, x86asm.INSW, x86asm.INSD,
		x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD, x86asm.RDMSR, x86asm.WRMSR, x86asm.RDPMC,
		x86asm.INVD, x86asm.WBINVD, x86asm.INVLPG, x86asm.LGDT, x86asm.LIDT, x86asm.LLDT, x86asm.LTR,
		x86asm.LMSW, x86asm.CLTS, x86asm.SWAPGS, x86asm.SYSRET, x86asm.SYSEXIT, x86asm.IRETQ, x86asm.IRET, x86asm.IRETD:
		return c.gp()
	default:
		return c.execVec(in, next)
	}
	c.RIP = next
	return stOK
}

func (c *CPU) opUnary(in *dinst, next uint64) int {
	d := in.args[0]
	var addr uint64
	if d.kind == akMem {
		addr = c.ea(in)
	}
	a, ok := c.get(in, d, addr)
	if !ok {
		return stFault
	}
	var r uint64
	op := x86asm.Op(in.op)
	switch op {
	case x86asm.INC:
		r = a + 1
	case x86asm.DEC:
		r = a - 1
	case x86asm.NEG:
		r = -a
	case x86asm.NOT:
		r = ^a
	}
	if !c.set(d, addr, r) {
		return stFault
	}
	switch op {
	case x86asm.INC:
		cf := c.cf()
		c.fk, c.fsh, c.fa, c.fb, c.fr, c.fcf = fkInc, 64-8*d.size, a, 1, r, cf
	case x86asm.DEC:
		cf := c.cf()
		c.fk, c.fsh, c.fa, c.fb, c.fr, c.fcf = fkDec, 64-8*d.size, a, 1, r, cf
	case x86asm.NEG:
		c.fk, c.fsh, c.fa, c.fb, c.fr = fkSub, 64-8*d.size, 0, a, r
	}
	c.RIP = next
	return stOK
}

func (c *CPU) opEnter(in *dinst, next uint64) int {
	size := in.imm & 0xffff
	level := in.imm2 & 31
	sz := uint64(stackSize(in))
	rsp := c.Regs[RSP]
	total := sz * (1 + level)
	if !c.probeW(rsp-total, total) {
		return stFault
	}
	rbp := c.Regs[RBP]
	sp := rsp - sz
	c.wr(sp, uint8(sz), rbp)
	frame := sp
	if level > 0 {
		for i := uint64(1); i < level; i++ {
			rbp -= sz
			v, ok := c.rd(rbp, uint8(sz))
			if !ok {
				return stFault
			}
			sp -= sz
			c.wr(sp, uint8(sz), v)
		}
		sp -= sz
		c.wr(sp, uint8(sz), frame)
	}
	c.setReg(RBP, uint8(sz), frame)
	c.Regs[RSP] = sp - size
	c.RIP = next
	return stOK
}

func (c *CPU) opShift(in *dinst, next uint64) int {
	d := in.args[0]
	var addr uint64
	if d.kind == akMem {
		addr = c.ea(in)
	}
	a, ok := c.get(in, d, addr)
	if !ok {
		return stFault
	}
	var cnt uint64
	if in.narg > 1 {
		if in.args[1].kind == akImm {
			cnt = in.imm
		} else {
			cnt = c.Regs[RCX]
		}
	} else {
		cnt = 1
	}
	w := uint64(d.size) * 8
	if w == 64 {
		cnt &= 63
	} else {
		cnt &= 31
	}
	if cnt == 0 {
		if d.kind == akReg && d.size == 4 {
			c.Regs[d.reg] &= 0xffffffff
		}
		c.RIP = next
		return stOK
	}
	sh := 64 - w
	msb := func(v uint64) bool { return v<<sh>>63 != 0 }
	f := c.Flags()
	var r uint64
	var cf, of bool
	op := x86asm.Op(in.op)
	szflags := true
	switch op {
	case x86asm.SHL:
		if cnt <= w {
			r = a << cnt
			cf = a>>(w-cnt)&1 != 0
		} else {
			r, cf = 0, false
		}
		if cnt == w {
			r = 0
		}
		of = msb(r) != cf
	case x86asm.SHR:
		r = a >> cnt
		cf = a>>(cnt-1)&1 != 0
		of = msb(a)
	case x86asm.SAR:
		s := int64(a << sh)
		if cnt+sh > 63 {
			r = uint64(s >> 63)
			cf = s < 0
		} else {
			r = uint64(s>>(cnt+sh)) & sizeMask[d.size]
			cf = uint64(s>>(cnt+sh-1))&1 != 0
		}
		of = false
	case x86asm.ROL, x86asm.ROR:
		szflags = false
		n := cnt % w
		if op == x86asm.ROL {
			r = (a<<n | a>>((w-n)%w)) & sizeMask[d.size]
			if n == 0 {
				r = a
			}
			cf = r&1 != 0
			of = msb(r) != cf
		} else {
			r = (a>>n | a<<((w-n)%w)) & sizeMask[d.size]
			if n == 0 {
				r = a
			}
			cf = msb(r)
			of = msb(r) != msb(r<<1)
		}
	case x86asm.RCL, x86asm.RCR:
		szflags = false
		n := cnt % (w + 1)
		r = a
		cf = f&FlagCF != 0
		for i := uint64(0); i < n; i++ {
			if op == x86asm.RCL {
				out := msb(r)
				r = r << 1 & sizeMask[d.size]
				if cf {
					r |= 1
				}
				cf = out
			} else {
				out := r&1 != 0
				r >>= 1
				if cf {
					r |= 1 << (w - 1)
				}
				cf = out
			}
		}
		if op == x86asm.RCL {
			of = msb(r) != cf
		} else {
			of = msb(r) != msb(r<<1)
		}
	}
	r &= sizeMask[d.size]
	if !c.set(d, addr, r) {
		return stFault
	}
	f &^= FlagCF | FlagOF
	if cf {
		f |= FlagCF
	}
	if of {
		f |= FlagOF
	}
	if szflags {
		f &^= FlagSF | FlagZF | FlagPF | FlagAF
		f |= szp(r, d.size)
	}
	c.rflags = f
	c.RIP = next
	return stOK
}

// szp returns SF, ZF and PF of result r of the given size.
func szp(r uint64, size uint8) uint64 {
	var f uint64
	r &= sizeMask[size]
	if r == 0 {
		f |= FlagZF
	}
	if r>>(8*uint(size)-1)&1 != 0 {
		f |= FlagSF
	}
	if parity[uint8(r)] {
		f |= FlagPF
	}
	return f
}

func (c *CPU) opShiftD(in *dinst, next uint64) int {
	d, s := in.args[0], in.args[1]
	var addr uint64
	if d.kind == akMem {
		addr = c.ea(in)
	}
	a, ok := c.get(in, d, addr)
	if !ok {
		return stFault
	}
	b, _ := c.get(in, s, 0)
	var cnt uint64
	if in.args[2].kind == akImm {
		cnt = in.imm
	} else {
		cnt = c.Regs[RCX]
	}
	w := uint64(d.size) * 8
	if w == 64 {
		cnt &= 63
	} else {
		cnt &= 31
	}
	if cnt == 0 {
		if d.kind == akReg && d.size == 4 {
			c.Regs[d.reg] &= 0xffffffff
		}
		c.RIP = next
		return stOK
	}
	var r uint64
	var cf bool
	if w == 16 && cnt > 16 {
		// Undefined result; model as a 32-bit b:a:b shift (as Intel does).
		cnt -= 16
		a, b = b, a
	}
	if x86asm.Op(in.op) == x86asm.SHLD {
		if w == 64 {
			r = a<<cnt | b>>(64-cnt)
		} else {
			r = (a<<w | b&sizeMask[d.size]) << cnt >> w
		}
		cf = a>>(w-cnt)&1 != 0
	} else {
		if w == 64 {
			r = a>>cnt | b<<(64-cnt)
		} else {
			r = (b<<w | a&sizeMask[d.size]) >> cnt
		}
		cf = a>>(cnt-1)&1 != 0
	}
	r &= sizeMask[d.size]
	if !c.set(d, addr, r) {
		return stFault
	}
	f := c.Flags() &^ arithMask
	if cf {
		f |= FlagCF
	}
	if (r^a)>>(w-1)&1 != 0 {
		f |= FlagOF
	}
	f |= szp(r, d.size)
	c.rflags = f
	c.RIP = next
	return stOK
}

func (c *CPU) opMulDiv(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	if op == x86asm.IMUL && in.narg >= 2 {
		d, s := in.args[0], in.args[1]
		var addr uint64
		if s.kind == akMem {
			addr = c.ea(in)
		}
		var a, b uint64
		var ok bool
		if in.narg == 3 {
			if a, ok = c.get(in, s, addr); !ok {
				return stFault
			}
			b = in.imm
		} else {
			a = c.Regs[d.reg]
			if b, ok = c.get(in, s, addr); !ok {
				return stFault
			}
		}
		r, ovf := imul(a, b, d.size)
		c.setReg(d.reg, d.size, r)
		c.mulFlags(ovf, r, d.size)
		c.RIP = next
		return stOK
	}
	s := in.args[0]
	var addr uint64
	if s.kind == akMem {
		addr = c.ea(in)
	}
	v, ok := c.get(in, s, addr)
	if !ok {
		return stFault
	}
	size := s.size
	w := uint(size) * 8
	mask := sizeMask[size]
	rax, rdx := c.Regs[RAX]&mask, c.Regs[RDX]&mask
	if size == 1 {
		rax = c.Regs[RAX] & 0xff
		rdx = c.Regs[RAX] >> 8 & 0xff
	}
	var lo, hi uint64
	switch op {
	case x86asm.MUL:
		if size == 8 {
			hi, lo = bits.Mul64(rax, v)
		} else {
			p := rax * v
			lo, hi = p&mask, p>>w
		}
		c.mulFlags(hi != 0, lo, size)
	case x86asm.IMUL:
		if size == 8 {
			h, l := bits.Mul64(rax, v)
			if int64(rax) < 0 {
				h -= v
			}
			if int64(v) < 0 {
				h -= rax
			}
			hi, lo = h, l
			c.mulFlags(uint64(int64(lo)>>63) != hi, lo, size)
		} else {
			p := int64(sext(rax, size)) * int64(sext(v, size))
			lo, hi = uint64(p)&mask, uint64(p>>w)&mask
			c.mulFlags(p != int64(sext(uint64(p), size)), lo, size)
		}
	case x86asm.DIV:
		if v == 0 {
			c.pend = Exit{Reason: ExitDE}
			return stFault
		}
		if size == 8 {
			if rdx >= v {
				c.pend = Exit{Reason: ExitDE}
				return stFault
			}
			lo, hi = bits.Div64(rdx, rax, v)
		} else {
			n := rdx<<w | rax
			q := n / v
			if q > mask {
				c.pend = Exit{Reason: ExitDE}
				return stFault
			}
			lo, hi = q, n%v
		}
	case x86asm.IDIV:
		if v == 0 {
			c.pend = Exit{Reason: ExitDE}
			return stFault
		}
		var q, r uint64
		if size == 8 {
			var ok bool
			q, r, ok = idiv128(rdx, rax, v)
			if !ok {
				c.pend = Exit{Reason: ExitDE}
				return stFault
			}
		} else {
			n := int64(sext(rdx<<w|rax, 2*size))
			dv := int64(sext(v, size))
			if dv == -1 && n == -1<<63 {
				c.pend = Exit{Reason: ExitDE}
				return stFault
			}
			qq := n / dv
			if qq != int64(sext(uint64(qq), size)) {
				c.pend = Exit{Reason: ExitDE}
				return stFault
			}
			q, r = uint64(qq), uint64(n%dv)
		}
		lo, hi = q&mask, r&mask
	}
	if size == 1 {
		c.Regs[RAX] = c.Regs[RAX]&^0xffff | (hi&0xff)<<8 | lo&0xff
	} else {
		c.setReg(RAX, size, lo)
		c.setReg(RDX, size, hi)
	}
	c.RIP = next
	return stOK
}

func idiv128(hi, lo, d uint64) (q, r uint64, ok bool) {
	neg := int64(hi) < 0
	if neg {
		lo = -lo
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	dn := int64(d) < 0
	ad := d
	if dn {
		ad = -d
	}
	if hi >= ad {
		return 0, 0, false
	}
	uq, ur := bits.Div64(hi, lo, ad)
	if neg != dn {
		if uq > 1<<63 {
			return 0, 0, false
		}
		q = -uq
	} else {
		if uq >= 1<<63 {
			return 0, 0, false
		}
		q = uq
	}
	r = ur
	if neg {
		r = -ur
	}
	return q, r, true
}

func imul(a, b uint64, size uint8) (uint64, bool) {
	if size == 8 {
		h, l := bits.Mul64(a, b)
		if int64(a) < 0 {
			h -= b
		}
		if int64(b) < 0 {
			h -= a
		}
		return l, uint64(int64(l)>>63) != h
	}
	p := int64(sext(a, size)) * int64(sext(b, size))
	return uint64(p) & sizeMask[size], p != int64(sext(uint64(p), size))
}

// mulFlags sets CF=OF=ovf; SF, ZF, PF from the low result, AF clear
// (undefined in the manual).
func (c *CPU) mulFlags(ovf bool, lo uint64, size uint8) {
	f := c.Flags() &^ arithMask
	if ovf {
		f |= FlagCF | FlagOF
	}
	f |= szp(lo, size)
	c.rflags = f
}

func (c *CPU) opBit(in *dinst, next uint64) int {
	d, s := in.args[0], in.args[1]
	w := uint64(d.size) * 8
	var off uint64
	if s.kind == akImm {
		off = in.imm & (w - 1)
	} else {
		off = c.Regs[s.reg] & sizeMask[s.size]
	}
	var addr uint64
	if d.kind == akMem {
		addr = c.ea(in)
		if s.kind != akImm {
			so := int64(sext(off, s.size))
			addr += uint64(so>>(bits.TrailingZeros64(w))) * uint64(d.size)
			off = uint64(so) & (w - 1)
		}
	} else {
		off &= w - 1
	}
	v, ok := c.get(in, d, addr)
	if !ok {
		return stFault
	}
	bit := v >> off & 1
	r := v
	switch x86asm.Op(in.op) {
	case x86asm.BTS:
		r |= 1 << off
	case x86asm.BTR:
		r &^= 1 << off
	case x86asm.BTC:
		r ^= 1 << off
	}
	if x86asm.Op(in.op) != x86asm.BT {
		if !c.set(d, addr, r) {
			return stFault
		}
	}
	f := c.Flags() &^ FlagCF
	if bit != 0 {
		f |= FlagCF
	}
	c.rflags = f
	c.RIP = next
	return stOK
}

func (c *CPU) opString(in *dinst, next uint64) int {
	op := x86asm.Op(in.op)
	var size uint8
	switch op {
	case x86asm.MOVSB, x86asm.STOSB, x86asm.LODSB, x86asm.SCASB, x86asm.CMPSB:
		size = 1
	case x86asm.MOVSW, x86asm.STOSW, x86asm.LODSW, x86asm.SCASW, x86asm.CMPSW:
		size = 2
	case x86asm.MOVSD, x86asm.STOSD, x86asm.LODSD, x86asm.SCASD, x86asm.CMPSD:
		size = 4
	default:
		size = 8
	}
	amask := ^uint64(0)
	if in.a32 {
		amask = 0xffffffff
	}
	var srcBase uint64
	switch in.seg {
	case 1:
		srcBase = c.FSBase
	case 2:
		srcBase = c.GSBase
	}
	step := uint64(size)
	if c.rflags&FlagDF != 0 {
		step = -step
	}
	rep := in.rep != 0
	if rep && step == uint64(size) && !c.watchOn {
		switch op {
		case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ, x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ:
			if !c.repFast(op, size, amask, srcBase) {
				return stFault
			}
		}
	}
	for {
		if rep && c.Regs[RCX]&amask == 0 {
			break
		}
		si, di := c.Regs[RSI]&amask, c.Regs[RDI]&amask
		stop := false
		switch op {
		case x86asm.MOVSB, x86asm.MOVSW, x86asm.MOVSD, x86asm.MOVSQ:
			v, ok := c.rd(si+srcBase, size)
			if !ok || !c.wr(di, size, v) {
				return stFault
			}
			c.Regs[RSI] = c.Regs[RSI]&^amask | (si+step)&amask
			c.Regs[RDI] = c.Regs[RDI]&^amask | (di+step)&amask
		case x86asm.STOSB, x86asm.STOSW, x86asm.STOSD, x86asm.STOSQ:
			if !c.wr(di, size, c.Regs[RAX]) {
				return stFault
			}
			c.Regs[RDI] = c.Regs[RDI]&^amask | (di+step)&amask
		case x86asm.LODSB, x86asm.LODSW, x86asm.LODSD, x86asm.LODSQ:
			v, ok := c.rd(si+srcBase, size)
			if !ok {
				return stFault
			}
			c.setReg(RAX, size, v)
			c.Regs[RSI] = c.Regs[RSI]&^amask | (si+step)&amask
		case x86asm.SCASB, x86asm.SCASW, x86asm.SCASD, x86asm.SCASQ:
			v, ok := c.rd(di, size)
			if !ok {
				return stFault
			}
			a := c.Regs[RAX]
			c.fk, c.fsh, c.fa, c.fb, c.fr = fkSub, 64-8*size, a, v, a-v
			c.Regs[RDI] = c.Regs[RDI]&^amask | (di+step)&amask
			stop = true
		default: // CMPS
			a, ok := c.rd(si+srcBase, size)
			if !ok {
				return stFault
			}
			b, ok := c.rd(di, size)
			if !ok {
				return stFault
			}
			c.fk, c.fsh, c.fa, c.fb, c.fr = fkSub, 64-8*size, a, b, a-b
			c.Regs[RSI] = c.Regs[RSI]&^amask | (si+step)&amask
			c.Regs[RDI] = c.Regs[RDI]&^amask | (di+step)&amask
			stop = true
		}
		if !rep {
			break
		}
		c.Regs[RCX] = c.Regs[RCX]&^amask | (c.Regs[RCX]-1)&amask
		if stop {
			eq := (c.fa-c.fb)<<c.fsh == 0
			if in.rep == 0xf3 && !eq || in.rep == 0xf2 && eq {
				break
			}
		}
	}
	c.RIP = next
	return stOK
}

// repFast performs forward rep movs/stos in chunks that stay within a page
// on both sides and do not overlap, updating RCX, RSI and RDI after each
// chunk; the element loop finishes whatever remains.
func (c *CPU) repFast(op x86asm.Op, size uint8, amask, srcBase uint64) bool {
	var buf [512]byte
	movs := op == x86asm.MOVSB || op == x86asm.MOVSW || op == x86asm.MOVSD || op == x86asm.MOVSQ
	if !movs {
		v := c.Regs[RAX]
		for i := 0; i < len(buf); i += int(size) {
			var t [8]byte
			le.PutUint64(t[:], v)
			copy(buf[i:], t[:size])
		}
	}
	for {
		cnt := c.Regs[RCX] & amask
		if cnt < 2 {
			return true
		}
		di := c.Regs[RDI] & amask
		si := c.Regs[RSI] & amask
		n := cnt * uint64(size)
		n = min(n, uint64(len(buf)), PageSize-di&(PageSize-1))
		if movs {
			n = min(n, PageSize-(si+srcBase)&(PageSize-1))
			if si+srcBase < di+n && di < si+srcBase+n {
				return true // overlapping: element by element
			}
		}
		n -= n % uint64(size)
		if n == 0 {
			return true
		}
		if movs && !c.rdBytes(si+srcBase, buf[:n]) {
			return false
		}
		if !c.wrBytes(di, buf[:n]) {
			return false
		}
		c.Regs[RDI] = c.Regs[RDI]&^amask | (di+n)&amask
		if movs {
			c.Regs[RSI] = c.Regs[RSI]&^amask | (si+n)&amask
		}
		c.Regs[RCX] = c.Regs[RCX]&^amask | (cnt-n/uint64(size))&amask
	}
}

// bitScan writes bsf, bsr, tzcnt, lzcnt or popcnt (op) of source value v
// to register d, and sets the flags (kBitScan and the general executor).
func (c *CPU) bitScan(op x86asm.Op, d arg, v uint64) {
	w := uint(d.size) * 8
	f := c.Flags()
	switch op {
	case x86asm.BSF, x86asm.BSR:
		f &^= arithMask
		if v == 0 {
			f |= FlagZF
		} else if op == x86asm.BSF {
			c.setReg(d.reg, d.size, uint64(bits.TrailingZeros64(v)))
		} else {
			c.setReg(d.reg, d.size, uint64(63-bits.LeadingZeros64(v)))
		}
		if v != 0 && parity[0] { // PF of the result is undefined; follow Intel (from result)
			r := c.Regs[d.reg]
			if parity[uint8(r)] {
				f |= FlagPF
			}
		}
	case x86asm.TZCNT, x86asm.LZCNT:
		var r uint64
		if op == x86asm.TZCNT {
			r = uint64(bits.TrailingZeros64(v))
			if r > uint64(w) {
				r = uint64(w)
			}
		} else {
			r = uint64(bits.LeadingZeros64(v)) - uint64(64-w)
		}
		f &^= FlagCF | FlagZF
		if v == 0 {
			f |= FlagCF
		}
		if r == 0 {
			f |= FlagZF
		}
		c.setReg(d.reg, d.size, r)
	case x86asm.POPCNT:
		f &^= arithMask
		if v == 0 {
			f |= FlagZF
		}
		c.setReg(d.reg, d.size, uint64(bits.OnesCount64(v)))
	}
	c.rflags = f
}
