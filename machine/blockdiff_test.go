package machine

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// Block execution against single-stepping. Run executes whole decoded
// blocks with block-local optimizations (flags the block overwrites are not
// computed, a final flag-setting instruction decides the jcc after it) but
// takes the plain one-instruction path for Run(1), which is what the
// lockstep test proves against the host CPU. These tests run the same code
// both ways, the block side with random budgets, and require the same
// exits at the same instruction counts with the same architectural state.

// blockPair is one program run twice: by blocks (b) and one instruction
// at a time (s).
type blockPair struct {
	t          *testing.T
	b, s       *CPU
	kb, ks     *miniKernel // nil for bare code
	rng        *rand.Rand
	exits      int
	maxBudget  int
	totalSteps uint64
}

func cpuState(c *CPU) string {
	var fx [512]byte
	c.FXSave(&fx)
	return fmt.Sprintf("regs %x rip %#x flags %#x fs %#x icount %d dr6 %#x fx %x", c.Regs, c.RIP, c.Flags(), c.FSBase, c.Icount, c.DR[6], sha256.Sum256(fx[:]))
}

// step runs the block side for a random budget and the stepping side to
// the same point; it reports whether the program goes on.
func (p *blockPair) step() bool {
	n := uint64(1 + p.rng.Intn(p.maxBudget))
	if p.rng.Intn(4) == 0 {
		n = uint64(1 + p.rng.Intn(8))
	}
	exB := p.b.Run(n)
	exS := Exit{Reason: ExitBudget}
	for p.s.Icount < p.b.Icount {
		if exS = p.s.Run(1); exS.Reason != ExitBudget {
			break
		}
	}
	if exB.Reason != ExitBudget && exS.Reason == ExitBudget && p.s.Icount == p.b.Icount {
		exS = p.s.Run(1) // an exit that does not retire its instruction
	}
	if exB.Reason == ExitBudget && p.b.Icount-p.s.Icount != 0 {
		p.t.Fatalf("block side retired %d, stepping side %d", p.b.Icount, p.s.Icount)
	}
	sb, ss := cpuState(p.b), cpuState(p.s)
	if exB != exS || sb != ss {
		p.t.Fatalf("after Run(%d): blocks %+v\n  %s\nsteps %+v\n  %s", n, exB, sb, exS, ss)
	}
	p.totalSteps = p.b.Icount
	switch exB.Reason {
	case ExitBudget:
		return true
	case ExitSyscall:
		if p.kb == nil {
			return false
		}
		p.kb.syscall()
		p.ks.syscall()
		p.exits++
		return !p.kb.exited
	case ExitRdtsc:
		p.b.CompleteRdtsc(uint64(p.exits)*1000, 0)
		p.s.CompleteRdtsc(uint64(p.exits)*1000, 0)
		p.exits++
		return true
	}
	return false
}

func (p *blockPair) checkMemory() {
	hb, hs := sha256.New(), sha256.New()
	p.b.Mem.Hash(hb)
	p.s.Mem.Hash(hs)
	if !bytes.Equal(hb.Sum(nil), hs.Sum(nil)) {
		p.t.Fatalf("memories differ after %d instructions", p.b.Icount)
	}
}

// TestBlockVsStepPrograms runs the static guest programs of testdata/bin
// under the mini kernel of guest_test.go.
func TestBlockVsStepPrograms(t *testing.T) {
	progs := []struct {
		name string
		max  uint64
	}{
		{"bench_hash.musl", 1_000_000},
		{"bench_fp.musl", 1_000_000},
		{"bench_mem.musl", 1_000_000},
		{"strops.asm", 0},
		{"bitops.asm", 0},
		{"atomics.asm", 0},
		{"sse42.asm", 0},
		{"x87.asm", 0},
	}
	if testing.Short() {
		for i := range progs {
			if progs[i].max == 0 || progs[i].max > 300_000 {
				progs[i].max = 300_000
			}
		}
	}
	for i, pr := range progs {
		t.Run(pr.name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "bin", pr.name)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			kb, err := loadELF(t, path)
			if err != nil {
				t.Fatal(err)
			}
			ks, err := loadELF(t, path)
			if err != nil {
				t.Fatal(err)
			}
			p := &blockPair{t: t, b: kb.c, s: ks.c, kb: kb, ks: ks, rng: rand.New(rand.NewSource(int64(i))), maxBudget: 3000}
			for p.step() {
				if pr.max != 0 && p.b.Icount >= pr.max {
					break
				}
			}
			p.checkMemory()
			if kb.out.String() != ks.out.String() {
				t.Fatalf("outputs differ: %q vs %q", kb.out.String(), ks.out.String())
			}
			t.Logf("%d instructions, %d exits", p.b.Icount, p.exits)
		})
	}
}

// blockGen writes random straight-line integer code with forward jumps:
// ALU, shifts, multiplies, moves, loads and stores through RBX, flag
// readers (jcc, setcc, cmovcc, adc, pushf) in every size the fast path
// specializes, pushes and pops in pairs, and now and then a faulting
// load.
type blockGen struct {
	rng   *rand.Rand
	code  []byte
	insns []int // start offsets
	jumps []int // offsets of rel8 bytes still to patch
}

// reg returns a register other than RSP and RBX.
func (g *blockGen) reg() uint8 {
	for {
		if r := uint8(g.rng.Intn(16)); r != RSP && r != RBX {
			return r
		}
	}
}

// rex returns the REX prefix for operand size w (8 or 4), ModRM.reg r and
// ModRM.rm b, or 0 if none is needed.
func rex(w int, r, b uint8) []byte {
	x := byte(0x40)
	if w == 8 {
		x |= 8
	}
	x |= (r >> 3) << 2
	x |= b >> 3
	if x == 0x40 {
		return nil
	}
	return []byte{x}
}

func (g *blockGen) emit(b ...byte) {
	g.insns = append(g.insns, len(g.code))
	g.code = append(g.code, b...)
}

func (g *blockGen) modrm(w int, op []byte, r, m uint8) {
	b := append(rex(w, r, m), op...)
	g.emit(append(b, 0xc0|(r&7)<<3|m&7)...)
}

func (g *blockGen) inst() {
	w := 8
	if g.rng.Intn(3) == 0 {
		w = 4
	}
	d, s := g.reg(), g.reg()
	imm8 := byte(g.rng.Intn(256))
	switch k := g.rng.Intn(100); {
	case k < 25: // ALU r, r: add or adc sbb and sub xor cmp, test
		op := []byte{0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39, 0x85}[g.rng.Intn(9)]
		g.modrm(w, []byte{op}, s, d)
	case k < 40: // ALU r, imm8 / imm32
		ext := uint8(g.rng.Intn(8))
		if g.rng.Intn(3) == 0 {
			b := append(rex(w, 0, d), 0x81, 0xc0|ext<<3|d&7)
			g.emit(append(b, imm8, byte(g.rng.Intn(256)), 0, byte(g.rng.Intn(2))*0x80)...)
		} else {
			g.emit(append(rex(w, 0, d), 0x83, 0xc0|ext<<3|d&7, imm8)...)
		}
	case k < 43: // test r, imm32
		g.emit(append(rex(w, 0, d), 0xf7, 0xc0|d&7, imm8, 0, 0, byte(g.rng.Intn(2))*0x80)...)
	case k < 50: // inc, dec, neg, not
		switch g.rng.Intn(4) {
		case 0:
			g.emit(append(rex(w, 0, d), 0xff, 0xc0|d&7)...)
		case 1:
			g.emit(append(rex(w, 0, d), 0xff, 0xc8|d&7)...)
		case 2:
			g.emit(append(rex(w, 0, d), 0xf7, 0xd8|d&7)...)
		default:
			g.emit(append(rex(w, 0, d), 0xf7, 0xd0|d&7)...)
		}
	case k < 60: // shifts and rotates by imm8 (sometimes 0 or 1) or cl
		ext := []uint8{0, 1, 4, 5, 7}[g.rng.Intn(5)]
		cnt := []byte{0, 1, imm8 & 63, imm8 & 31, 32, 63}[g.rng.Intn(6)]
		switch g.rng.Intn(4) {
		case 0:
			g.emit(append(rex(w, 0, d), 0xd3, 0xc0|ext<<3|d&7)...)
		case 1:
			g.emit(append(rex(w, 0, d), 0xd1, 0xc0|ext<<3|d&7)...)
		default:
			g.emit(append(rex(w, 0, d), 0xc1, 0xc0|ext<<3|d&7, cnt)...)
		}
	case k < 64: // imul r, r; imul r, r, imm8; mul r64
		switch g.rng.Intn(3) {
		case 0:
			g.modrm(w, []byte{0x0f, 0xaf}, d, s)
		case 1:
			g.emit(append(rex(w, d, s), 0x6b, 0xc0|(d&7)<<3|s&7, imm8)...)
		default:
			g.emit(append(rex(8, 0, s), 0xf7, 0xe0|s&7)...)
		}
	case k < 70: // mov r, r (often then an operation on its destination); mov r, imm
		if g.rng.Intn(2) == 0 {
			g.modrm(w, []byte{0x89}, s, d)
			if g.rng.Intn(2) == 0 {
				g.opOn(d)
			}
		} else if w == 8 && g.rng.Intn(2) == 0 {
			b := append(rex(8, 0, d), 0xb8+d&7)
			for i := 0; i < 8; i++ {
				b = append(b, byte(g.rng.Intn(256)))
			}
			g.emit(b...)
		} else {
			g.emit(append(rex(4, 0, d), 0xb8+d&7, imm8, byte(g.rng.Intn(256)), 0, byte(g.rng.Intn(256)))...)
		}
	case k < 73: // lea d, [s + RBX*2 + disp8]
		g.emit(append(rex(w, d, s), 0x8d, 0x44|(d&7)<<3, 0x58|s&7, imm8)...)
	case k < 79: // loads and stores through RBX (testData): mov, ALU with memory
		r := g.reg()
		disp := byte(g.rng.Intn(16) * 8)
		if g.rng.Intn(3) == 0 {
			g.small(r, d, disp)
			return
		}
		switch g.rng.Intn(5) {
		case 0:
			g.emit(append(rex(w, r, RBX), 0x8b, 0x43|(r&7)<<3, disp)...)
		case 1:
			g.emit(append(rex(w, r, RBX), 0x89, 0x43|(r&7)<<3, disp)...)
		case 2:
			op := []byte{0x01, 0x03, 0x29, 0x2b, 0x39, 0x3b, 0x31, 0x85}[g.rng.Intn(8)]
			g.emit(append(rex(w, r, RBX), op, 0x43|(r&7)<<3, disp)...)
		case 3:
			g.emit(append(rex(w, 0, RBX), 0x83, 0x43|uint8(g.rng.Intn(8))<<3, disp, imm8)...)
		default:
			g.emit(append(rex(4, r, RBX), 0x0f, 0xb6, 0x43|(r&7)<<3, disp)...) // movzx
		}
	case k < 83: // setcc r8 (AL..BL), cmovcc
		cc := byte(g.rng.Intn(16))
		if g.rng.Intn(2) == 0 {
			g.emit(0x0f, 0x90+cc, 0xc0|byte(g.rng.Intn(3)))
		} else {
			g.modrm(w, []byte{0x0f, 0x40 + cc}, d, s)
		}
	case k < 85: // pushfq; pop r: the flags themselves
		g.emit(0x9c)
		g.emit(append(rex(4, 0, d), 0x58+d&7)...)
	case k < 87: // push r; push r; pop r; pop r, push rbx and rsp too
		regs := []uint8{d, RBX, s, g.reg()}
		if g.rng.Intn(4) == 0 {
			regs[g.rng.Intn(2)] = RSP // push rsp: not paired
		}
		g.emit(append(rex(4, 0, regs[0]), 0x50+regs[0]&7)...)
		g.emit(append(rex(4, 0, regs[1]), 0x50+regs[1]&7)...)
		g.emit(append(rex(4, 0, regs[2]), 0x58+regs[2]&7)...)
		g.emit(append(rex(4, 0, regs[3]), 0x58+regs[3]&7)...)
	case k < 86: // a load from an unmapped page through RBX+0x10000*n: faults
		if g.rng.Intn(8) == 0 {
			g.emit(0x48, 0x8b, 0x83, 0x00, 0x00, 0x10, 0x00) // mov rax, [rbx+0x100000]
		} else {
			g.emit(0x90)
		}
	default: // jcc forward, fused or not, to a later instruction
		g.emit(0x70+byte(g.rng.Intn(16)), 0)
		g.jumps = append(g.jumps, len(g.code)-1)
	}
}

// small writes an 8- or 16-bit form: mov, ALU and test between
// registers (AH..BH without a REX prefix, SPL..DIL with one), with an
// immediate, and with memory at RBX+disp.
func (g *blockGen) small(r, d uint8, disp byte) {
	var pre []byte
	byteOp := g.rng.Intn(2) == 0
	if !byteOp {
		pre = []byte{0x66}
	}
	rx := func(reg, rm uint8) []byte {
		if b := rex(4, reg, rm); b != nil || !byteOp || g.rng.Intn(2) == 0 {
			return b
		}
		return []byte{0x40}
	}
	op := func(o byte) byte {
		if byteOp {
			return o - 1 // the 8-bit opcode precedes the 16/32/64-bit one
		}
		return o
	}
	imm := byte(g.rng.Intn(256))
	alu := []byte{0x01, 0x09, 0x21, 0x29, 0x31, 0x39, 0x85}[g.rng.Intn(7)]
	var b []byte
	switch g.rng.Intn(8) {
	case 0: // mov r, m
		b = append(rx(r, RBX), op(0x8b), 0x43|(r&7)<<3, disp)
	case 1: // mov m, r
		b = append(rx(r, RBX), op(0x89), 0x43|(r&7)<<3, disp)
	case 2: // mov m, imm
		b = append(rx(0, RBX), op(0xc7), 0x43, disp, imm)
		if !byteOp {
			b = append(b, byte(g.rng.Intn(256)))
		}
	case 3: // ALU r, r
		b = append(rx(r, d), op(alu), 0xc0|(r&7)<<3|d&7)
	case 4: // ALU r, imm8; test r, imm
		if g.rng.Intn(3) == 0 {
			b = append(rx(0, d), op(0xf7), 0xc0|d&7, imm)
			if !byteOp {
				b = append(b, byte(g.rng.Intn(256)))
			}
		} else if byteOp {
			b = append(rx(0, d), 0x80, 0xc0|uint8(g.rng.Intn(8))<<3|d&7, imm)
		} else {
			b = append(rx(0, d), 0x83, 0xc0|uint8(g.rng.Intn(8))<<3|d&7, imm)
		}
	case 5: // ALU r, m (and cmp m, r: the direction bit)
		o := alu
		if o != 0x85 {
			o += 2 * byte(g.rng.Intn(2))
		}
		b = append(rx(r, RBX), op(o), 0x43|(r&7)<<3, disp)
	case 6: // ALU m, imm8
		if byteOp {
			b = append(rx(0, RBX), 0x80, 0x43|uint8(g.rng.Intn(8))<<3, disp, imm)
		} else {
			b = append(rx(0, RBX), 0x83, 0x43|uint8(g.rng.Intn(8))<<3, disp, imm)
		}
	default: // mov r, r
		b = append(rx(r, d), op(0x89), 0xc0|(r&7)<<3|d&7)
	}
	g.emit(append(pre, b...)...)
}

// opOn writes an operation on register d of the kinds a preceding mov
// fuses with (ALU with a register, d itself or an immediate, a shift by an
// immediate, imul), in either size, and often an instruction that
// overwrites the flags it sets (which is what lets the pair fuse).
func (g *blockGen) opOn(d uint8) {
	w := 8
	if g.rng.Intn(3) == 0 {
		w = 4
	}
	s := g.reg()
	if g.rng.Intn(4) == 0 {
		s = d
	}
	switch g.rng.Intn(4) {
	case 0: // add or and sub xor r, r
		g.modrm(w, []byte{[]byte{0x01, 0x09, 0x21, 0x29, 0x31}[g.rng.Intn(5)]}, s, d)
	case 1: // the same with imm8
		ext := []uint8{0, 1, 4, 5, 6}[g.rng.Intn(5)]
		g.emit(append(rex(w, 0, d), 0x83, 0xc0|ext<<3|d&7, byte(g.rng.Intn(256)))...)
	case 2: // shl shr sar r, imm8
		ext := []uint8{4, 5, 7}[g.rng.Intn(3)]
		g.emit(append(rex(w, 0, d), 0xc1, 0xc0|ext<<3|d&7, byte(1+g.rng.Intn(63)))...)
	default:
		g.modrm(w, []byte{0x0f, 0xaf}, d, s)
	}
	if g.rng.Intn(2) == 0 {
		g.modrm(8, []byte{0x39}, g.reg(), g.reg()) // cmp
	}
}

// patch points each jump at a random later instruction within reach.
func (g *blockGen) patch() {
	for _, j := range g.jumps {
		var cands []int
		for _, o := range g.insns {
			if o > j && o-(j+1) < 128 {
				cands = append(cands, o)
			}
		}
		if len(cands) > 0 {
			g.code[j] = byte(cands[g.rng.Intn(len(cands))] - (j + 1))
		}
	}
}

func TestBlockVsStepRandom(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 60
	}
	total := uint64(0)
	for seed := 0; seed < rounds; seed++ {
		rng := rand.New(rand.NewSource(int64(seed)))
		g := &blockGen{rng: rng}
		for i := 0; i < 400; i++ {
			g.inst()
		}
		g.emit(0xcc)
		g.patch()
		newCPU := func() *CPU {
			c := newTestCPU(t, g.code)
			r := rand.New(rand.NewSource(int64(seed) + 1000))
			for i := range c.Regs {
				c.Regs[i] = r.Uint64() >> uint(r.Intn(64))
			}
			c.Regs[RSP] = testStack - 0x100
			if seed%3 == 1 {
				// Pushed and popped pairs straddle a page boundary.
				c.Regs[RSP] = testStack - 0x1000 + 8
			}
			c.Regs[RBX] = testData + 0x100
			c.SetFlags(r.Uint64() &^ FlagTF)
			return c
		}
		p := &blockPair{t: t, b: newCPU(), s: newCPU(), rng: rand.New(rand.NewSource(int64(seed))), maxBudget: 300}
		func() {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d, code %x", seed, g.code)
				}
			}()
			for p.step() {
			}
			p.checkMemory()
		}()
		total += p.b.Icount
	}
	t.Logf("%d instructions compared over %d programs", total, rounds)
}
