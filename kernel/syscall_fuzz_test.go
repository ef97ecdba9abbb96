package kernel

import (
	"testing"

	"ptrec/kernel/abi"
)

// FuzzSyscall calls syscall handlers with arbitrary numbers and arguments,
// as a hostile guest would: every call returns a value or an errno (or
// blocks, or ends the process), never a panic or an emulator error.
func FuzzSyscall(f *testing.F) {
	f.Add(uint16(abi.SYS_MMAP), uint64(0), uint64(4096), uint64(3), uint64(0x22), uint64(0xffffffffffffffff), uint64(0))
	f.Add(uint16(abi.SYS_READ), uint64(0), uint64(0x1000), uint64(1<<40), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(abi.SYS_PTRACE), uint64(abi.PT_IO), uint64(1), uint64(0x400000), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(abi.SYS_CLONE), uint64(0x7fffffff), uint64(0), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(abi.SYS_FUTEX), uint64(0x400000), uint64(9), uint64(0), uint64(8), uint64(0), uint64(0))
	f.Add(uint16(abi.SYS_RT_SIGACTION), uint64(11), uint64(0x400000), uint64(0), uint64(8), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, nr uint16, a0, a1, a2, a3, a4, a5 uint64) {
		k, _, child := spawnUntraced(t)
		// From here on the guest reaches no host file.
		k.host = noFilesHost{}
		th := child.threads[0]
		th.sc = syscallArgs{code: uint32(nr) % uint32(abi.MaxSyscall+1), args: [6]uint64{a0, a1, a2, a3, a4, a5}}
		th.inSyscall = true
		res := k.dispatch(th)
		if k.fatal != nil {
			t.Fatalf("syscall %s(%#x, %#x, %#x, %#x, %#x, %#x): emulator error %v",
				abi.SyscallName(int(th.sc.code)), a0, a1, a2, a3, a4, a5, k.fatal)
		}
		_ = res
	})
}

// spawnUntraced starts the test guest untraced, stopped before its first
// instruction (nothing runs it).
func spawnUntraced(t *testing.T) (*Kernel, *Process, *Process) {
	t.Helper()
	k := New(Config{Host: fileHost{}})
	parent := k.NewTracerProcess("parent")
	child, err := k.Spawn(parent, SpawnOptions{Path: testGuest, Argv: []string{"echoargs"}})
	if err != nil {
		t.Skipf("no test guest: %v", err)
	}
	return k, parent, child
}
