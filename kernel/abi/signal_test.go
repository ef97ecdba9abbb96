package abi

import "testing"

func TestSignals(t *testing.T) {
	for _, tt := range []struct {
		s    Signal
		n    int
		name string
		act  SigDisposition
	}{
		{SIGHUP, 1, "SIGHUP", SigActTerm}, {SIGQUIT, 3, "SIGQUIT", SigActCore},
		{SIGTRAP, 5, "SIGTRAP", SigActCore}, {SIGKILL, 9, "SIGKILL", SigActTerm},
		{SIGSEGV, 11, "SIGSEGV", SigActCore}, {SIGCHLD, 17, "SIGCHLD", SigActIgnore},
		{SIGCONT, 18, "SIGCONT", SigActCont}, {SIGSTOP, 19, "SIGSTOP", SigActStop},
		{SIGTTOU, 22, "SIGTTOU", SigActStop}, {SIGWINCH, 28, "SIGWINCH", SigActIgnore},
		{SIGSYS, 31, "SIGSYS", SigActCore}, {SIGRTMIN, 32, "SIGRTMIN", SigActTerm},
		{LibcSIGRTMIN, 34, "SIGRTMIN+2", SigActTerm}, {SIGRTMAX, 64, "SIGRTMIN+32", SigActTerm},
	} {
		if int(tt.s) != tt.n || tt.s.String() != tt.name || DefaultAction(tt.s) != tt.act {
			t.Errorf("%d: %v %v", tt.n, tt.s, DefaultAction(tt.s))
		}
	}
	if s, ok := SignalByName("TERM"); !ok || s != SIGTERM {
		t.Error("SignalByName")
	}
	m := SigsetOf(SIGINT, SIGRTMAX)
	if m != 1<<1|1<<63 || !m.Has(SIGRTMAX) || m.Del(SIGINT).Has(SIGINT) || m.Has(0) {
		t.Errorf("sigset %#x", m)
	}
}

func TestWaitStatus(t *testing.T) {
	for _, tt := range []struct {
		w    WaitStatus
		raw  uint32
		desc string
	}{
		{WaitExited(3), 0x300, "exited 3"},
		{WaitExited(0), 0, "exited 0"},
		{WaitSignaled(SIGSEGV, true), 0x8b, "signaled SIGSEGV (core)"},
		{WaitSignaled(SIGKILL, false), 9, "signaled SIGKILL"},
		{WaitStopped(SIGTRAP), 0x57f, "stopped SIGTRAP"},
		{WaitContinued, 0xffff, "continued"},
	} {
		if uint32(tt.w) != tt.raw || tt.w.String() != tt.desc {
			t.Errorf("%#x: got %#x %q, want %q", tt.raw, uint32(tt.w), tt.w, tt.desc)
		}
	}
	w := WaitStopped(SIGSTOP)
	if !w.Stopped() || w.StopSignal() != SIGSTOP || w.Exited() || w.Signaled() {
		t.Error("stopped predicates")
	}
	w = WaitSignaled(SIGABRT, true)
	if !w.Signaled() || !w.CoreDump() || w.Signal() != SIGABRT || w.Stopped() {
		t.Error("signaled predicates")
	}
}
