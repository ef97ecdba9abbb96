package machine

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestAluMemMatchesGeneral runs every ALU operation on a memory operand
// (add or adc sbb and sub xor cmp test, with a register and with an
// immediate, in all four sizes) through the TLB-hit path of kAluMR/kAluMI
// (aluMem) and through the general executor (opAlu) from the same random
// state, and requires the same registers, flags and memory.
func TestAluMemMatchesGeneral(t *testing.T) {
	var forms []string
	for ext, op := range []byte{0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38} {
		forms = append(forms, fmt.Sprintf("%02x0b", op)) // op [rbx], cl
		for _, pre := range []string{"66", "", "48"} {
			forms = append(forms, fmt.Sprintf("%s%02x0b", pre, op+1))                // op [rbx], cx/ecx/rcx
			forms = append(forms, fmt.Sprintf("%s83%02x7f", pre, 0x03|byte(ext)<<3)) // op [rbx], imm8
		}
		forms = append(forms, fmt.Sprintf("80%02x80", 0x03|byte(ext)<<3))         // op byte [rbx], imm8
		forms = append(forms, fmt.Sprintf("4881%02x00000080", 0x03|byte(ext)<<3)) // op qword [rbx], imm32
	}
	forms = append(forms, "840b", "66850b", "850b", "48850b", "f60381", "66f7030180", "f70301000080", "48f70301000080") // test
	rng := rand.New(rand.NewSource(3))
	taken := 0
	for _, f := range forms {
		code := unhex(t, f)
		a, b := newTestCPU(t, code), newTestCPU(t, code)
		in, ok := a.fetch(testCode)
		if !ok || in.kind != kAluMR && in.kind != kAluMI {
			t.Fatalf("%s: kind %d, want kAluMR or kAluMI", f, in.kind)
		}
		for i := 0; i < 200; i++ {
			rbx := testData + uint64(rng.Intn(64))
			if rng.Intn(4) == 0 {
				rbx = testData + 0x1000 - uint64(1+rng.Intn(8)) // may straddle the page
			}
			rcx := rng.Uint64() >> uint(rng.Intn(64))
			mem := rng.Uint64() >> uint(rng.Intn(64))
			fl := 0x202 | uint64(rng.Intn(1<<12))&arithMask
			for _, c := range []*CPU{a, b} {
				c.Regs = [16]uint64{}
				c.Regs[RBX], c.Regs[RCX] = rbx, rcx
				c.SetFlags(fl)
				c.Mem.Write(testData, make([]byte, 0x2000))
				var m [8]byte
				le.PutUint64(m[:], mem)
				c.Mem.Write(rbx, m[:])
				c.syncTLB()
			}
			// Fill a's TLBs for the operand: aluMem only takes hits.
			a.rd(rbx, 1)
			a.wr(rbx, 1, mem&0xff)
			in, _ := a.fetch(testCode)
			if !a.aluMem(in) {
				continue
			}
			taken++
			in2, _ := b.fetch(testCode)
			if st := b.opAlu(in2, testCode+uint64(in2.len)); st != stOK {
				t.Fatalf("%s: aluMem took an instruction the general path faults on (%+v)", f, b.pend)
			}
			if a.Regs != b.Regs || a.Flags() != b.Flags() {
				t.Fatalf("%s rbx %#x rcx %#x mem %#x flags %#x: aluMem regs %x flags %#x, general %x flags %#x",
					f, rbx, rcx, mem, fl, a.Regs, a.Flags(), b.Regs, b.Flags())
			}
			var ma, mb [16]byte
			a.Mem.Read(testData+0xff0, ma[:])
			b.Mem.Read(testData+0xff0, mb[:])
			var la, lb [72]byte
			a.Mem.Read(testData, la[:])
			b.Mem.Read(testData, lb[:])
			if ma != mb || la != lb {
				t.Fatalf("%s rbx %#x: memory differs", f, rbx)
			}
		}
	}
	t.Logf("%d aluMem executions compared", taken)
	if taken < len(forms)*100 {
		t.Errorf("only %d aluMem executions", taken)
	}
}

// TestIncDecMemMatchesGeneral does the same for inc and dec of memory
// (incDecMem against opUnary), carry in and out of every size.
func TestIncDecMemMatchesGeneral(t *testing.T) {
	forms := []string{"fe03", "fe0b", "66ff03", "66ff0b", "ff03", "ff0b", "48ff03", "48ff0b"}
	rng := rand.New(rand.NewSource(4))
	taken := 0
	for _, f := range forms {
		code := unhex(t, f)
		a, b := newTestCPU(t, code), newTestCPU(t, code)
		if in, ok := a.fetch(testCode); !ok || in.kind != kIncDecM {
			t.Fatalf("%s: kind %d, want kIncDecM", f, in.kind)
		}
		for i := 0; i < 200; i++ {
			rbx := testData + uint64(rng.Intn(64))
			if rng.Intn(4) == 0 {
				rbx = testData + 0x1000 - uint64(1+rng.Intn(8))
			}
			mem := []uint64{0, ^uint64(0), 0x7f, 0x80, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 1 << 63, 1<<63 - 1}[rng.Intn(10)]
			if rng.Intn(2) == 0 {
				mem = rng.Uint64()
			}
			fl := 0x202 | uint64(rng.Intn(1<<12))&arithMask
			for _, c := range []*CPU{a, b} {
				c.Regs = [16]uint64{}
				c.Regs[RBX] = rbx
				c.SetFlags(fl)
				c.Mem.Write(testData, make([]byte, 0x2000))
				var m [8]byte
				le.PutUint64(m[:], mem)
				c.Mem.Write(rbx, m[:])
				c.syncTLB()
			}
			a.rd(rbx, 1)
			a.wr(rbx, 1, mem&0xff)
			in, _ := a.fetch(testCode)
			if !a.incDecMem(in) {
				continue
			}
			taken++
			in2, _ := b.fetch(testCode)
			if st := b.opUnary(in2, testCode+uint64(in2.len)); st != stOK {
				t.Fatalf("%s: incDecMem took an instruction the general path faults on (%+v)", f, b.pend)
			}
			if a.Regs != b.Regs || a.Flags() != b.Flags() {
				t.Fatalf("%s mem %#x flags %#x: incDecMem flags %#x, general %#x", f, mem, fl, a.Flags(), b.Flags())
			}
			var ma, mb [0x1010]byte
			a.Mem.Read(testData, ma[:])
			b.Mem.Read(testData, mb[:])
			if ma != mb {
				t.Fatalf("%s rbx %#x: memory differs", f, rbx)
			}
		}
	}
	t.Logf("%d incDecMem executions compared", taken)
	if taken < len(forms)*100 {
		t.Errorf("only %d incDecMem executions", taken)
	}
}

// TestSegmentOperands runs the fast memory kinds with FS and GS overrides
// (TLS accesses, the stack protector's canary) and checks the addresses
// they use.
func TestSegmentOperands(t *testing.T) {
	// mov rax, fs:[rbx+8]; mov gs:[rbx+16], ecx; add dword fs:[rbx], 5;
	// movzx edx, byte gs:[rbx+1]; mov word fs:[rbx+24], cx;
	// sub rcx, fs:[rbx+8]; cmp qword gs:[rbx+16], 7; int3
	code := unhex(t, "64488b4308"+"65894b10"+"64830305"+"650fb65301"+"6466894b18"+"64482b4b08"+"6548837b1007"+"cc")
	c := newTestCPU(t, code)
	c.FSBase, c.GSBase = testData, testData+0x100
	x := uint64(0x1122334455667788)
	var m [0x200]byte
	le.PutUint64(m[8:], x)
	le.PutUint32(m[0:], 10)
	m[0x101] = 0xab
	c.Mem.Write(testData, m[:])
	for i := 0; i < 2; i++ { // the second pass runs from warm TLBs and blocks
		c.RIP = testCode
		c.Regs[RBX], c.Regs[RCX] = 0, 7
		if ex := c.Run(100); ex.Reason != ExitBreakpoint {
			t.Fatalf("pass %d: %+v", i, ex)
		}
	}
	if c.Regs[RAX] != x || c.Regs[RDX] != 0xab || c.Regs[RCX] != 7-x {
		t.Errorf("rax %#x rdx %#x rcx %#x", c.Regs[RAX], c.Regs[RDX], c.Regs[RCX])
	}
	c.Mem.Read(testData, m[:])
	if v := le.Uint32(m[0:]); v != 20 {
		t.Errorf("fs:[0] = %d, want 20 (10 + 5 twice)", v)
	}
	if v := le.Uint64(m[0x110:]); v != 7 {
		t.Errorf("gs:[16] = %#x, want 7", v)
	}
	if v := le.Uint16(m[24:]); v != 7 {
		t.Errorf("fs:[24] = %#x, want 7", v)
	}
	if f := c.Flags(); f&FlagZF == 0 {
		t.Errorf("flags %#x: cmp of gs:[16] with 7 did not set ZF", f)
	}
}

// TestIndirectJumps runs call r64 and jmp m64 (kCallI, kJmpI): the
// targets, the return address, and the faults (a non-canonical target is
// #GP at the jump, an unmapped pointer a page fault) with nothing changed.
func TestIndirectJumps(t *testing.T) {
	// 0: call rax; 2: jmp [rbx]; 0x10: add rcx, 1; ret; 0x20: int3
	code := make([]byte, 0x21)
	copy(code, unhex(t, "ffd0ff23"))
	copy(code[0x10:], unhex(t, "4883c101c3"))
	code[0x20] = 0xcc
	for pass := 0; pass < 2; pass++ { // cold, then from cached blocks
		c := newTestCPU(t, code)
		var p [8]byte
		le.PutUint64(p[:], testCode+0x20)
		c.Mem.Write(testData, p[:])
		for run := 0; run <= pass; run++ {
			c.RIP, c.Regs[RSP] = testCode, testStack
			c.Regs[RAX], c.Regs[RBX], c.Regs[RCX] = testCode+0x10, testData, 0
			if ex := c.Run(100); ex.Reason != ExitBreakpoint || c.Regs[RCX] != 1 || c.Regs[RSP] != testStack || c.Icount != uint64(5*(run+1)) {
				t.Fatalf("pass %d: %+v rcx %d rsp %#x icount %d", pass, ex, c.Regs[RCX], c.Regs[RSP], c.Icount)
			}
		}
		var ret [8]byte
		c.Mem.Read(testStack-8, ret[:])
		if le.Uint64(ret[:]) != testCode+2 {
			t.Errorf("return address %#x, want %#x", le.Uint64(ret[:]), testCode+2)
		}
		c.RIP, c.Regs[RAX] = testCode, 1<<63
		if ex := c.Run(100); ex.Reason != ExitGP || c.RIP != testCode || c.Regs[RSP] != testStack {
			t.Errorf("call to a non-canonical target: %+v rip %#x rsp %#x", ex, c.RIP, c.Regs[RSP])
		}
		c.RIP, c.Regs[RBX] = testCode+2, 0x10
		if ex := c.Run(100); ex.Reason != ExitPageFault || ex.Addr != 0x10 || c.RIP != testCode+2 {
			t.Errorf("jmp through an unmapped pointer: %+v rip %#x", ex, c.RIP)
		}
	}
}
