package abi

import (
	"errors"
	"testing"
)

//go:noinline
func returnEINVAL() error { return EINVAL }

//go:noinline
func returnRestart() error { return ERESTARTSYS }

func TestErrnoNoAlloc(t *testing.T) {
	var sink error
	if n := testing.AllocsPerRun(100, func() { sink = returnEINVAL() }); n != 0 {
		t.Errorf("return EINVAL: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { sink = returnRestart() }); n != 0 {
		t.Errorf("return ERESTARTSYS: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = sink.Error() }); n != 0 {
		t.Errorf("Error(): %v allocs", n)
	}
	_ = sink
}

func TestErrnoTable(t *testing.T) {
	tests := []struct {
		e    Errno
		n    uint16
		name string
		msg  string
	}{
		{EPERM, 1, "EPERM", "operation not permitted"},
		{EINVAL, 22, "EINVAL", "invalid argument"},
		{ENAMETOOLONG, 36, "ENAMETOOLONG", "file name too long"},
		{ENOSYS, 38, "ENOSYS", "function not implemented"},
		{EWOULDBLOCK, 11, "EAGAIN", "resource temporarily unavailable"},
		{EOPNOTSUPP, 95, "EOPNOTSUPP", "operation not supported"},
		{ENOTSUP, 95, "EOPNOTSUPP", "operation not supported"},
		{EHWPOISON, 133, "EHWPOISON", "memory page has hardware error"},
		{ERESTARTSYS, 512, "ERESTARTSYS", ""},
		{ERESTARTNOINTR, 513, "ERESTARTNOINTR", ""},
		{ERESTARTNOHAND, 514, "ERESTARTNOHAND", ""},
		{ERESTART_RESTARTBLOCK, 516, "ERESTART_RESTARTBLOCK", ""},
	}
	for _, tt := range tests {
		if uint16(tt.e) != tt.n || tt.e.Name() != tt.name || tt.e.String() != tt.name {
			t.Errorf("%d: got %d %q", tt.n, tt.e, tt.e.Name())
		}
		if tt.msg != "" && tt.e.Error() != tt.msg {
			t.Errorf("%s.Error() = %q, want %q", tt.name, tt.e.Error(), tt.msg)
		}
		if got, ok := ErrnoByName(tt.name); !ok || got != tt.e {
			t.Errorf("ErrnoByName(%q) = %v, %v", tt.name, got, ok)
		}
	}
	for e := Errno(1); e <= MaxErrno; e++ {
		if e == 41 || e == 58 { // unused numbers in Linux
			continue
		}
		if _, _, ok := e.entry(); !ok {
			t.Errorf("errno %d has no name", e)
		}
	}
	if Errno(999).Error() != "errno 999" || Errno(41).Name() != "errno 41" {
		t.Errorf("unknown errno formatting: %q %q", Errno(999).Error(), Errno(41).Name())
	}
	var err error = EBUSY
	if !errors.Is(err, EBUSY) {
		t.Error("errors.Is(EBUSY, EBUSY) = false")
	}
	if !ERESTARTSYS.IsRestart() || EINTR.IsRestart() {
		t.Error("IsRestart")
	}
}

func BenchmarkReturnErrno(b *testing.B) {
	for b.Loop() {
		_ = returnEINVAL()
	}
}
