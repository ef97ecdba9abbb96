package abi

import "testing"

func TestSyscallTable(t *testing.T) {
	tests := []struct {
		nr   int
		name string
		narg int
	}{
		{SYS_READ, "read", 3},
		{SYS_MMAP, "mmap", 6},
		{SYS_RT_SIGRETURN, "rt_sigreturn", 0},
		{SYS_PTRACE, "ptrace", 4},
		{SYS_CLONE, "clone", 5},
		{SYS_EXECVE, "execve", 3},
		{SYS_EXIT_GROUP, "exit_group", 1},
		{SYS_WAIT4, "wait4", 4},
		{SYS_FUTEX, "futex", 6},
		{SYS_OPENAT, "openat", 4},
		{SYS_NEWFSTATAT, "newfstatat", 4},
		{SYS_PREADV, "preadv", 5},
		{SYS_STATX, "statx", 5},
		{SYS_RSEQ, "rseq", 4},
		{SYS_CLONE3, "clone3", 2},
		{SYS_CLOSE_RANGE, "close_range", 3},
		{SYS_FACCESSAT2, "faccessat2", 4},
		{SYS_FUTEX_WAITV, "futex_waitv", 5},
		{SYS_MSEAL, "mseal", 3},
		{SYS_GETXATTRAT, "getxattrat", 6},
	}
	want := map[string]int{"read": 0, "ptrace": 101, "gettid": 186, "exit_group": 231,
		"openat": 257, "rseq": 334, "pidfd_send_signal": 424, "clone3": 435,
		"close_range": 436, "faccessat2": 439, "mseal": 462}
	for name, nr := range want {
		if got, ok := SyscallByName(name); !ok || got != nr {
			t.Errorf("SyscallByName(%q) = %d, %v; want %d", name, got, ok, nr)
		}
	}
	for _, tt := range tests {
		if got := SyscallName(tt.nr); got != tt.name {
			t.Errorf("SyscallName(%d) = %q, want %q", tt.nr, got, tt.name)
		}
		if got := SyscallNarg(tt.nr); got != tt.narg {
			t.Errorf("SyscallNarg(%s) = %d, want %d", tt.name, got, tt.narg)
		}
	}
	for nr := 0; nr <= MaxSyscall; nr++ {
		valid := nr < 335 || nr >= 424
		if SyscallValid(nr) != valid {
			t.Errorf("SyscallValid(%d) = %v", nr, !valid)
		}
		if n := SyscallNarg(nr); n < 0 || n > 6 {
			t.Errorf("SyscallNarg(%d) = %d", nr, n)
		}
	}
	if SyscallName(400) != "syscall_400" || SyscallName(-1) != "syscall_-1" || SyscallNarg(9999) != 0 {
		t.Error("unknown syscall handling")
	}
}
