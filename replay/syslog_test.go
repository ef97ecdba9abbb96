package replay_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"ptrec/format"
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
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, rd.Header())
	if err != nil {
		t.Fatal(err)
	}
	seq, done := uint64(0), false
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		if !done && ev.Kind == format.KindSyscalls && len(ev.Syscalls.Records) >= 3 {
			ev.Syscalls.Records[2].Ret += 7
			seq, done = ev.Seq, true
		}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !done {
		t.Fatal("no syscalls event with 3 records to tamper with")
	}
	_, err = newReplayer(t, buf.Bytes()).Run()
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
