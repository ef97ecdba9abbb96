package machine

import "testing"

// The virtual CPU advertises exactly what it implements: every feature bit
// that CPUID sets has an instruction here that executes (no #UD), and the
// x86-64 psABI levels glibc's ld.so checks are met (v1 and v2) or
// honestly absent (v3: AVX only when advertiseAVX).
func TestCPUIDAdvertisedIsImplemented(t *testing.T) {
	type feat struct {
		leaf   uint32
		reg    byte // 'b', 'c', 'd'
		bit    uint
		name   string
		code   string // one instruction; rsi points at 16-aligned data
		expect ExitReason
	}
	ok := ExitBreakpoint
	feats := []feat{
		{1, 'd', 0, "FPU", "d9e8", ok},
		{1, 'd', 4, "TSC", "0f31", ExitRdtsc},
		{1, 'd', 8, "CX8", "0fc70e", ok},
		{1, 'd', 15, "CMOV", "0f44c1", ok},
		{1, 'd', 19, "CLFSH", "0fae3e", ok},
		{1, 'd', 23, "MMX", "0ffcc1", ok},
		{1, 'd', 24, "FXSR", "0fae06", ok},
		{1, 'd', 25, "SSE", "0f58c1", ok},
		{1, 'd', 26, "SSE2", "660fd4c1", ok},
		{1, 'c', 0, "SSE3", "f20f7cc1", ok},
		{1, 'c', 9, "SSSE3", "660f3800c1", ok},
		{1, 'c', 13, "CX16", "480fc70e", ok},
		{1, 'c', 19, "SSE4.1", "660f3810c1", ok},
		{1, 'c', 20, "SSE4.2", "660f3837c1", ok},
		{1, 'c', 22, "MOVBE", "0f38f006", ok},
		{1, 'c', 23, "POPCNT", "f30fb8c1", ok},
		{1, 'c', 30, "RDRAND", "0fc7f0", ExitRdrand},
		{7, 'b', 9, "ERMS", "f3a4", ok},
		{7, 'b', 18, "RDSEED", "0fc7f8", ExitRdrand},
		{0x80000001, 'c', 0, "LAHF-SAHF", "9f", ok},
		{0x80000001, 'c', 5, "LZCNT", "f30fbdc1", ok},
		{0x80000001, 'c', 8, "PREFETCHW", "0f0d0e", ok},
		{0x80000001, 'd', 11, "SYSCALL", "0f05", ExitSyscall},
		{0x80000001, 'd', 27, "RDTSCP", "0f01f9", ExitRdtsc},
	}
	if advertiseBMI {
		feats = append(feats,
			feat{7, 'b', 3, "BMI1", "c4e270f2c2", ok}, // andn eax, ecx, edx
			feat{7, 'b', 8, "BMI2", "c4e273f7c2", ok}) // shrx eax, edx, ecx
	}
	if advertiseAVX {
		feats = append(feats,
			feat{1, 'c', 26, "XSAVE", "b807000000ba000000000fae26", ok}, // mov eax, 7; mov edx, 0; xsave [rsi]
			feat{1, 'c', 27, "OSXSAVE", "31c90f01d0", ok},               // xor ecx, ecx; xgetbv
			feat{1, 'c', 28, "AVX", "c5f458c2", ok},                     // vaddps ymm0, ymm1, ymm2
			feat{7, 'b', 5, "AVX2", "c5f5fec2", ok})                     // vpaddd ymm0, ymm1, ymm2
	}
	known := map[uint32]map[byte]uint32{}
	for _, f := range feats {
		if known[f.leaf] == nil {
			known[f.leaf] = map[byte]uint32{}
		}
		known[f.leaf][f.reg] |= 1 << f.bit
		_, b, c, d := cpuid(f.leaf, 0)
		v := map[byte]uint32{'b': b, 'c': c, 'd': d}[f.reg]
		if v>>f.bit&1 == 0 {
			t.Errorf("%s (leaf %#x %c bit %d) is not advertised", f.name, f.leaf, f.reg, f.bit)
			continue
		}
		cpu := newTestCPU(t, append(unhex(t, f.code), 0xcc))
		cpu.Regs[RSI] = testData
		cpu.Regs[RCX] = 1
		cpu.Regs[RDI] = testData + 256
		if ex := cpu.Run(10); ex.Reason != f.expect {
			t.Errorf("%s advertised but %s gives %+v", f.name, f.code, ex)
		}
	}
	// Nothing else is advertised in the feature registers (NX and LM are
	// properties of the mode, not instructions).
	known[0x80000001]['d'] |= 1<<20 | 1<<29
	for leaf, regs := range known {
		_, b, c, d := cpuid(leaf, 0)
		for r, v := range map[byte]uint32{'b': b, 'c': c, 'd': d} {
			if leaf == 1 && r == 'b' {
				continue // brand, CLFLUSH line size, APIC id: not features
			}
			if extra := v &^ regs[r]; extra != 0 {
				t.Errorf("leaf %#x %c advertises untested bits %#x", leaf, r, extra)
			}
		}
	}
	// glibc's x86-64-v2 check: CMPXCHG16B LAHF-SAHF POPCNT SSE3 SSE4_1 SSE4_2 SSSE3.
	_, _, c1, _ := cpuid(1, 0)
	if !advertiseAVX && c1&(1<<28|1<<27|1<<12|1<<29) != 0 {
		t.Errorf("leaf 1 ecx %#x advertises AVX, OSXSAVE, FMA or F16C", c1)
	}
}
