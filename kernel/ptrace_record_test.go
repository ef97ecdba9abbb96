package kernel_test

import (
	"os"
	"path/filepath"
	"testing"

	"ptrec/format"
	"ptrec/kernel/abi"
	"ptrec/kernel/hostos"
	"ptrec/record"
)

type eventSink struct{ evs []format.Event }

func (s *eventSink) Write(ev *format.Event) error {
	e := *ev // the recorder reuses its payloads: keep copies
	if ev.Stop != nil {
		st := *ev.Stop
		e.Stop = &st
	}
	if ev.Request != nil {
		rq := *ev.Request
		e.Request = &rq
	}
	if ev.Mem != nil {
		e.Mem = &format.MemDelta{Ranges: append([]format.MemRange(nil), ev.Mem.Ranges...)}
	}
	s.evs = append(s.evs, e)
	return nil
}

// TestRecorderSeesSeedStops records a guest that creates a thread, forks,
// and whose child execs, and checks that the recorder (a ptrace client with
// PT_SYSCALL and PT_FOLLOW_FORK) saw exactly the stops the seed
// prescribes: the exec stop first; on every thread, each syscall entry
// followed by the exit of the same syscall (exit_group has none; execve's
// exit is the exec stop); a new thread's first stop at the exit of clone;
// the fork parent's PL_FLAG_FORKED stop naming the child, and the child's
// PL_FLAG_CHILD stop at the exit of the same fork; then the exits.
func TestRecorderSeesSeedStops(t *testing.T) {
	prog, err := filepath.Abs("../testdata/bin/ptrace_test.musl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("no guest: %v", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	sink := &eventSink{}
	res, err := record.Record(record.Options{
		Path: prog, Argv: []string{prog, "forkexecthreads"}, Stops: record.StopsSyscallBoth,
		Host: hostos.New(null, null, null), Facts: hostos.Facts(),
		MaxInsns: 50_000_000,
	}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if ws := abi.WaitStatus(res.Status); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("guest status %#x, want exit 0", res.Status)
	}

	type thread struct {
		pid     int32
		stops   int
		inSC    bool   // between an SCE stop and its SCX stop
		code    uint32 // the syscall of the pending SCE
		sawExec bool
	}
	threads := map[int32]*thread{}
	var mainPid, forkChild, childStopPid int32
	var forkCode, childCode uint32
	exits := map[int32]int32{}
	nstops, newThreads := 0, 0
	for i, ev := range sink.evs {
		if ev.Kind != format.KindStop {
			continue
		}
		st := ev.Stop
		ws := abi.WaitStatus(st.Status)
		if !ws.Stopped() {
			exits[ev.Pid] = st.Status
			continue
		}
		nstops++
		th := threads[ev.Tid]
		if th == nil {
			th = &thread{pid: ev.Pid}
			threads[ev.Tid] = th
		}
		th.stops++
		fl := st.Flags
		if st.Event != abi.PL_EVENT_SIGNAL {
			t.Fatalf("event %d: pl_event %d at a stop", i, st.Event)
		}
		switch {
		case nstops == 1:
			if fl != abi.PL_FLAG_EXEC|abi.PL_FLAG_SCX || ws.StopSignal() != abi.SIGTRAP || st.SyscallCode != abi.SYS_EXECVE {
				t.Fatalf("first stop: flags %#x sig %v code %d, want the exec stop", fl, ws.StopSignal(), st.SyscallCode)
			}
			mainPid = ev.Pid
			th.sawExec = true
		case fl&abi.PL_FLAG_CHILD != 0:
			if fl != abi.PL_FLAG_CHILD|abi.PL_FLAG_SCX || ws.StopSignal() != abi.SIGSTOP || th.stops != 1 {
				t.Errorf("event %d: child stop flags %#x sig %v (stop %d of its thread)", i, fl, ws.StopSignal(), th.stops)
			}
			if childStopPid != 0 {
				t.Errorf("event %d: a second PL_FLAG_CHILD stop", i)
			}
			childStopPid, childCode = ev.Pid, st.SyscallCode
		case fl&abi.PL_FLAG_FORKED != 0:
			if fl != abi.PL_FLAG_FORKED|abi.PL_FLAG_SCX || ws.StopSignal() != abi.SIGTRAP || ev.Pid != mainPid || !th.inSC {
				t.Errorf("event %d: fork stop flags %#x pid %d", i, fl, ev.Pid)
			}
			if forkChild != 0 {
				t.Errorf("event %d: a second PL_FLAG_FORKED stop", i)
			}
			forkChild, forkCode = st.ChildPid, st.SyscallCode
			if st.SyscallCode != th.code {
				t.Errorf("event %d: fork stop code %d after entry of %d", i, st.SyscallCode, th.code)
			}
			th.inSC = false
		case fl&abi.PL_FLAG_EXEC != 0:
			if fl != abi.PL_FLAG_EXEC|abi.PL_FLAG_SCX || !th.inSC || th.code != abi.SYS_EXECVE || st.SyscallCode != abi.SYS_EXECVE {
				t.Errorf("event %d: exec stop flags %#x code %d after entry of %d", i, fl, st.SyscallCode, th.code)
			}
			th.inSC, th.sawExec = false, true
		case fl == abi.PL_FLAG_SCE:
			if th.inSC {
				t.Errorf("event %d: tid %d entered syscall %d inside %d", i, ev.Tid, st.SyscallCode, th.code)
			}
			if int(st.SyscallNarg) != abi.SyscallNarg(int(st.SyscallCode)) {
				t.Errorf("event %d: syscall %d narg %d", i, st.SyscallCode, st.SyscallNarg)
			}
			th.inSC, th.code = true, st.SyscallCode
		case fl == abi.PL_FLAG_SCX:
			switch {
			case th.inSC && st.SyscallCode == th.code:
				th.inSC = false
			case th.stops == 1 && ev.Pid == mainPid && st.SyscallCode == abi.SYS_CLONE:
				newThreads++ // a new thread returning from clone
			default:
				t.Errorf("event %d: tid %d exit of %d (in syscall %v, code %d)", i, ev.Tid, st.SyscallCode, th.inSC, th.code)
			}
		default:
			t.Errorf("event %d: unexpected stop flags %#x sig %v", i, fl, ws.StopSignal())
		}
		if fl&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) != 0 && ws.StopSignal() != abi.SIGTRAP && fl&abi.PL_FLAG_CHILD == 0 {
			t.Errorf("event %d: syscall stop with signal %v", i, ws.StopSignal())
		}
	}
	t.Logf("%d stops on %d threads, fork child %d, %d exits", nstops, len(threads), forkChild, len(exits))
	if forkChild == 0 || forkChild != childStopPid {
		t.Errorf("FORKED child pid %d, CHILD stop pid %d", forkChild, childStopPid)
	}
	if forkCode != childCode || (forkCode != abi.SYS_FORK && forkCode != abi.SYS_CLONE) {
		t.Errorf("fork stop code %d, child stop code %d", forkCode, childCode)
	}
	if newThreads != 1 {
		t.Errorf("%d new-thread clone exits, want 1", newThreads)
	}
	execs := 0
	for tid, th := range threads {
		if th.sawExec {
			execs++
		}
		if th.inSC && th.code != abi.SYS_EXIT_GROUP && th.code != abi.SYS_EXIT {
			t.Errorf("tid %d: syscall %d entered and never left", tid, th.code)
		}
	}
	if execs != 2 {
		t.Errorf("%d exec stops, want 2 (the program and its child)", execs)
	}
	if st, ok := exits[forkChild]; !ok || st != 7<<8 {
		t.Errorf("child exit %#x (seen %v), want exit 7", st, ok)
	}
	if st, ok := exits[mainPid]; !ok || st != 0 {
		t.Errorf("main exit %#x (seen %v), want exit 0", st, ok)
	}
	if last := sink.evs[len(sink.evs)-1]; last.Kind != format.KindExit {
		t.Errorf("last event kind %v, want exit", last.Kind)
	}
}
