package machine

import "golang.org/x/arch/x86/x86asm"

// Straight-line blocks: Run executes the instructions of a block one after
// the other without looking each up in the decode cache, and counts
// retired instructions and updates RIP once per block, not per
// instruction.
//
// A block is only ever run whole (Run takes the exact one-instruction path
// when the budget ends inside a block, when single-stepping or watching,
// and on pages with software breakpoints), or left early by an exit, a
// fault or a slow-path instruction that does not fall through. That is what
// lets a block carry two optimizations that are invisible at every point
// where Run can stop:
//
//   - Dead flags: an instruction whose flags the block itself overwrites
//     before anything reads them, and before anything that can fault or
//     leave the block, runs as a block-local kind that skips the flag
//     update (kAddRRn ...).
//   - Fused jumps: the flag-setting instruction before the jcc that ends a
//     block decides the jump itself from its operands (kCmpRRJ ...),
//     still leaving the lazy flags exactly as the pair would.
//   - Fused moves: a mov r, r followed by a flag-dead operation on the
//     same register (the two-operand idiom for d = s op x) runs as one
//     step (kMovOpn), the moved value staying in a host register. The
//     second instruction keeps its slot, so instruction counts and
//     addresses of the block are unchanged; Run skips it.
//
// The page's instruction cache (codePage.insts) holds only the plain kinds;
// blocks hold modified copies.

// maxBlock bounds the instructions of a block.
const maxBlock = 64

// block is a run of decoded instructions that follow each other in memory
// on one page; only the last may transfer control (a jump, call or
// return), though any may leave the block at run time (a fault, an exit,
// a string instruction or a slow-path instruction that does not fall
// through).
type block struct {
	insts []dinst
	end   uint64    // the address after the last instruction
	pc    uint64    // the address of the first instruction
	cp    *codePage // the decoded code of the page it is in
	// The blocks that ran after this one, last seen: link[0] where it
	// fell through (to end), link[1] where it jumped. Run follows a link
	// only to a block starting at the new RIP whose decoded code is still
	// the page's (the CPU's current code page or its code cache entry for
	// the page: an invalidation drops both), so a link is only a cache.
	link [2]*block
}

// endsBlock reports whether in transfers control or exits: decoding past
// it would only decode what may not be code.
func endsBlock(in *dinst) bool {
	switch in.kind {
	case kJcc, kJmp, kCall, kRet, kJmpI, kCallI:
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

// Flag effects of a kind, for the block's flag liveness.
const (
	feNone  = iota // neither reads nor writes the arithmetic flags, cannot fault or exit
	feWrite        // writes all of CF PF AF ZF SF OF, reads none, cannot fault or exit
	feUse          // reads some flags, writes only some, or may fault, exit or leave the block
)

func flagEffect(k uint8) int {
	switch k {
	case kMovRR, kMovRI, kLea, kMovxRR, kNop, kJmp,
		kAddRRn, kAddRIn, kSubRRn, kAndRRn, kAndRIn, kOrRRn, kOrRIn, kXorRRn, kXorRIn,
		kShlRIn, kShrRIn, kSarRIn, kRotRn, kImulRRn, kImulRRIn, kNotR, kCdq:
		return feNone
	case kAddRR, kAddRI, kSubRR, kSubRI, kAndRR, kAndRI, kOrRR, kOrRI, kXorRR, kXorRI,
		kCmpRR, kCmpRI, kTestRR, kTestRI, kShlRI, kShrRI, kSarRI, kImulRR, kImulRRI, kMulR, kNegR, kShiftRs:
		return feWrite
	}
	return feUse
}

// deadKind returns the kind of in with its flag update elided, adjusting
// the immediate where the elided form is another operation, or kSlow if
// there is none.
func deadKind(in *dinst) uint8 {
	switch in.kind {
	case kAddRR:
		return kAddRRn
	case kAddRI:
		return kAddRIn
	case kSubRR:
		return kSubRRn
	case kSubRI:
		in.imm = -in.imm
		return kAddRIn
	case kAndRR:
		return kAndRRn
	case kAndRI:
		return kAndRIn
	case kOrRR:
		return kOrRRn
	case kOrRI:
		return kOrRIn
	case kXorRR:
		return kXorRRn
	case kXorRI:
		return kXorRIn
	case kCmpRR, kCmpRI, kTestRR, kTestRI:
		return kNop
	case kIncR:
		in.imm = 1
		return kAddRIn
	case kDecR:
		in.imm = ^uint64(0)
		return kAddRIn
	case kShlRI:
		return kShlRIn
	case kShrRI:
		return kShrRIn
	case kSarRI:
		return kSarRIn
	case kRotR:
		return kRotRn
	case kImulRR:
		return kImulRRn
	case kImulRRI:
		return kImulRRIn
	}
	return kSlow
}

// movOpKind reports whether kMovOpn handles kind k after the move.
func movOpKind(k uint8) bool {
	switch k {
	case kAddRRn, kAddRIn, kSubRRn, kAndRRn, kAndRIn, kOrRRn, kOrRIn, kXorRRn, kXorRIn,
		kShlRIn, kShrRIn, kSarRIn, kImulRRn:
		return true
	}
	return false
}

// fusedKind returns the kind of flag-setting in fused with the jcc that
// follows it, or kSlow if there is none.
func fusedKind(k uint8) uint8 {
	switch k {
	case kCmpRR:
		return kCmpRRJ
	case kCmpRI:
		return kCmpRIJ
	case kSubRR:
		return kSubRRJ
	case kSubRI:
		return kSubRIJ
	case kTestRR:
		return kTestRRJ
	case kTestRI:
		return kTestRIJ
	case kAndRR:
		return kAndRRJ
	case kAddRI:
		return kAddRIJ
	case kIncR:
		return kIncRJ
	case kDecR:
		return kDecRJ
	case kAluRR:
		return kAluRRJ
	case kAluRI:
		return kAluRIJ
	case kAluRM:
		return kAluRMJ
	case kAluMR:
		return kAluMRJ
	case kAluMI:
		return kAluMIJ
	}
	return kSlow
}

// optimize rewrites the kinds of a new block's instructions: flags that
// are dead inside the block are not computed, and a final flag-setting
// instruction and jcc are fused. The flags are taken as live at the end of
// the block and before anything that may fault, exit or leave it.
func optimize(insts []dinst) {
	live := true
	for i := len(insts) - 1; i >= 0; i-- {
		in := &insts[i]
		if !live {
			if k := deadKind(in); k != kSlow {
				in.kind = k
			}
		}
		switch flagEffect(in.kind) {
		case feUse:
			live = true
		case feWrite:
			live = false
		}
	}
	for i := 0; i+1 < len(insts); i++ {
		if in, next := &insts[i], &insts[i+1]; in.kind == kMovRR && movOpKind(next.kind) &&
			next.args[0].reg&15 == in.args[0].reg&15 {
			in.kind = kMovOpn
			i++
		}
	}
	if n := len(insts); n >= 2 && insts[n-1].kind == kJcc {
		if k := fusedKind(insts[n-2].kind); k != kSlow {
			in := &insts[n-2]
			in.kind = k
			in.cc = insts[n-1].cc
			in.imm2 = insts[n-1].imm
		}
	}
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
		c.tmpBlk.end = rip + uint64(in.len)
		return &c.tmpBlk, true
	}
	cp, pn := c.fetchCP, c.fetchPN
	if bx := cp.bidx[rip&0xfff]; bx != 0 {
		return cp.blocks[bx-1], true
	}
	var buf [maxBlock]dinst
	buf[0] = *in
	n := 1
	a := rip + uint64(in.len)
	for ; n < maxBlock && !endsBlock(in) && a>>12 == pn; n++ {
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
	optimize(insts)
	end := insts[n-1].pc + uint64(insts[n-1].len)
	b := &block{insts: insts, end: end, pc: rip, cp: cp}
	cp.blocks = append(cp.blocks, b)
	cp.bidx[rip&0xfff] = uint16(len(cp.blocks))
	return b, true
}
