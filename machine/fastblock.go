package machine

import "golang.org/x/arch/x86/x86asm"

// Straight-line blocks: Run executes the instructions of a block one after
// the other without looking each up in the decode cache, while they fall
// through in sequence.

// maxBlock bounds the instructions of a block.
const maxBlock = 64

// block is a run of decoded instructions that follow each other in memory
// on one page; only the last may transfer control (a jump, call or
// return), though any may leave the block at run time (a fault, an exit,
// a string instruction or a slow-path instruction that does not fall
// through).
type block struct {
	insts []dinst
}

// endsBlock reports whether in transfers control or exits: decoding past
// it would only decode what may not be code.
func endsBlock(in *dinst) bool {
	switch in.kind {
	case kJcc, kJmp, kCall, kRet:
		return true
	case kSlow:
		switch x86asm.Op(in.op) {
		case x86asm.JMP, x86asm.CALL, x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ,
			x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ,
			x86asm.INT, x86asm.SYSCALL, x86asm.SYSENTER, x86asm.UD0, x86asm.UD1, x86asm.UD2, x86asm.HLT:
			return true
		}
	}
	return false
}

// writesAllFlags reports whether in sets CF PF AF ZF SF OF without reading
// any of them and cannot fault: the flags of the instruction before it are
// then dead.
func writesAllFlags(in *dinst) bool {
	switch in.kind {
	case kAluRR, kAluRI:
		return in.sub != aluAdc && in.sub != aluSbb
	case kShiftRI:
		mask := uint64(31)
		if in.args[0].size == 8 {
			mask = 63
		}
		return in.imm&mask != 0
	case kImulRR, kImulRRI:
		return true
	}
	return false
}

// block returns the block starting at rip, decoding and caching it on a
// miss. On failure it records the exit in c.pend. An instruction that
// straddles a page is returned as a block of its own, not cached.
func (c *CPU) block(rip uint64) (*block, bool) {
	in, ok := c.fetch(rip)
	if !ok {
		return nil, false
	}
	if in == &c.scratch {
		c.oneBlk[0] = *in
		c.tmpBlk.insts = c.oneBlk[:]
		return &c.tmpBlk, true
	}
	cp, pn := c.fetchCP, c.fetchPN
	if bx := cp.bidx[rip&0xfff]; bx != 0 {
		return &cp.blocks[bx-1], true
	}
	var buf [maxBlock]dinst
	buf[0] = *in
	n := 1
	for a := rip + uint64(in.len); n < maxBlock && !endsBlock(in) && a>>12 == pn; n++ {
		var ok bool
		if in, ok = c.fetch(a); !ok || in == &c.scratch || c.fetchCP != cp {
			break
		}
		buf[n] = *in
		a += uint64(in.len)
	}
	c.fetchPN, c.fetchCP = pn, cp
	insts := make([]dinst, n)
	copy(insts, buf[:n])
	for i := 0; i+1 < len(insts); i++ {
		insts[i].dead = writesAllFlags(&insts[i+1])
	}
	cp.blocks = append(cp.blocks, block{insts: insts})
	cp.bidx[rip&0xfff] = uint16(len(cp.blocks))
	return &cp.blocks[len(cp.blocks)-1], true
}
