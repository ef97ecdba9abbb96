package machine

// The CPU model advertises AVX/AVX2 (with XSAVE and the OS's XCR0) and
// BMI1/BMI2 only when these switches are on. The instructions are
// implemented (vex.go, vex_exec.go, xsave.go) and proven against the host
// (vex_test.go), but advertising AVX needs the rest of the system ready;
// see AVXAdvertised.
const (
	advertiseAVX = true
	advertiseBMI = true
)

// AVXAdvertised reports whether CPUID advertises XSAVE, OSXSAVE and AVX:
// the kernel then uses the XSAVE layout for signal frames and ptrace.
func AVXAdvertised() bool { return advertiseAVX }

// CPUID leaves: a fixed, deterministic virtual CPU advertising exactly
// what the machine implements.
func cpuid(leaf, sub uint32) (a, b, c, d uint32) {
	switch leaf {
	case 0:
		max := uint32(7)
		if advertiseAVX {
			max = 0xd
		}
		return max, 0x756e6547, 0x6c65746e, 0x49656e69 // "GenuineIntel"
	case 1:
		a = 0x000906ea // family 6, model 0x9e, stepping 10
		b = 8<<8 | 1<<16
		c = 1<<0 | 1<<9 | 1<<13 | 1<<19 | 1<<20 | 1<<22 | 1<<23 | 1<<30        // SSE3 SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT RDRAND
		d = 1<<0 | 1<<4 | 1<<8 | 1<<15 | 1<<19 | 1<<23 | 1<<24 | 1<<25 | 1<<26 // FPU TSC CX8 CMOV CLFSH MMX FXSR SSE SSE2
		if advertiseAVX {
			c |= 1<<26 | 1<<27 | 1<<28 // XSAVE OSXSAVE AVX
		}
		return
	case 7:
		if sub == 0 {
			b = 1<<9 | 1<<18 // ERMS RDSEED
			if advertiseBMI {
				b |= 1<<3 | 1<<8 // BMI1 BMI2
			}
			if advertiseAVX {
				b |= 1 << 5 // AVX2
			}
			return 0, b, 0, 0
		}
		return 0, 0, 0, 0
	case 0xd:
		if !advertiseAVX {
			return 0, 0, 0, 0
		}
		switch sub {
		case 0: // supported XCR0 bits; area size for XCR0 and for all
			return XCR0, XSaveSize, XSaveSize, 0
		case 2: // AVX: YMM_Hi128 size and offset in the standard layout
			return xsaveYMMHiLen, xsaveYMMHi, 0, 0
		}
		return 0, 0, 0, 0 // sub 1: no XSAVEOPT, XSAVEC, XGETBV ECX=1, XSAVES
	case 0x80000000:
		return 0x80000008, 0, 0, 0
	case 0x80000001:
		return 0, 0, 1<<0 | 1<<5 | 1<<8, 1<<11 | 1<<20 | 1<<27 | 1<<29 // LAHF ABM(LZCNT) PREFETCHW; SYSCALL NX RDTSCP LM
	case 0x80000002, 0x80000003, 0x80000004:
		var s [48]byte
		copy(s[:], "ptrec virtual amd64 CPU")
		o := (leaf - 0x80000002) * 16
		return le.Uint32(s[o:]), le.Uint32(s[o+4:]), le.Uint32(s[o+8:]), le.Uint32(s[o+12:])
	case 0x80000008:
		return 0x3030, 0, 0, 0
	}
	return 0, 0, 0, 0
}
