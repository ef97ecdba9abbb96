package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// loggedSyscall is a syscall record as `ptrec dump --json` shows it.
type loggedSyscall struct {
	Tid      int32
	Icount   uint64
	Syscall  string
	Args     []uint64
	Ret      int64
	NoReturn bool `json:"no_return"`
}

// dumpedEvent is the part of a `ptrec dump --json` event these tests read.
type dumpedEvent struct {
	Kind     string
	Pid      int32
	Icount   uint64
	Request  string
	Op       any // a request's number, an input's name
	Target   int32
	Result   int64
	Errno    string
	Syscalls []loggedSyscall
}

func dumpEvents(t *testing.T, trace string) []dumpedEvent {
	t.Helper()
	r := runIn(t, t.TempDir(), "", ptrecBin, "dump", "--json", trace)
	if r.code != 0 {
		t.Fatalf("dump --json: exit %d, %s", r.code, r.stderr)
	}
	var evs []dumpedEvent
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev dumpedEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("dump line %q: %v", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestSyscallLogTailCLI records syslogtail guests whose last syscalls no
// stop fetched or that are killed, and checks with `ptrec dump --json` and
// `ptrec info --json` that the trace has every syscall each process
// completed, with its result, up to its end; each trace replays.
func TestSyscallLogTailCLI(t *testing.T) {
	const maxInsns = 1_000_000
	bin := filepath.Join(repoRoot, "testdata/bin/syslogtail.musl")
	cases := []struct {
		name  string
		flags []string
		args  []string
		code  int // exit code of record and replay
		lines int // writes of "line i\n" (7 bytes) to stdout
		// check looks at the syscalls of the trace in order, with the
		// trace's events and the end of the run
		check func(t *testing.T, scs []loggedSyscall, evs []dumpedEvent)
	}{
		{"self", nil, []string{"self", "7"}, 128 + 9, 7, func(t *testing.T, scs []loggedSyscall, evs []dumpedEvent) {
			last := scs[len(scs)-1]
			if last.Syscall != "kill" || last.Args[1] != 9 || last.Ret != 0 {
				t.Errorf("last syscall %+v, want kill(getpid(), SIGKILL) = 0", last)
			}
		}},
		{"parent", nil, []string{"parent", "9"}, 0, 9, func(t *testing.T, scs []loggedSyscall, evs []dumpedEvent) {
			// The child's write to the pipe and its read, cut by the
			// kill, precede the parent's kill.
			order := []string{"write", "read", "kill", "wait4"}
			i := 0
			for _, s := range scs {
				if i < len(order) && s.Syscall == order[i] && (i != 0 || s.Args[0] != 1) {
					i++
				}
			}
			if i != len(order) {
				t.Errorf("the trace lacks %s of the child's end (%d of %v)", order[i], i, order)
			}
		}},
		{"max-insns", []string{"--max-insns", "1000000"}, []string{"loop"}, 128 + 9, 0, func(t *testing.T, scs []loggedSyscall, evs []dumpedEvent) {
			// The limit kills the guest between two batch stops; its
			// last getppid calls (~5 instructions each) are in the
			// zombie's log, fetched after the kill.
			last := scs[len(scs)-1]
			if last.Syscall != "getppid" || last.Icount+16 < maxInsns {
				t.Errorf("last syscall %+v, want a getppid at most 16 instructions before %d", last, maxInsns)
			}
			killed := false
			for _, ev := range evs {
				if ev.Kind == "request" && ev.Op == float64(-1) { // kernel.PtraceKillAll
					killed = true
				}
				if killed && ev.Kind == "request" && ev.Request == "PT_PTREC_GETSYSLOG" && (ev.Result == 0 || ev.Errno != "") {
					t.Errorf("the zombie's log after the kill: %+v, want records", ev)
				}
			}
			if !killed {
				t.Error("no kill marker in the trace")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			trace := filepath.Join(dir, "t.ptrec")
			rec := runIn(t, dir, "", ptrecBin, append(append(append([]string{"record", "--seed", "1", "-o", trace}, tc.flags...), "--", bin), tc.args...)...)
			if rec.code != tc.code {
				t.Fatalf("record: exit %d, want %d; stderr %q", rec.code, tc.code, rec.stderr)
			}
			evs := dumpEvents(t, trace)
			var scs []loggedSyscall
			for _, ev := range evs {
				scs = append(scs, ev.Syscalls...)
			}
			if len(scs) == 0 {
				t.Fatal("no syscall in the trace")
			}
			lines := 0
			for _, s := range scs {
				if s.Syscall == "write" && s.Args[0] == 1 && s.Args[2] == 7 && s.Ret == 7 {
					lines++
				}
			}
			if lines != tc.lines {
				t.Errorf("%d writes of a line in the trace, want %d", lines, tc.lines)
			}
			if n := infoJSON(t, trace)["syscalls"]; n != float64(len(scs)) {
				t.Errorf("info: %v syscalls, dump: %d", n, len(scs))
			}
			tc.check(t, scs, evs)
			rep := runIn(t, dir, "", ptrecBin, "replay", trace)
			if rep.code != tc.code || rep.stdout != rec.stdout || strings.Contains(rep.stderr, "diverge") {
				t.Errorf("replay: exit %d, stdout %q, stderr %q; recorded exit %d, stdout %q", rep.code, rep.stdout, rep.stderr, rec.code, rec.stdout)
			}
		})
	}
}

// TestSyscallLogGuestDebuggerCLI runs syslogtail's guest debugger, which
// checks PT_PTREC_GETSYSLOG's bounds and fetches its SIGKILLed tracee's log
// from the zombie, under `ptrec run`, and records and replays it with
// fork-following off (the guest traces its own child).
func TestSyscallLogGuestDebuggerCLI(t *testing.T) {
	bin := filepath.Join(repoRoot, "testdata/bin/syslogtail.musl")
	dir := t.TempDir()
	run := runIn(t, dir, "", ptrecBin, "run", "--", bin, "debugger")
	if run.code != 0 || !strings.Contains(run.stdout, "ok debugger") {
		t.Fatalf("ptrec run: exit %d, stdout %q, stderr %q", run.code, run.stdout, run.stderr)
	}
	trace := filepath.Join(dir, "t.ptrec")
	rec := runIn(t, dir, "", ptrecBin, "record", "--follow-fork=false", "--seed", "1", "-o", trace, "--", bin, "debugger")
	if rec.code != 0 || rec.stdout != run.stdout {
		t.Fatalf("ptrec record: exit %d, stdout %q (run printed %q), stderr %q", rec.code, rec.stdout, run.stdout, rec.stderr)
	}
	rep := runIn(t, dir, "", ptrecBin, "replay", trace)
	if rep.code != 0 || rep.stdout != rec.stdout {
		t.Errorf("ptrec replay: exit %d, stdout %q, stderr %q", rep.code, rep.stdout, rep.stderr)
	}
}
