package kernel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"ptrec/kernel/abi"
)

// Micro-benchmarks of the kernel's hot paths (issue 11, STYLE rule 42): the
// syscall round trip of an untraced guest and the ptrace stop round trip of
// a traced one. Both run a guest of a few bytes of machine code in a
// minimal static ELF written at benchmark time, so the numbers are the
// kernel's and the machine's, not a libc's.

// benchELF returns a static ELF64 executable whose single R+X segment,
// loaded at 0x400000, is code (entry at its first byte).
func benchELF(code []byte) []byte {
	const base, hdrs = 0x400000, 64 + 56
	var b bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: base + hdrs, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	size := uint64(hdrs + len(code))
	p := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000,
	}
	binary.Write(&b, binary.LittleEndian, &h)
	binary.Write(&b, binary.LittleEndian, &p)
	b.Write(code)
	return b.Bytes()
}

// getpidLoop is `mov rbx, n; 1: mov eax, SYS_getpid; syscall; dec rbx;
// jnz 1b; mov eax, SYS_exit_group; xor edi, edi; syscall`.
func getpidLoop(n uint64) []byte {
	code := []byte{0x48, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0} // mov rbx, imm64
	binary.LittleEndian.PutUint64(code[2:], n)
	return append(code,
		0xb8, byte(abi.SYS_GETPID), 0, 0, 0, // mov eax, 39
		0x0f, 0x05, // syscall
		0x48, 0xff, 0xcb, // dec rbx
		0x75, 0xf4, // jnz -12
		0xb8, byte(abi.SYS_EXIT_GROUP), 0, 0, 0, // mov eax, 231
		0x31, 0xff, // xor edi, edi
		0x0f, 0x05, // syscall
	)
}

// getpidForever is `1: mov eax, SYS_getpid; syscall; jmp 1b`.
var getpidForever = []byte{0xb8, byte(abi.SYS_GETPID), 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7}

func writeBenchGuest(b *testing.B, code []byte) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "guest")
	if err := os.WriteFile(path, benchELF(code), 0o755); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkSyscallRoundTrip measures one getpid of an untraced guest: the
// machine's syscall exit, the kernel's dispatch and the return to the guest
// (plus the three loop instructions around it). ns/op is per syscall.
func BenchmarkSyscallRoundTrip(b *testing.B) {
	path := writeBenchGuest(b, getpidLoop(uint64(b.N)))
	k := New(Config{Host: fileHost{}})
	parent := k.NewTracerProcess("parent")
	child, err := k.Spawn(parent, SpawnOptions{Path: path, Argv: []string{"guest"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	w, err := k.Wait4(parent, child.Pid, 0)
	b.StopTimer()
	if err != nil || !abi.WaitStatus(w.Status).Exited() || abi.WaitStatus(w.Status).ExitStatus() != 0 {
		b.Fatalf("Wait4 = %+v, %v; want exit 0", w, err)
	}
	b.ReportMetric(float64(k.Icount())/float64(b.N), "insns/op")
}

// BenchmarkPtraceStopRoundTrip measures one ptrace stop as a debugger sees
// it: PT_SYSCALL to resume the guest, then Wait4 until it stops again at
// the next syscall entry or exit (a guest doing nothing but getpid, so two
// stops per syscall). ns/op is per stop.
func BenchmarkPtraceStopRoundTrip(b *testing.B) {
	path := writeBenchGuest(b, getpidForever)
	k := New(Config{Host: fileHost{}})
	tracer := k.NewTracerProcess("tracer")
	child, err := k.Spawn(tracer, SpawnOptions{Path: path, Argv: []string{"guest"}, TraceMe: true})
	if err != nil {
		b.Fatal(err)
	}
	if w, err := k.Wait4(tracer, child.Pid, 0); err != nil || !abi.WaitStatus(w.Status).Stopped() {
		b.Fatalf("exec stop: Wait4 = %+v, %v", w, err)
	}
	caller := PtraceCaller{P: tracer}
	req := &PtraceRequest{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		*req = PtraceRequest{Op: abi.PT_SYSCALL, Pid: child.Pid, Addr: 1}
		if _, err := k.Ptrace(caller, req); err != nil {
			b.Fatalf("PT_SYSCALL: %v", err)
		}
		w, err := k.Wait4(tracer, child.Pid, 0)
		if err != nil || !abi.WaitStatus(w.Status).Stopped() {
			b.Fatalf("Wait4 = %+v, %v; want a stop", w, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(k.Icount())/float64(b.N), "insns/op")
	k.Kill(child)
}

// BenchmarkRecorderStop adds what the recorder asks at every stop
// (PT_LWPINFO, PT_GETREGS) to the ptrace round trip, so the difference to
// BenchmarkPtraceStopRoundTrip is the cost of inspecting a stop.
func BenchmarkRecorderStop(b *testing.B) {
	path := writeBenchGuest(b, getpidForever)
	k := New(Config{Host: fileHost{}})
	tracer := k.NewTracerProcess("tracer")
	child, err := k.Spawn(tracer, SpawnOptions{Path: path, Argv: []string{"guest"}, TraceMe: true})
	if err != nil {
		b.Fatal(err)
	}
	if w, err := k.Wait4(tracer, child.Pid, 0); err != nil || !abi.WaitStatus(w.Status).Stopped() {
		b.Fatalf("exec stop: Wait4 = %+v, %v", w, err)
	}
	caller := PtraceCaller{P: tracer}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := k.Ptrace(caller, &PtraceRequest{Op: abi.PT_SYSCALL, Pid: child.Pid, Addr: 1}); err != nil {
			b.Fatalf("PT_SYSCALL: %v", err)
		}
		w, err := k.Wait4(tracer, child.Pid, 0)
		if err != nil || !abi.WaitStatus(w.Status).Stopped() {
			b.Fatalf("Wait4 = %+v, %v; want a stop", w, err)
		}
		if _, err := k.Ptrace(caller, &PtraceRequest{Op: abi.PT_LWPINFO, Pid: child.Pid, Data: abi.PtraceLwpinfoSize}); err != nil {
			b.Fatalf("PT_LWPINFO: %v", err)
		}
		if _, err := k.Ptrace(caller, &PtraceRequest{Op: abi.PT_GETREGS, Pid: child.Pid}); err != nil {
			b.Fatalf("PT_GETREGS: %v", err)
		}
	}
	b.StopTimer()
	k.Kill(child)
}
