// Package machine is ptrec's emulated amd64 CPU: user-mode register state,
// paged guest memory, an instruction decoder with a decoded-instruction
// cache, and an interpreter. It knows nothing of processes or system calls.
//
// # The run loop
//
// [CPU.Run] executes instructions until something only the kernel can
// handle, then returns an [Exit] saying why: a syscall instruction, int3,
// a single-step or debug-register trap, a fault (page fault with address and
// access kind, #GP, #UD, #DE, x87/SIMD exceptions), a nondeterministic
// instruction (rdtsc, rdtscp, rdrand, rdseed: the kernel supplies the value
// through [CPU.CompleteRdtsc] or [CPU.CompleteRdrand]), hlt, or the end of
// the instruction budget. The machine never calls back into the kernel.
//
// Faults are precise: a faulting instruction has no architectural effect,
// RIP stays at it and Icount is not incremented. (An interrupted rep string
// instruction keeps the iterations it completed, as on hardware.) An
// instruction that starts with TF set retires and then exits with
// ExitSingleStep; if that instruction itself exits (syscall, int3) that exit
// is reported instead and the kernel owes the trap. Execute breakpoints
// (DR0-3, DR7) exit before the instruction unless RF is set; data
// watchpoints exit after it, with the B0-B3 bits in DR6.
//
// # Decoding
//
// Instructions are decoded with golang.org/x/arch/x86/x86asm only on a
// decode-cache miss, plus a small fallback decoder for encodings x86asm
// does not know (endbr64, rdseed, lddqu, reserved hint nops). The result is
// a compact dinst (an op number, concrete operand descriptors, the
// memory-operand fields, immediates, and a fast-path kind) stored per page
// by offset. The hot loop switches on the fast-path kind and never decodes,
// allocates, or calls through interfaces.
//
// # Memory
//
// [Memory] keeps a sorted list of mappings and materializes a page only when
// it is written or executed, so large PROT_NONE reservations cost nothing.
// Page buffers are reference counted and copy-on-write: [Memory.Clone] (fork,
// checkpoints) copies no page, and [Memory.CollectDelta] keeps the previous
// contents of a page by sharing it, so the first write after a collect
// copies the page and the next collect compares the two. Decoded code lives
// with its page: every write path (guest stores, Write, WriteForce, Map,
// Unmap, Protect) drops it, and a generation counter tells every CPU sharing
// the Memory to flush its software TLB and fetch cache.
//
// # Arithmetic
//
// Integer flags are lazy: the last flag-setting operation's kind, size,
// operands and result are kept and the flags computed when read. SSE
// floating point computes correctly rounded results in all MXCSR rounding
// modes from float64 arithmetic plus exact residuals (TwoSum, FMA), with
// the x86 NaN rules applied explicitly so results do not depend on the host.
// The x87 uses a software 80-bit format with correctly rounded + - * / sqrt
// under the precision and rounding controls; the transcendental
// instructions (fsin, fcos, fsincos, fptan, fpatan, f2xm1, fyl2x, fyl2xp1)
// are evaluated in multi-precision arithmetic and rounded once to 64 bits
// (x87_trans.go), trig arguments reduced with the hardware's 66-bit pi.
//
// # Testing
//
// Besides table tests, diff_*_test.go run thousands of snippets natively
// (testdata/native_runner.c, built with gcc) and on the emulator from the
// same random states and compare registers, flags, vector registers and
// memory. Flags the manual leaves undefined are masked per instruction; where
// the manual leaves a choice to the implementation (FPREM's partial step,
// x87 denormal-operand reporting) the machine follows the AMD host the tests
// were written on.
//
// A CPU is not safe for concurrent use; the threads of a process share one
// Memory and run one at a time.
package machine
