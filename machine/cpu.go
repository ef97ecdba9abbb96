package machine

import (
	"encoding/binary"
	"errors"
	"hash"
	"slices"
)

// f80 is an x87 80-bit extended-precision value: sign and 15-bit biased
// exponent in se, explicit-integer-bit 64-bit significand in mant.
type f80 struct {
	mant uint64
	se   uint16
}

type tlbEntry struct {
	pn  uint64
	buf *pageBuf
}

// The read and write TLBs are direct-mapped by page number. A CPU has none
// until its first fill (a clone starts empty: replay clones a CPU for every
// checkpoint and restore, and most clones never run), then tlbSmall entries
// each, grown to tlbLarge once it has missed tlbGrowFills times: enough for
// 32 MiB, so that array walks and pointer chases over a few tens of MiB hit
// after their first pass.
const (
	tlbSmall     = 1024
	tlbLarge     = 8192
	tlbGrowFills = 16 * tlbSmall
)

// codeCacheSize is the number of entries of a CPU's code page cache.
const codeCacheSize = 256

// codeEntry caches the decoded-code page of page number pn (^0: none). The
// code page cache is invalidated exactly like the TLBs: a page whose
// decoded code is dropped (written, unmapped, made non-executable) changes
// Memory.gen or is logged for dropPage.
type codeEntry struct {
	pn uint64
	cp *codePage
}

// noTLB is the TLB of a CPU that has filled none: one invalid entry, never
// written.
var noTLB = [1]tlbEntry{{pn: ^uint64(0)}}

// CPU is one hardware thread: the architectural register state of an amd64
// core in user mode, plus caches. It is not safe for concurrent use.
type CPU struct {
	Regs           [16]uint64 // RAX..R15 in encoding order
	RIP            uint64
	FSBase, GSBase uint64
	DR             [8]uint64 // debug registers DR0-DR7 (DR6 status, DR7 control)
	Icount         uint64    // instructions retired by this CPU
	Mem            *Memory   // shared by the threads of a process

	// rflags holds every flag bit; the arithmetic ones (CF PF AF ZF SF OF)
	// are stale while fk != fkNone, and are then computed from the last
	// flag-setting operation: its kind, operand size, operands and result
	// (fr is not kept for fkAdd and fkSub: it is fa+fb or fa-fb).
	rflags uint64
	fk     uint8
	fsh    uint8 // 64 - 8*operand size
	fcf    bool  // carry in (adc/sbb) or preserved CF (inc/dec)
	fa, fb uint64
	fr     uint64

	xmm   [16]vec
	mxcsr uint32
	avx   avxState // AVX state beyond XMM (vex.go)

	// x87: physical registers; ST(i) is fpr[(top+i)&7].
	fpr  [8]f80
	ftop uint8
	ftag uint8 // bit i set: physical register i is valid (abridged tag word)
	fcw  uint16
	fsw  uint16 // status word without TOP
	fop  uint16
	fip  uint64
	fdp  uint64

	// Caches, not architectural state.
	rtlb, wtlb []tlbEntry // len a power of two; noTLB[:] before the first fill
	tlbMask    uint64     // len(rtlb) - 1
	tlbLog     []uint16   // slots filled since the last flush (capacity: the log's size)
	tlbLogN    int        // fills since the last flush; > cap(tlbLog): too many, sweep
	tlbFills   uint64     // fills by this CPU
	tlbGrowAt  uint64     // the fill count beyond which the TLBs grow
	tlbMem     *Memory    // the memory the TLBs translate
	tlbGen     uint64
	invSeq     uint64 // Mem.invSeq the TLB is current with
	fetchPN    uint64
	fetchCP    *codePage
	codeCache  *[codeCacheSize]codeEntry // by page number; nil until the first fetch
	scratch    dinst
	oneBlk     [1]dinst  // tmpBlk's instruction
	tmpBlk     block     // an uncached block: an instruction straddling a page
	pend       Exit      // the exit a failing helper recorded
	watchOn    bool      // a data breakpoint is enabled: no TLB fast path
	execBPOn   bool      // an execute breakpoint is enabled
	dr6hit     uint64    // data breakpoint hits of the current instruction
	bps        *BreakSet // software execute breakpoints (SetBreakpoints)
	bpSkip     bool      // the first instruction of the next Run ignores bps
	bpHit      bool      // the last Run stopped at one of bps
	inExec     int32     // Run: 1 + the block index of the instruction in the general executor, else 0
}

// NewCPU returns a CPU in its reset state bound to mem: rflags 0x202, the FPU
// as after FNINIT, MXCSR 0x1f80.
func NewCPU(mem *Memory) *CPU {
	c := &CPU{Mem: mem, rflags: 0x202}
	c.ResetFPU()
	c.fetchPN = ^uint64(0)
	c.rtlb, c.wtlb = noTLB[:], noTLB[:]
	return c
}

// ResetFPU puts the x87 and SSE state in its state after execve: FNINIT,
// MXCSR 0x1f80, all vector registers zero.
func (c *CPU) ResetFPU() {
	c.fninit()
	c.fpr = [8]f80{}
	c.xmm = [16]vec{}
	c.mxcsr = 0x1f80
	c.avx = avxState{}
}

func (c *CPU) fninit() {
	c.fcw = 0x37f
	c.fsw = 0
	c.ftop = 0
	c.ftag = 0
	c.fop = 0
	c.fip = 0
	c.fdp = 0
}

// Lazy flag kinds.
const (
	fkNone uint8 = iota
	fkAdd
	fkAdc
	fkSub
	fkSbb
	fkLogic
	fkInc
	fkDec
	fkShl // fa operand, fb count (1..size*8-1), fr result
	fkShr
	fkSar
	fkMul // fr low result, fcf overflow (CF=OF); SF ZF PF from fr, AF clear
)

const arithMask = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF

var parity [256]bool

func init() {
	for i := range parity {
		n := 0
		for b := i; b != 0; b >>= 1 {
			n += b & 1
		}
		parity[i] = n%2 == 0
	}
}

// arith computes the arithmetic flags of the pending lazy operation.
func (c *CPU) arith() uint64 {
	sh := c.fsh
	a, b, r := c.fa, c.fb, c.fr
	var f uint64
	var cf, of bool
	switch c.fk {
	case fkAdd:
		r = a + b
		cf = r<<sh < a<<sh
		of = ((a^r)&(b^r))<<sh>>63 != 0
	case fkAdc:
		cf = r<<sh < a<<sh || (c.fcf && r<<sh == a<<sh)
		of = ((a^r)&(b^r))<<sh>>63 != 0
	case fkSub:
		r = a - b
		cf = a<<sh < b<<sh
		of = ((a^b)&(a^r))<<sh>>63 != 0
	case fkSbb:
		cf = a<<sh < b<<sh || (c.fcf && a<<sh == b<<sh)
		of = ((a^b)&(a^r))<<sh>>63 != 0
	case fkLogic:
		a, b = r, 0 // AF clear
	case fkShl:
		w := 64 - uint64(sh)
		cf = a>>(w-b)&1 != 0
		of = (r<<sh>>63 != 0) != cf
		a, b = r, 0 // AF clear
	case fkShr:
		cf = a>>(b-1)&1 != 0
		of = a<<sh>>63 != 0
		a, b = r, 0
	case fkSar:
		cf = uint64(int64(a<<sh)>>(uint64(sh)+b-1))&1 != 0
		a, b = r, 0
	case fkMul:
		cf, of = c.fcf, c.fcf
		a, b = r, 0
	case fkInc:
		cf = c.fcf
		of = r<<sh == 1<<63
	case fkDec:
		cf = c.fcf
		of = a<<sh == 1<<63
	}
	if cf {
		f |= FlagCF
	}
	if of {
		f |= FlagOF
	}
	if (a^b^r)&0x10 != 0 {
		f |= FlagAF
	}
	if r<<sh == 0 {
		f |= FlagZF
	}
	if r<<sh>>63 != 0 {
		f |= FlagSF
	}
	if parity[uint8(r)] {
		f |= FlagPF
	}
	return f
}

// Flags returns RFLAGS.
func (c *CPU) Flags() uint64 {
	if c.fk != fkNone {
		c.rflags = c.rflags&^arithMask | c.arith()
		c.fk = fkNone
	}
	return c.rflags
}

// SetFlags sets RFLAGS. Reserved bits take their fixed values (bit 1 set,
// bits 3, 5, 15 and 22-63 clear).
func (c *CPU) SetFlags(f uint64) {
	c.fk = fkNone
	c.rflags = f&0x3f7fd5 | 2
}

// setArith sets the arithmetic flags eagerly.
func (c *CPU) setArith(f uint64) {
	c.Flags()
	c.rflags = c.rflags&^arithMask | f&arithMask
}

func (c *CPU) cf() bool {
	switch c.fk {
	case fkSub:
		return c.fa<<c.fsh < c.fb<<c.fsh
	case fkLogic:
		return false
	case fkInc, fkDec:
		return c.fcf
	}
	return c.Flags()&FlagCF != 0
}

// cond evaluates condition code cc (the low nibble of Jcc's opcode).
func (c *CPU) cond(cc uint8) bool {
	sh := c.fsh
	switch c.fk {
	case fkSub:
		a, b := c.fa<<sh, c.fb<<sh
		switch cc {
		case 2:
			return a < b
		case 3:
			return a >= b
		case 4:
			return a == b
		case 5:
			return a != b
		case 6:
			return a <= b
		case 7:
			return a > b
		case 12:
			return int64(a) < int64(b)
		case 13:
			return int64(a) >= int64(b)
		case 14:
			return int64(a) <= int64(b)
		case 15:
			return int64(a) > int64(b)
		}
	case fkLogic, fkAdd, fkInc, fkDec, fkShl, fkShr, fkSar, fkMul:
		rr := c.fr
		if c.fk == fkAdd {
			rr = c.fa + c.fb
		}
		r := int64(rr << sh)
		switch cc {
		case 4:
			return r == 0
		case 5:
			return r != 0
		case 8:
			return r < 0
		case 9:
			return r >= 0
		}
		if c.fk != fkLogic {
			break
		}
		switch cc {
		case 4:
			return r == 0
		case 5:
			return r != 0
		case 8, 12:
			return r < 0
		case 9, 13:
			return r >= 0
		case 14:
			return r <= 0
		case 15:
			return r > 0
		}
	}
	f := c.Flags()
	var v bool
	switch cc >> 1 {
	case 0:
		v = f&FlagOF != 0
	case 1:
		v = f&FlagCF != 0
	case 2:
		v = f&FlagZF != 0
	case 3:
		v = f&(FlagCF|FlagZF) != 0
	case 4:
		v = f&FlagSF != 0
	case 5:
		v = f&FlagPF != 0
	case 6:
		v = (f&FlagSF != 0) != (f&FlagOF != 0)
	case 7:
		v = f&FlagZF != 0 || (f&FlagSF != 0) != (f&FlagOF != 0)
	}
	return v != (cc&1 != 0)
}

// CompleteRdtsc finishes an rdtsc or rdtscp that exited with ExitRdtsc:
// EDX:EAX = tsc (and ECX = aux for rdtscp), then retires it.
func (c *CPU) CompleteRdtsc(tsc uint64, aux uint32) {
	in, ok := c.peek()
	if !ok {
		return
	}
	c.Regs[RAX] = tsc & 0xffffffff
	c.Regs[RDX] = tsc >> 32
	if in.op == opRDTSCP {
		c.Regs[RCX] = uint64(aux)
	}
	c.RIP += uint64(in.len)
	c.Icount++
}

// CompleteRdrand finishes an rdrand or rdseed that exited with ExitRdrand:
// the destination register gets v, CF = ok, the other arithmetic flags are
// cleared, then it retires.
func (c *CPU) CompleteRdrand(v uint64, ok bool) {
	in, dok := c.peek()
	if !dok {
		return
	}
	if !ok {
		v = 0
	}
	c.setReg(in.args[0].reg, in.osz, v)
	var f uint64
	if ok {
		f = FlagCF
	}
	c.setArith(f)
	c.RIP += uint64(in.len)
	c.Icount++
}

// peek decodes the instruction at RIP without executing it.
func (c *CPU) peek() (*dinst, bool) {
	in, ok := c.fetch(c.RIP)
	return in, ok
}

// XMM returns register XMMi.
func (c *CPU) XMM(i int) [16]byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], c.xmm[i&15][0])
	binary.LittleEndian.PutUint64(b[8:], c.xmm[i&15][1])
	return b
}

// SetXMM sets register XMMi.
func (c *CPU) SetXMM(i int, v [16]byte) {
	c.xmm[i&15][0] = binary.LittleEndian.Uint64(v[0:])
	c.xmm[i&15][1] = binary.LittleEndian.Uint64(v[8:])
}

func (c *CPU) fswFull() uint16 {
	return c.fsw&^0x3800 | uint16(c.ftop&7)<<11
}

// FPStatus returns the x87 control word, the x87 status word (without
// TOP) and MXCSR: what a kernel reads to tell which floating-point
// exception an ExitFPE was.
func (c *CPU) FPStatus() (fcw, fsw uint16, mxcsr uint32) { return c.fcw, c.fsw, c.mxcsr }

// FXSave writes the legacy FXSAVE64 image of the x87 and SSE state.
func (c *CPU) FXSave(b *[512]byte) {
	*b = [512]byte{}
	le := binary.LittleEndian
	le.PutUint16(b[0:], c.fcw)
	le.PutUint16(b[2:], c.fswFull())
	b[4] = c.ftag
	le.PutUint16(b[6:], c.fop)
	le.PutUint64(b[8:], c.fip)
	le.PutUint64(b[16:], c.fdp)
	le.PutUint32(b[24:], c.mxcsr)
	le.PutUint32(b[28:], mxcsrMask)
	for i := 0; i < 8; i++ {
		r := c.fpr[(int(c.ftop)+i)&7]
		le.PutUint64(b[32+16*i:], r.mant)
		le.PutUint16(b[40+16*i:], r.se)
	}
	for i := 0; i < 16; i++ {
		le.PutUint64(b[160+16*i:], c.xmm[i][0])
		le.PutUint64(b[168+16*i:], c.xmm[i][1])
	}
}

const mxcsrMask = 0xffbf

// ErrMXCSR is returned by FXRstor for an image with reserved MXCSR bits set.
var ErrMXCSR = errors.New("machine: reserved bits set in MXCSR")

// FXRstor loads the x87 and SSE state from a legacy FXSAVE64 image. It
// fails, changing nothing, if MXCSR has reserved bits set.
func (c *CPU) FXRstor(b *[512]byte) error {
	le := binary.LittleEndian
	mx := le.Uint32(b[24:])
	if mx&^mxcsrMask != 0 {
		return ErrMXCSR
	}
	c.mxcsr = mx
	c.fcw = le.Uint16(b[0:])
	fsw := le.Uint16(b[2:])
	c.ftop = uint8(fsw>>11) & 7
	c.fsw = fsw &^ 0x3800
	c.ftag = b[4]
	c.fop = le.Uint16(b[6:]) & 0x7ff
	c.fip = le.Uint64(b[8:])
	c.fdp = le.Uint64(b[16:])
	for i := 0; i < 8; i++ {
		c.fpr[(int(c.ftop)+i)&7] = f80{mant: le.Uint64(b[32+16*i:]), se: le.Uint16(b[40+16*i:])}
	}
	for i := 0; i < 16; i++ {
		c.xmm[i][0] = le.Uint64(b[160+16*i:])
		c.xmm[i][1] = le.Uint64(b[168+16*i:])
	}
	return nil
}

// Clone returns a deep copy of the register state bound to mem.
func (c *CPU) Clone(mem *Memory) *CPU {
	n := new(CPU)
	n.Regs = c.Regs
	n.RIP = c.RIP
	n.FSBase, n.GSBase = c.FSBase, c.GSBase
	n.DR = c.DR
	n.Icount = c.Icount
	n.Mem = mem
	n.rflags = c.Flags()
	n.xmm = c.xmm
	n.avx = c.avx
	n.mxcsr = c.mxcsr
	n.fpr = c.fpr
	n.ftop, n.ftag, n.fcw, n.fsw, n.fop, n.fip, n.fdp = c.ftop, c.ftag, c.fcw, c.fsw, c.fop, c.fip, c.fdp
	n.fetchPN = ^uint64(0)
	n.rtlb, n.wtlb = noTLB[:], noTLB[:]
	return n
}

// Hash writes all architectural register state to h in a fixed byte order:
// general registers, RIP, RFLAGS, FS/GS bases, debug registers, then the
// FXSAVE image and, when any is nonzero, the upper YMM halves. The
// instruction count is not included.
func (c *CPU) Hash(h hash.Hash) {
	var b [8 * 29]byte
	le := binary.LittleEndian
	for i, r := range c.Regs {
		le.PutUint64(b[8*i:], r)
	}
	le.PutUint64(b[128:], c.RIP)
	le.PutUint64(b[136:], c.Flags())
	le.PutUint64(b[144:], c.FSBase)
	le.PutUint64(b[152:], c.GSBase)
	for i, r := range c.DR {
		le.PutUint64(b[160+8*i:], r)
	}
	h.Write(b[:224])
	var fx [512]byte
	c.FXSave(&fx)
	h.Write(fx[:416])
	c.avx.hash(h)
}

// BreakSet is an immutable set of software execute breakpoints: any number
// of addresses, consulted by Run only when it enters a code page (a page
// holding a breakpoint is then run without the decoded-page fast path).
type BreakSet struct {
	addrs []uint64 // sorted, distinct
	pages []uint64 // their page numbers, sorted, distinct
}

// NewBreakSet returns the set of addrs (nil if there are none).
func NewBreakSet(addrs []uint64) *BreakSet {
	if len(addrs) == 0 {
		return nil
	}
	s := &BreakSet{addrs: slices.Clone(addrs)}
	slices.Sort(s.addrs)
	s.addrs = slices.Compact(s.addrs)
	for _, a := range s.addrs {
		if pn := a / PageSize; len(s.pages) == 0 || s.pages[len(s.pages)-1] != pn {
			s.pages = append(s.pages, pn)
		}
	}
	return s
}

// Has reports whether addr is in the set.
func (s *BreakSet) Has(addr uint64) bool {
	_, ok := slices.BinarySearch(s.addrs, addr)
	return ok
}

// SetBreakpoints makes Run stop before executing an instruction at an
// address of s (nil: none): Run then returns ExitDebug with RIP at the
// instruction, which is not executed, DR6 unchanged, and BreakHit true. If
// skip is set, the instruction at RIP when the next Run starts is executed
// even if it is in s (like the resume flag, so that continuing from a
// breakpoint works); only that once.
func (c *CPU) SetBreakpoints(s *BreakSet, skip bool) {
	c.bps, c.bpSkip, c.bpHit = s, skip && s != nil, false
}

// BreakHit reports whether the last Run stopped at a breakpoint of the
// set given to SetBreakpoints.
func (c *CPU) BreakHit() bool { return c.bpHit }

// checkBreak is called by Run, when bps is set, for each instruction not
// found on the current decoded page (so for every instruction of a page
// holding a breakpoint). It reports whether rip is a breakpoint, and
// whether its page holds one.
func (c *CPU) checkBreak(rip uint64) (hit, onPage bool) {
	skip := c.bpSkip
	c.bpSkip = false
	if _, ok := slices.BinarySearch(c.bps.pages, rip/PageSize); !ok {
		return false, false
	}
	if skip || !c.bps.Has(rip) {
		return false, true
	}
	c.bpHit = true
	return true, true
}
