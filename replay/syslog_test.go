package replay_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"ptrec/format"
	"ptrec/record"
	"ptrec/replay"
)

// TestSyscallLogDivergence changes one logged syscall's result in a copy of
// a trace (default policy syscall-log): replay re-executes the guest, whose
// kernel logs the real result, and reports a divergence at that syscalls
// event naming the syscall's position, name and both results.
func TestSyscallLogDivergence(t *testing.T) {
	trace := recordTrace(t, "files.musl")
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	if rd.Header().Stops != "syscall-log" {
		t.Fatalf("trace recorded with stops %q, want the default syscall-log", rd.Header().Stops)
	}
	bad, seq := rewriteEvent(t, trace, func(ev *format.Event) bool {
		if ev.Kind != format.KindSyscalls || len(ev.Syscalls.Records) < 3 {
			return false
		}
		ev.Syscalls.Records[2].Ret += 7
		return true
	})
	_, err = newReplayer(t, bad).Run()
	var d *replay.Divergence
	if !errors.As(err, &d) || d.Seq != seq {
		t.Fatalf("replay with a logged result changed at #%d = %v, want a divergence there", seq, err)
	}
	if !strings.Contains(d.What, "syscall 3 of") || !strings.Contains(d.Want, ") = ") || d.Want == d.Got {
		t.Errorf("divergence %q does not name the third syscall with both results", d.Error())
	}
	// The untouched trace replays.
	if _, err := newReplayer(t, trace).Run(); err != nil {
		t.Fatalf("replay of the recorded trace: %v", err)
	}
}

// TestSyscallLogPageBudgetWithCheckpoints records a guest that writes 16
// pages between syscalls with a syscall-log page budget of 24 pages, so
// that batch stops come from the page count, then replays it with
// checkpoints every 20,000 instructions: a checkpoint shares the guest's
// pages, so writes after it copy pages the delta had already counted, and
// the stops must not depend on that.
func TestSyscallLogPageBudgetWithCheckpoints(t *testing.T) {
	trace := recordTraceOpts(t, record.Options{SyslogPages: 24}, "spin.musl", "mem", "4")
	r := newReplayer(t, trace)
	r.SetCheckpointPolicy(20_000, 0)
	for {
		st, err := r.Continue()
		if err != nil {
			t.Fatalf("replay with checkpoints: %v", err)
		}
		if st.Reason == replay.StopEnd {
			break
		}
	}
	if n := len(r.Checkpoints()); n < 10 {
		t.Errorf("%d checkpoints, want many", n)
	}
}
