package machine

import "golang.org/x/arch/x86/x86asm"

// Fast paths of less common integer forms (kBtR, kCdq, kShiftRs), called
// from Run. Each leaves exactly the state the general executor does; the
// tests in fastint_test.go compare them on random operands.

// btR executes kBtR: bt, bts, btr or btc (sub 0-3) of a register with a
// register or immediate bit offset. CF is the selected bit; the other
// flags keep their values.
func (c *CPU) btR(in *dinst) {
	d := in.args[0]
	w := uint64(d.size) * 8
	off := in.imm
	if in.args[1].kind == akReg {
		off = c.Regs[in.args[1].reg&15]
	}
	off &= w - 1
	v := c.Regs[d.reg&15]
	bit := v >> off & 1
	switch in.sub {
	case 1:
		c.setReg(d.reg&15, d.size, v|1<<off)
	case 2:
		c.setReg(d.reg&15, d.size, v&^(1<<off))
	case 3:
		c.setReg(d.reg&15, d.size, v^1<<off)
	}
	c.rflags = c.Flags()&^FlagCF | bit*FlagCF
}

// cdq executes kCdq: cdqe, cqo, cdq or cwde.
func (c *CPU) cdq(sub uint8) {
	switch sub {
	case 0:
		c.Regs[RAX] = sext(c.Regs[RAX], 4)
	case 1:
		c.Regs[RDX] = uint64(int64(c.Regs[RAX]) >> 63)
	case 2:
		c.Regs[RDX] = uint64(uint32(sext(c.Regs[RAX], 4) >> 32))
	default:
		c.Regs[RAX] = uint64(uint32(sext(c.Regs[RAX], 2)))
	}
}

// shiftSmall executes kShiftRs: shl, shr or sar of an 8- or 16-bit
// register by a count from 1 to its width - 1, with lazy flags.
func (c *CPU) shiftSmall(in *dinst) {
	d := in.args[0]
	sh := 64 - 8*d.size
	m := sizeMask[d.size]
	a := c.Regs[d.reg&15] & m
	cnt := in.imm & 31
	var r uint64
	switch in.sub {
	case 0:
		r = a << cnt & m
		c.fk = fkShl
	case 1:
		r = a >> cnt
		c.fk = fkShr
	default:
		r = uint64(int64(a<<sh)>>(uint64(sh)+cnt)) & m
		c.fk = fkSar
	}
	c.Regs[d.reg&15] = c.Regs[d.reg&15]&^m | r
	c.fsh, c.fa, c.fb, c.fr = sh, a, cnt, r
}

// bitScanOp is the op of a kBitScan instruction.
func bitScanOp(in *dinst) x86asm.Op { return x86asm.Op(in.op) }
