package machine

// This file fixes the exported API of the machine that the kernel, record and
// replay are written against. Implementations live in the other files of the
// package.

// PageSize is the guest page size.
const PageSize = 4096

// Prot is a set of page protections.
type Prot uint8

// Page protection bits (the same values as PROT_READ/WRITE/EXEC and VM_PROT_*).
const (
	ProtRead  Prot = 1
	ProtWrite Prot = 2
	ProtExec  Prot = 4
	ProtNone  Prot = 0
)

// Access is the kind of memory access that faulted.
type Access uint8

// Access kinds.
const (
	AccessRead Access = iota
	AccessWrite
	AccessExec
)

// ExitReason says why Run returned to the kernel.
type ExitReason uint8

// Exit reasons. The kernel gives each its OS meaning.
const (
	// ExitBudget: the instruction budget passed to Run is used up.
	ExitBudget ExitReason = iota
	// ExitSyscall: a `syscall` instruction retired. RIP is after it, RCX and
	// R11 hold the return RIP and RFLAGS as on hardware.
	ExitSyscall
	// ExitBreakpoint: int3 retired; RIP is after it (SIGTRAP, TRAP_BRKPT).
	ExitBreakpoint
	// ExitSingleStep: an instruction retired with TF set at its start
	// (SIGTRAP, TRAP_TRACE). DR6.BS is set.
	ExitSingleStep
	// ExitDebug: a debug-register breakpoint or watchpoint hit. DR6 holds the
	// B0..B3 bits. Execute breakpoints exit before the instruction runs (RIP at
	// it); data watchpoints exit after the accessing instruction retired.
	ExitDebug
	// ExitPageFault: an access to unmapped memory or against the page's
	// protection. RIP at the faulting instruction, Addr the address, Access the kind.
	ExitPageFault
	// ExitGP: general protection (#GP): privileged instruction, non-canonical
	// address, misaligned SSE operand. RIP at the instruction.
	ExitGP
	// ExitUD: undefined or unimplemented instruction (#UD). RIP at it.
	ExitUD
	// ExitDE: divide error (#DE). RIP at the instruction.
	ExitDE
	// ExitFPE: an unmasked x87 or SIMD floating-point exception (#MF/#XM).
	ExitFPE
	// ExitRdtsc: rdtsc or rdtscp, not yet retired; complete with CompleteRdtsc.
	ExitRdtsc
	// ExitRdrand: rdrand or rdseed, not yet retired; complete with CompleteRdrand.
	ExitRdrand
	// ExitHalt: hlt (in user mode, the kernel treats it as #GP).
	ExitHalt
)

// Exit describes why Run returned.
type Exit struct {
	Reason ExitReason
	Addr   uint64 // faulting address (ExitPageFault)
	Access Access // access kind (ExitPageFault)
	Len    int    // length of the instruction at RIP (ExitRdtsc, ExitRdrand)
	Reg    int    // destination register of rdrand/rdseed (ExitRdrand)
	Size   int    // operand size in bytes of rdrand/rdseed (ExitRdrand)
	Rdtscp bool   // the instruction was rdtscp (ExitRdtsc)
	Vector int    // exception vector of ExitFPE: VectorMF (x87) or VectorXM (SIMD)
}

// Exception vectors of ExitFPE.
const (
	VectorMF = 16 // x87 floating-point error
	VectorXM = 19 // SIMD floating-point exception
)

// General-purpose register indices into CPU.Regs, in x86 encoding order.
const (
	RAX = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
)

// RFLAGS bits.
const (
	FlagCF = 1 << 0
	FlagPF = 1 << 2
	FlagAF = 1 << 4
	FlagZF = 1 << 6
	FlagSF = 1 << 7
	FlagTF = 1 << 8
	FlagIF = 1 << 9
	FlagDF = 1 << 10
	FlagOF = 1 << 11
	FlagRF = 1 << 16
	FlagAC = 1 << 18
	FlagID = 1 << 21
)

// HWCAP returns the value Linux puts in AT_HWCAP: CPUID leaf 1 EDX.
func HWCAP() uint32 {
	_, _, _, d := cpuid(1, 0)
	return d
}

// CPUSignature identifies the emulated CPU model: a short digest of every
// CPUID leaf a guest can read. Traces record it, so a trace made by a ptrec
// whose CPU advertised other features is recognised instead of diverging.
func CPUSignature() string {
	h := uint64(14695981039346656037)
	mix := func(v uint32) {
		for i := 0; i < 4; i++ {
			h ^= uint64(byte(v >> (8 * i)))
			h *= 1099511628211
		}
	}
	for _, leaf := range []uint32{0, 1, 7, 0x80000000, 0x80000001, 0x80000008} {
		a, b, c, d := cpuid(leaf, 0)
		mix(leaf)
		mix(a)
		mix(b)
		mix(c)
		mix(d)
	}
	const hexdigits = "0123456789abcdef"
	var s [16]byte
	for i := range s {
		s[i] = hexdigits[h>>(60-4*uint(i))&0xf]
	}
	return string(s[:])
}
