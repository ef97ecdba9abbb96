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

// TestSyscallLogDivergence changes one logged syscall in a copy of a trace
// (default policy syscall-log), one field at a time: replay re-executes the
// guest, whose kernel logs the real syscall, and reports a divergence at
// that syscalls event naming the syscall's position and name with both
// versions of the changed field. A record dropped from the event or added
// to it is a divergence in the number of syscalls logged.
func TestSyscallLogDivergence(t *testing.T) {
	trace := recordTrace(t, "files.musl")
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	if rd.Header().Stops != "syscall-log" {
		t.Fatalf("trace recorded with stops %q, want the default syscall-log", rd.Header().Stops)
	}
	for _, tc := range []struct {
		name string
		edit func(recs []format.Syscall) []format.Syscall
		what string // in the divergence's What
		show string // in both Want and Got (if not "")
	}{
		{"result", func(recs []format.Syscall) []format.Syscall { recs[2].Ret += 7; return recs }, "syscall 3 of", ") = "},
		{"argument", func(recs []format.Syscall) []format.Syscall { recs[2].Args[1] ^= 0x1000; return recs }, "syscall 3 of", ", rip "},
		{"last argument", func(recs []format.Syscall) []format.Syscall { recs[2].Args[5]++; return recs }, "syscall 3 of", ", rip "},
		{"rip", func(recs []format.Syscall) []format.Syscall { recs[2].RIP += 2; return recs }, "syscall 3 of", ", rip 0x"},
		{"icount", func(recs []format.Syscall) []format.Syscall { recs[2].Icount++; return recs }, "syscall 3 of", "at instruction "},
		{"tid", func(recs []format.Syscall) []format.Syscall { recs[2].Tid++; return recs }, "syscall 3 of", "tid "},
		{"code", func(recs []format.Syscall) []format.Syscall { recs[2].Code ^= 0x200; return recs }, "syscall 3 of", ""},
		{"flags", func(recs []format.Syscall) []format.Syscall { recs[2].Flags ^= 2; return recs }, "syscall 3 of", ""},
		{"first", func(recs []format.Syscall) []format.Syscall { recs[0].Ret--; return recs }, "syscall 1 of", ") = "},
		{"dropped", func(recs []format.Syscall) []format.Syscall { return recs[:len(recs)-1] }, "syscalls logged", ""},
		{"added", func(recs []format.Syscall) []format.Syscall { return append(recs, recs[len(recs)-1]) }, "syscalls logged", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, seq := rewriteEvent(t, trace, func(ev *format.Event) bool {
				if ev.Kind != format.KindSyscalls || len(ev.Syscalls.Records) < 3 {
					return false
				}
				ev.Syscalls.Records = tc.edit(ev.Syscalls.Records)
				return true
			})
			_, err = newReplayer(t, bad).Run()
			var d *replay.Divergence
			if !errors.As(err, &d) || d.Seq != seq {
				t.Fatalf("replay with a logged syscall's %s changed at #%d = %v, want a divergence there", tc.name, seq, err)
			}
			if !strings.Contains(d.What, tc.what) || d.Want == d.Got || !strings.Contains(d.Want, tc.show) || !strings.Contains(d.Got, tc.show) {
				t.Errorf("divergence %q does not say %q with both versions", d.Error(), tc.what)
			}
		})
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
