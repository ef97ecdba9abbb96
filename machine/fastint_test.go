package machine

import (
	"math/rand"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// fastForm is an instruction (hex) and the fast kind it must decode to.
type fastForm struct {
	code string
	kind uint8
}

// randOperand returns a random 64-bit value biased to the edge cases of
// bit and shift operations: zero, all ones, single bits, sign bits, small
// numbers.
func randOperand(rng *rand.Rand) uint64 {
	switch rng.Intn(6) {
	case 0:
		return []uint64{0, ^uint64(0), 1, 1 << 63, 1 << 31, 0x80, 0x8000, 0x7fffffff, 0xffffffff}[rng.Intn(9)]
	case 1:
		return 1 << uint(rng.Intn(64))
	case 2:
		return uint64(rng.Intn(256))
	case 3:
		return rng.Uint64() >> uint(rng.Intn(64))
	}
	return rng.Uint64()
}

// matchGeneral runs each form from the same random states twice: with
// Run(1), which takes the form's fast kind, and through the general
// executor (exec), and requires the same exit, registers, flags, vector
// registers (XMM and the upper YMM halves), MXCSR and memory. Memory
// operands are at RBX (random offsets into the data page, sometimes
// straddling into an unmapped page or at an unmapped address, so faults
// are compared too). setup, if not nil, randomizes more state of both CPUs
// (it must draw the same values for both: it is given a fresh source with
// a shared seed).
func matchGeneral(t *testing.T, forms []fastForm, seed int64, iters int, setup func(rng *rand.Rand, c *CPU)) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	for _, f := range forms {
		code := append(unhex(t, f.code), 0xcc)
		a, b := newTestCPU(t, code), newTestCPU(t, code)
		a.Mem.Unmap(testData+0x1000, 0x1000)
		b.Mem.Unmap(testData+0x1000, 0x1000)
		if in, ok := a.fetch(testCode); !ok || in.kind != f.kind {
			t.Fatalf("%s: kind %d, want %d", f.code, in.kind, f.kind)
		}
		faults := 0
		for i := 0; i < iters; i++ {
			var regs [16]uint64
			for r := range regs {
				regs[r] = randOperand(rng)
			}
			regs[RSP] = testStack - 64
			regs[RBX] = testData + uint64(rng.Intn(0x1000-64))
			switch rng.Intn(8) {
			case 0:
				regs[RBX] = testData + 0x1000 - uint64(1+rng.Intn(31)) // straddles into the hole
			case 1:
				regs[RBX] = 0x10 // unmapped
			}
			fl := 0x202 | uint64(rng.Intn(1<<12))&arithMask
			var mem [0x1000]byte
			rng.Read(mem[:])
			s := rng.Int63()
			for _, c := range []*CPU{a, b} {
				c.Regs = regs
				c.RIP = testCode
				c.Icount = 0
				c.SetFlags(fl)
				c.Mem.Write(testData, mem[:])
				if setup != nil {
					setup(rand.New(rand.NewSource(s)), c)
				}
			}
			// Warm a's TLBs for the memory operand: the fast paths take
			// only hits.
			a.syncTLB()
			if v, ok := a.rd(regs[RBX], 1); ok {
				a.wr(regs[RBX], 1, v)
			}
			ex := a.Run(1)
			in, _ := b.fetch(testCode)
			next := testCode + uint64(in.len)
			var st int
			switch x86asm.Op(in.op) { // as Run's general path
			case x86asm.MOV:
				st = b.opMov(in, next)
			case x86asm.ADD, x86asm.SUB, x86asm.CMP, x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.TEST, x86asm.ADC, x86asm.SBB:
				st = b.opAlu(in, next)
			default:
				st = b.exec(in, next)
			}
			if st == stFault {
				faults++
				if ex != b.pend || a.RIP != testCode || a.Icount != 0 {
					t.Fatalf("%s: fast path %+v rip %#x icount %d, general faults with %+v", f.code, ex, a.RIP, a.Icount, b.pend)
				}
			} else if ex.Reason != ExitBudget || a.RIP != next || a.Icount != 1 || b.RIP != next {
				t.Fatalf("%s: fast path %+v rip %#x, general status %d rip %#x", f.code, ex, a.RIP, st, b.RIP)
			}
			if a.Regs != b.Regs || a.Flags() != b.Flags() {
				t.Fatalf("%s regs %x flags %#x:\n fast    %x flags %#x\n general %x flags %#x", f.code, regs, fl, a.Regs, a.Flags(), b.Regs, b.Flags())
			}
			if a.xmm != b.xmm || a.avx != b.avx || a.mxcsr != b.mxcsr {
				t.Fatalf("%s: vector state differs:\n fast    %x %x\n general %x %x", f.code, a.xmm, a.avx.ymmh, b.xmm, b.avx.ymmh)
			}
			var ma, mb [0x1000]byte
			a.Mem.Read(testData, ma[:])
			b.Mem.Read(testData, mb[:])
			if ma != mb {
				t.Fatalf("%s: memory differs", f.code)
			}
		}
		if faults == iters {
			t.Errorf("%s: every run faulted", f.code)
		}
	}
}

// TestIntFastMatchesGeneral compares the integer fast kinds of
// fastint.go and run.go (not, neg, bsf/bsr/tzcnt/lzcnt/popcnt, bt/bts/
// btr/btc, cdqe/cqo/cdq/cwde, 8- and 16-bit shifts by an immediate,
// cmovcc from memory, prefetch and pause; the byte and word loads and
// stores of kMovzxRM, kMovRMs and kMovMRs) with the general executor.
func TestIntFastMatchesGeneral(t *testing.T) {
	forms := []fastForm{
		{"48f7d0", kNotR}, {"f7d0", kNotR}, {"49f7d7", kNotR},
		{"48f7d8", kNegR}, {"f7d8", kNegR}, {"49f7df", kNegR},
		{"480fbcc1", kBitScan}, {"0fbcc1", kBitScan}, {"480fbdc1", kBitScan}, {"0fbdc1", kBitScan},
		{"f3480fbcc1", kBitScan}, {"f30fbcc1", kBitScan}, {"f3480fbdc1", kBitScan}, {"f30fbdc1", kBitScan},
		{"f3480fb8c1", kBitScan}, {"f30fb8c1", kBitScan},
		{"480fbc03", kBitScan}, {"0fbd03", kBitScan}, {"f30fbc03", kBitScan}, {"f3480fbd03", kBitScan}, {"f3480fb803", kBitScan},
		{"480fa3c8", kBtR}, {"0fa3c8", kBtR}, {"660fa3c8", kBtR},
		{"480fabc8", kBtR}, {"0fabc8", kBtR}, {"660fabc8", kBtR},
		{"480fb3c8", kBtR}, {"0fb3c8", kBtR}, {"480fbbc8", kBtR}, {"660fbbc8", kBtR},
		{"480fbae025", kBtR}, {"0fbae01f", kBtR}, {"0fbae025", kBtR}, {"660fbae013", kBtR},
		{"480fbae83f", kBtR}, {"0fbaf007", kBtR}, {"480fbaf801", kBtR},
		{"4898", kCdq}, {"4899", kCdq}, {"99", kCdq}, {"98", kCdq},
		{"c0e003", kShiftRs}, {"c0e803", kShiftRs}, {"c0f803", kShiftRs}, {"d0e8", kShiftRs}, {"d0e0", kShiftRs},
		{"d0f8", kShiftRs}, {"c0e807", kShiftRs}, {"c0e027", kShiftRs}, {"40c0e602", kShiftRs}, {"41c0e806", kShiftRs},
		{"66c1e005", kShiftRs}, {"66c1e909", kShiftRs}, {"66c1fa0f", kShiftRs}, {"66d1e8", kShiftRs}, {"6641c1e001", kShiftRs},
		{"480f4403", kCmovRM}, {"0f4503", kCmovRM}, {"480f4c03", kCmovRM}, {"0f4703", kCmovRM},
		{"480f4a03", kCmovRM}, {"0f4803", kCmovRM}, {"4c0f4f03", kCmovRM},
		{"0f180b", kNop}, {"0f1803", kNop}, {"0f1813", kNop}, {"f390", kNop},
		{"0fb603", kMovzxRM}, {"480fbe03", kMovzxRM}, {"0fb703", kMovzxRM}, {"0fbf4bff", kMovzxRM}, {"4c0fb64b01", kMovzxRM},
		{"8a03", kMovRMs}, {"668b03", kMovRMs}, {"408a33", kMovRMs}, {"448a4b07", kMovRMs},
		{"8803", kMovMRs}, {"668903", kMovMRs}, {"40887301", kMovMRs}, {"44880b", kMovMRs},
	}
	matchGeneral(t, forms, 5, 300, nil)
}
