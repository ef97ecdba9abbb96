package machine

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestMemoryCopyOnWrite(t *testing.T) {
	m := NewMemory()
	m.Map(0x10000, 2*PageSize, ProtRead|ProtWrite)
	if err := m.Write(0x10ff0, []byte("hello, world, across pages")); err != nil {
		t.Fatal(err)
	}
	n := m.Clone()
	if err := n.Write(0x10ff0, []byte("HELLO")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	m.Read(0x10ff0, got)
	if string(got) != "hello" {
		t.Errorf("original after clone write = %q, want hello", got)
	}
	n.Read(0x10ff0, got)
	if string(got) != "HELLO" {
		t.Errorf("clone = %q, want HELLO", got)
	}
	if m.ResidentPages() != 2 || n.ResidentPages() != 2 {
		t.Errorf("ResidentPages = %d, %d, want 2, 2", m.ResidentPages(), n.ResidentPages())
	}
	// Faults: unmapped, and protection.
	var f *Fault
	if err := m.Read(0x30000, got); !errors.As(err, &f) || f.Addr != 0x30000 || f.Access != AccessRead {
		t.Errorf("Read unmapped = %v", err)
	}
	m.Protect(0x11000, PageSize, ProtRead)
	if err := m.Write(0x10ffe, []byte{1, 2, 3, 4}); !errors.As(err, &f) || f.Addr != 0x11000 || f.Access != AccessWrite {
		t.Errorf("Write read-only = %v", err)
	}
	m.Read(0x10ffe, got[:2])
	if !bytes.Equal(got[:2], []byte("ac")) {
		t.Errorf("failed Write changed memory: %q", got[:2])
	}
	// WriteForce ignores protection.
	if n, err := m.WriteForce(0x11000, []byte{0xcc}); n != 1 || err != nil {
		t.Errorf("WriteForce = %d, %v", n, err)
	}
	if n, err := m.ReadForce(0x11fff, got[:2]); n != 1 || err == nil {
		t.Errorf("ReadForce across the end = %d, %v", n, err)
	}
	if p, ok := m.Query(0x11000); !ok || p != ProtRead {
		t.Errorf("Query = %v, %v", p, ok)
	}
	m.Unmap(0x11000, PageSize)
	if _, ok := m.Query(0x11000); ok {
		t.Errorf("Query after Unmap: mapped")
	}
}

func TestCollectDelta(t *testing.T) {
	m := NewMemory()
	m.Map(0x10000, 4*PageSize, ProtRead|ProtWrite)
	type run struct {
		addr uint64
		data string
	}
	collect := func() []run {
		var rs []run
		m.CollectDelta(0, func(a uint64, d []byte) { rs = append(rs, run{a, string(d)}) })
		return rs
	}
	m.Write(0x10ffe, []byte("abcd"))
	m.Write(0x12010, []byte("xy"))
	got := collect()
	want := []run{{0x10ffe, "abcd"}, {0x12010, "xy"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("first delta = %+v, want %+v", got, want)
	}
	if got := collect(); len(got) != 0 {
		t.Errorf("second delta = %+v, want none", got)
	}
	m.Write(0x10fff, []byte("b"))    // unchanged byte
	m.Write(0x12011, []byte("Z"))    // changed
	m.Write(0x13000, []byte("\x00")) // zero into a fresh page: no change
	got = collect()
	if len(got) != 1 || got[0] != (run{0x12011, "Z"}) {
		t.Errorf("third delta = %+v, want [{0x12011 Z}]", got)
	}
	// A clone keeps its own baseline and shares pages.
	c := m.Clone()
	c.Write(0x10000, []byte("q"))
	if got := collect(); len(got) != 0 {
		t.Errorf("original delta after clone write = %+v", got)
	}
}

func TestMemoryHash(t *testing.T) {
	build := func() *Memory {
		m := NewMemory()
		m.Map(0x10000, 3*PageSize, ProtRead|ProtWrite)
		m.Write(0x10010, []byte("data"))
		m.Map(0x40000, PageSize, ProtRead)
		return m
	}
	a, b := build(), build()
	b.Write(0x11000, []byte{0}) // materialized but zero
	ha, hb := sha256.New(), sha256.New()
	a.Hash(ha)
	b.Hash(hb)
	if !bytes.Equal(ha.Sum(nil), hb.Sum(nil)) {
		t.Errorf("equal memories hash differently")
	}
	b.Write(0x10010, []byte("Data"))
	hb.Reset()
	b.Hash(hb)
	if bytes.Equal(ha.Sum(nil), hb.Sum(nil)) {
		t.Errorf("different memories hash alike")
	}
}

func TestPreciseFaults(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		setup  func(c *CPU)
		reason ExitReason
		addr   uint64
	}{
		{"store to read-only", "480118cc", func(c *CPU) { c.Regs[RAX] = testCode }, ExitPageFault, testCode},
		{"push to unmapped stack", "53cc", func(c *CPU) { c.Regs[RSP] = 0x1000 }, ExitPageFault, 0xff8},
		{"divide by zero", "48f7f1cc", func(c *CPU) { c.Regs[RCX] = 0 }, ExitDE, 0},
		{"quotient overflow", "48f7f1cc", func(c *CPU) { c.Regs[RCX] = 1; c.Regs[RDX] = 1 }, ExitDE, 0},
		{"non-canonical load", "488b00", func(c *CPU) { c.Regs[RAX] = 0x0000800000000000 }, ExitGP, 0},
		{"ud2", "0f0b", nil, ExitUD, 0},
		{"jmp non-canonical", "ffe0", func(c *CPU) { c.Regs[RAX] = 1 << 60 }, ExitGP, 0},
		{"ret non-canonical", "c3", func(c *CPU) { c.Mem.Write(testStack-8, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}); c.Regs[RSP] = testStack - 8 }, ExitGP, 0},
		{"vex not implemented (vfmadd213sd)", "c4e2f1a9c2", nil, ExitUD, 0},
		{"hlt", "f4", nil, ExitHalt, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCPU(t, unhex(t, tc.code))
			c.SetFlags(0x2c7)
			if tc.setup != nil {
				tc.setup(c)
			}
			before := c.Clone(c.Mem)
			ex := c.Run(10)
			if ex.Reason != tc.reason || ex.Addr != tc.addr {
				t.Fatalf("Run = %+v, want reason %d addr %#x", ex, tc.reason, tc.addr)
			}
			h1, h2 := sha256.New(), sha256.New()
			before.Hash(h1)
			c.Hash(h2)
			if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) || c.Icount != 0 {
				t.Errorf("faulting instruction changed state (icount %d)", c.Icount)
			}
		})
	}
}

func TestSelfModifyingCode(t *testing.T) {
	// mov byte ptr [rip+0], 0x90 overwrites the int3 after it with a nop.
	code := unhex(t, "c6050000000090cccc")
	m := NewMemory()
	m.Map(testCode, PageSize, ProtRead|ProtWrite|ProtExec)
	m.Write(testCode, code)
	c := NewCPU(m)
	c.RIP = testCode
	// Decode the int3 first so that the cache holds it.
	c.RIP = testCode + 7
	if ex := c.Run(1); ex.Reason != ExitBreakpoint {
		t.Fatalf("warm-up: %+v", ex)
	}
	c.RIP = testCode
	if ex := c.Run(10); ex.Reason != ExitBreakpoint || c.RIP != testCode+9 || c.Icount != 4 {
		t.Errorf("Run = %+v rip %#x icount %d, want the patched nop to run", ex, c.RIP, c.Icount)
	}
	// A debugger breakpoint seen by another thread sharing the memory.
	other := NewCPU(m)
	m.WriteForce(testCode+7, []byte{0x90})
	other.RIP = testCode + 7
	other.Run(1)
	m.WriteForce(testCode+7, []byte{0xcc})
	other.RIP = testCode + 7
	if ex := other.Run(1); ex.Reason != ExitBreakpoint {
		t.Errorf("after WriteForce breakpoint: %+v", ex)
	}
}

func TestSingleStepAndDebugRegisters(t *testing.T) {
	c := newTestCPU(t, unhex(t, "909090cc"))
	c.SetFlags(0x202 | FlagTF)
	for i := 1; i <= 3; i++ {
		if ex := c.Run(100); ex.Reason != ExitSingleStep || c.RIP != testCode+uint64(i) || c.DR[6]&(1<<14) == 0 {
			t.Fatalf("step %d: %+v rip %#x dr6 %#x", i, ex, c.RIP, c.DR[6])
		}
	}
	// Execute breakpoint on the int3; RF suppresses it once.
	c = newTestCPU(t, unhex(t, "909090cc"))
	c.DR[0] = testCode + 2
	c.DR[7] = 1
	if ex := c.Run(100); ex.Reason != ExitDebug || c.RIP != testCode+2 || c.DR[6]&1 == 0 || c.Icount != 2 {
		t.Fatalf("execute breakpoint: %+v rip %#x", ex, c.RIP)
	}
	c.SetFlags(c.Flags() | FlagRF)
	if ex := c.Run(100); ex.Reason != ExitBreakpoint || c.Flags()&FlagRF != 0 {
		t.Fatalf("resume with RF: %+v", ex)
	}
	// Write watchpoint, 4 bytes at testData+4.
	c = newTestCPU(t, unhex(t, "8918cc"))
	c.Regs[RAX] = testData + 6
	c.DR[1] = testData + 4
	c.DR[7] = 1<<2 | 1<<(16+4) | 3<<(18+4)
	if ex := c.Run(100); ex.Reason != ExitDebug || c.RIP != testCode+2 || c.DR[6]&2 == 0 {
		t.Fatalf("watchpoint: %+v rip %#x dr6 %#x", ex, c.RIP, c.DR[6])
	}
}

func TestExits(t *testing.T) {
	c := newTestCPU(t, unhex(t, "0f050f310f01f9410fc7f1480fc7f8cc"))
	c.SetFlags(0x246)
	if ex := c.Run(10); ex.Reason != ExitSyscall || c.RIP != testCode+2 || c.Regs[RCX] != testCode+2 || c.Regs[R11] != 0x246 || c.Icount != 1 {
		t.Fatalf("syscall: %+v rip %#x rcx %#x r11 %#x", ex, c.RIP, c.Regs[RCX], c.Regs[R11])
	}
	if ex := c.Run(10); ex.Reason != ExitRdtsc || ex.Len != 2 || ex.Rdtscp || c.RIP != testCode+2 {
		t.Fatalf("rdtsc: %+v", ex)
	}
	c.CompleteRdtsc(0x1122334455667788, 0)
	if c.Regs[RAX] != 0x55667788 || c.Regs[RDX] != 0x11223344 || c.RIP != testCode+4 || c.Icount != 2 {
		t.Fatalf("CompleteRdtsc: rax %#x rdx %#x rip %#x", c.Regs[RAX], c.Regs[RDX], c.RIP)
	}
	if ex := c.Run(10); ex.Reason != ExitRdtsc || ex.Len != 3 || !ex.Rdtscp {
		t.Fatalf("rdtscp: %+v", ex)
	}
	c.CompleteRdtsc(5, 7)
	if c.Regs[RCX] != 7 || c.RIP != testCode+7 {
		t.Fatalf("CompleteRdtsc(rdtscp): rcx %d rip %#x", c.Regs[RCX], c.RIP)
	}
	if ex := c.Run(10); ex.Reason != ExitRdrand || ex.Reg != R9 || ex.Size != 4 || ex.Len != 4 {
		t.Fatalf("rdrand: %+v", ex)
	}
	c.Regs[R9] = ^uint64(0)
	c.CompleteRdrand(0x1234567890, true)
	if c.Regs[R9] != 0x34567890 || c.Flags()&FlagCF == 0 || c.RIP != testCode+11 {
		t.Fatalf("CompleteRdrand: r9 %#x flags %#x", c.Regs[R9], c.Flags())
	}
	if ex := c.Run(10); ex.Reason != ExitRdrand || ex.Reg != RAX || ex.Size != 8 {
		t.Fatalf("rdseed: %+v", ex)
	}
	c.CompleteRdrand(0, false)
	if c.Flags()&FlagCF != 0 {
		t.Fatalf("CompleteRdrand(false): CF set")
	}
	if ex := c.Run(10); ex.Reason != ExitBreakpoint || c.Icount != 6 {
		t.Fatalf("int3: %+v icount %d", ex, c.Icount)
	}
	if ex := c.Run(0); ex.Reason != ExitBudget {
		t.Fatalf("Run(0) = %+v", ex)
	}
}

func TestStraddlingInstruction(t *testing.T) {
	// movabs rax, imm64 split across two pages; then the second page loses exec.
	m := NewMemory()
	m.Map(testCode, 2*PageSize, ProtRead|ProtWrite|ProtExec)
	code := unhex(t, "48b88967452301000000cc")
	start := uint64(testCode + PageSize - 4)
	m.Write(start, code)
	c := NewCPU(m)
	c.RIP = start
	if ex := c.Run(10); ex.Reason != ExitBreakpoint || c.Regs[RAX] != 0x123456789 {
		t.Fatalf("straddling movabs: %+v rax %#x", ex, c.Regs[RAX])
	}
	m.Protect(testCode+PageSize, PageSize, ProtRead)
	c.RIP = start
	if ex := c.Run(10); ex.Reason != ExitPageFault || ex.Addr != testCode+PageSize || ex.Access != AccessExec || c.RIP != start {
		t.Fatalf("straddling into non-exec page: %+v", ex)
	}
}

func TestFXSaveRestore(t *testing.T) {
	c := NewCPU(NewMemory())
	c.SetXMM(3, [16]byte{1, 2, 3})
	c.fpr[5] = f80One
	c.ftag = 1 << 5
	c.ftop = 5
	var img [512]byte
	c.FXSave(&img)
	if le.Uint16(img[0:]) != 0x37f || le.Uint32(img[24:]) != 0x1f80 || le.Uint32(img[28:]) != 0xffbf || img[4] != 1<<5 {
		t.Errorf("FXSave header = % x", img[:32])
	}
	if le.Uint64(img[32:]) != 1<<63 || le.Uint16(img[40:]) != 0x3fff {
		t.Errorf("FXSave ST0 = % x", img[32:42])
	}
	d := NewCPU(NewMemory())
	if err := d.FXRstor(&img); err != nil {
		t.Fatal(err)
	}
	if d.XMM(3) != c.XMM(3) || d.ftop != 5 || d.fpr[5] != f80One {
		t.Errorf("FXRstor did not restore the state")
	}
	le.PutUint32(img[24:], 0x10000)
	if err := d.FXRstor(&img); err == nil {
		t.Errorf("FXRstor with reserved MXCSR bits succeeded")
	}
}

func TestCloneAndHash(t *testing.T) {
	c := newTestCPU(t, unhex(t, "909090cc"))
	c.Regs[RBX] = 42
	c.SetXMM(7, [16]byte{9})
	d := c.Clone(c.Mem)
	h1, h2 := sha256.New(), sha256.New()
	c.Hash(h1)
	d.Hash(h2)
	if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Errorf("clone hashes differently")
	}
	d.Run(10)
	if c.RIP != testCode || d.RIP != testCode+4 {
		t.Errorf("clone shares state")
	}
}

func TestCPUID(t *testing.T) {
	a, b, c, d := cpuid(0, 0)
	maxLeaf := uint32(7)
	if advertiseAVX {
		maxLeaf = 0xd // XSAVE sizes
	}
	if a != maxLeaf || string(le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, b), d), c)) != "GenuineIntel" {
		t.Errorf("leaf 0 = %#x %#x %#x %#x", a, b, c, d)
	}
	if _, _, c1, _ := cpuid(1, 0); (c1&(1<<28) != 0 || c1&(1<<27) != 0) != advertiseAVX {
		t.Errorf("leaf 1 ecx %#x: AVX/OSXSAVE advertised != advertiseAVX (%v)", c1, advertiseAVX)
	}
}

// FuzzStep runs random bytes as code in a sandbox: every outcome is an exit.
func FuzzStep(f *testing.F) {
	f.Add(unhex(f, loopCode))
	f.Add([]byte{0x0f, 0x0b})
	f.Add([]byte{0xd9, 0xee, 0xd9, 0xe8, 0xde, 0xf9, 0xdb, 0x7d, 0x00})
	f.Add([]byte{0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x0c})
	f.Fuzz(func(t *testing.T, code []byte) {
		if len(code) > 4096 {
			return
		}
		c := newTestCPU(t, code)
		c.Regs[RAX] = testData
		c.Regs[RSI] = testData + 64
		c.Regs[RDI] = testData + 128
		for i := 0; i < 4; i++ {
			ex := c.Run(1000)
			if ex.Reason > ExitHalt {
				t.Fatalf("bad exit %+v", ex)
			}
			switch ex.Reason {
			case ExitRdtsc:
				c.CompleteRdtsc(1, 2)
			case ExitRdrand:
				c.CompleteRdrand(3, true)
			case ExitSyscall, ExitBreakpoint, ExitSingleStep, ExitBudget:
			default:
				return
			}
		}
	})
}
