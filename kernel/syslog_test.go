package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// TestSyscallLogAgainstStops traces the test guest twice: once stopping at
// every syscall's entry and exit (PT_SYSCALL), reading the arguments at the
// entry and rax at the exit as a debugger would, and once with the syscall
// log and a batch of 3. The log must hold exactly the syscalls the stops
// saw — number, arguments, result, the rip after the syscall instruction
// and the instruction count at entry — and the logging run must stop at
// the entry of the syscall after every 3 logged ones and at exit_group.
func TestSyscallLogAgainstStops(t *testing.T) {
	type sc struct {
		code     uint32
		args     [6]uint64
		ret      int64
		rip, ic  uint64
		noReturn bool
	}
	req := func(k *Kernel, tracer *Process, op int, pid int32, addr uint64, data int64) PtraceResult {
		t.Helper()
		res, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: op, Pid: pid, Addr: addr, Data: data})
		if err != nil {
			t.Fatalf("%s: %v", abi.PtraceRequestName(op), err)
		}
		return res
	}

	// Every syscall from its entry and exit stops.
	var want []sc
	{
		k, tracer, child := stoppedTraced(t)
		var cur sc
		for {
			req(k, tracer, abi.PT_SYSCALL, child.Pid, 1, 0)
			w, err := k.Wait4(tracer, child.Pid, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !abi.WaitStatus(w.Status).Stopped() {
				break
			}
			th := child.threads[0]
			regs := &th.cpu.Regs
			switch {
			case th.dbgflags&TDB_SCE != 0:
				cur = sc{code: uint32(regs[machine.RAX]), args: [6]uint64{regs[machine.RDI], regs[machine.RSI], regs[machine.RDX], regs[machine.R10], regs[machine.R8], regs[machine.R9]},
					rip: th.cpu.RIP, ic: k.Icount()}
				if endsThread(cur.code) {
					cur.noReturn = true
					want = append(want, cur)
				}
			case th.dbgflags&TDB_SCX != 0:
				cur.ret = int64(regs[machine.RAX])
				want = append(want, cur)
			}
		}
	}
	if len(want) < 5 {
		t.Fatalf("only %d syscalls seen at stops", len(want))
	}

	// The same run with the log.
	const batch = 3
	k, tracer, child := stoppedTraced(t)
	req(k, tracer, PT_PTREC_SYSLOG, child.Pid, 0, batch)
	var got []sc
	stops := 0
	for {
		req(k, tracer, abi.PT_CONTINUE, child.Pid, 1, 0)
		w, err := k.Wait4(tracer, child.Pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !abi.WaitStatus(w.Status).Stopped() {
			break
		}
		stops++
		th := child.threads[0]
		if th.dbgflags&TDB_SCE == 0 {
			t.Fatalf("stop %d is not at a syscall entry (flags %#x)", stops, th.dbgflags)
		}
		res := req(k, tracer, PT_PTREC_GETSYSLOG, child.Pid, 0, 0)
		if int(res.Ret) != len(res.Out)/SyscallRecordSize || len(res.Out)%SyscallRecordSize != 0 {
			t.Fatalf("GETSYSLOG returned %d records in %d bytes", res.Ret, len(res.Out))
		}
		code := uint32(th.cpu.Regs[machine.RAX])
		if n := int(res.Ret); n != batch && !(endsThread(code) && n <= batch+1) { // exit_group is logged at its entry
			t.Errorf("stop %d at %s with %d records logged, want a stop after every %d or at exit", stops, abi.SyscallName(int(code)), n, batch)
		}
		DecodeSyscallLog(res.Out, func(r *SyscallRecord) {
			if r.Tid != th.Tid {
				t.Errorf("record of tid %d, want %d", r.Tid, th.Tid)
			}
			got = append(got, sc{code: r.Code, args: r.Args, ret: r.Ret, rip: r.RIP, ic: r.Icount, noReturn: r.Flags&SyscallNoReturn != 0})
		})
	}
	if len(got) != len(want) {
		t.Fatalf("log has %d syscalls, stops saw %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.noReturn {
			w.ret = 0 // logged at entry: no result
		}
		if g != w {
			t.Errorf("syscall %d: log %+v, stops %+v", i, g, w)
		}
	}
	if min := (len(want) - 1) / batch; stops < min {
		t.Errorf("%d stops for %d syscalls in batches of %d", stops, len(want), batch)
	}
}

// TestSyscallLogRequests checks the requests' argument checks, that a
// process that does not log returns an empty log, and that the log is the
// debugger's: detaching drops it.
func TestSyscallLogRequests(t *testing.T) {
	k, tracer, child := stoppedTraced(t)
	call := func(op int, addr uint64, data int64) (PtraceResult, error) {
		return k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: op, Pid: child.Pid, Addr: addr, Data: data})
	}
	for _, tc := range []struct {
		addr uint64
		data int64
	}{{0, -1}, {0, PtrecMaxSyslogBatch + 1}, {PtrecMaxDeltaPages + 1, 4}} {
		if _, err := call(PT_PTREC_SYSLOG, tc.addr, tc.data); !errors.Is(err, abi.EINVAL) {
			t.Errorf("PT_PTREC_SYSLOG addr %d data %d = %v, want EINVAL", tc.addr, tc.data, err)
		}
	}
	if res, err := call(PT_PTREC_GETSYSLOG, 0, 0); err != nil || res.Ret != 0 || len(res.Out) != 0 {
		t.Errorf("GETSYSLOG without a log = (%d, %d bytes, %v), want an empty log", res.Ret, len(res.Out), err)
	}
	if _, err := call(PT_PTREC_SYSLOG, 0, 1); err != nil {
		t.Fatal(err)
	}
	// One syscall logged, then the batch stop at the next entry.
	if _, err := call(abi.PT_CONTINUE, 1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Wait4(tracer, child.Pid, 0); err != nil {
		t.Fatal(err)
	}
	if child.sclog == nil || child.sclog.n() != 1 {
		t.Fatalf("log after the batch stop: %+v, want 1 record", child.sclog)
	}
	// Stopping the log keeps what is logged until it is fetched.
	if _, err := call(PT_PTREC_SYSLOG, 0, 0); err != nil {
		t.Fatal(err)
	}
	if res, err := call(PT_PTREC_GETSYSLOG, 0, 0); err != nil || res.Ret != 1 {
		t.Errorf("GETSYSLOG after stopping the log = (%d, %v), want the 1 record", res.Ret, err)
	}
	if child.sclog != nil {
		t.Error("the log is still there after it was stopped and fetched")
	}
	if _, err := call(PT_PTREC_SYSLOG, 0, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := call(abi.PT_DETACH, 1, 0); err != nil {
		t.Fatal(err)
	}
	if child.sclog != nil {
		t.Error("the log survived PT_DETACH")
	}
}

// loggedThenKilled traces the test guest with a log of batch n, runs it to
// its batch stop (n records logged) and kills it there without a fetch, as
// the recorder's KillAll kills: the zombie holds the n records.
func loggedThenKilled(t *testing.T, n int) (*Kernel, *Process, *Process) {
	t.Helper()
	k, tracer, child := stoppedTraced(t)
	for _, r := range []PtraceRequest{{Op: PT_PTREC_SYSLOG, Data: int64(n)}, {Op: abi.PT_CONTINUE, Addr: 1}} {
		r.Pid = child.Pid
		if _, err := k.Ptrace(PtraceCaller{P: tracer}, &r); err != nil {
			t.Fatalf("%s: %v", abi.PtraceRequestName(r.Op), err)
		}
	}
	w, err := k.Wait4(tracer, child.Pid, 0)
	if err != nil || !abi.WaitStatus(w.Status).Stopped() || child.sclog.n() != n {
		t.Fatalf("wait4 = %+v, %v with %d records logged; want the batch stop after %d", w, err, child.sclog.n(), n)
	}
	k.Kill(child)
	return k, tracer, child
}

// TestSyscallLogOfZombie checks that a traced process killed without a stop
// keeps its log as a zombie, that only its debugger fetches it, with only
// PT_PTREC_GETSYSLOG and only until it reaps the zombie.
func TestSyscallLogOfZombie(t *testing.T) {
	k, tracer, child := loggedThenKilled(t, 4)
	other := k.NewTracerProcess("other")
	call := func(caller *Process, op int, addr uint64, data int64) (PtraceResult, error) {
		return k.Ptrace(PtraceCaller{P: caller}, &PtraceRequest{Op: op, Pid: child.Pid, Addr: addr, Data: data})
	}
	w, err := k.Wait4(tracer, -1, abi.WALL|abi.WNOWAIT)
	if err != nil || w.Pid != child.Pid || !abi.WaitStatus(w.Status).Signaled() {
		t.Fatalf("wait4 WNOWAIT = %+v, %v; want the killed child", w, err)
	}
	if _, err := call(other, PT_PTREC_GETSYSLOG, 0, 0); !errors.Is(err, abi.ESRCH) {
		t.Errorf("GETSYSLOG of the zombie by another process = %v, want ESRCH", err)
	}
	for _, op := range []int{PT_PTREC_SYSLOG, abi.PT_GETNUMLWPS, PT_PTREC_GETDELTA} {
		if _, err := call(tracer, op, 0, 1); !errors.Is(err, abi.ESRCH) {
			t.Errorf("%s on the zombie = %v, want ESRCH", abi.PtraceRequestName(op), err)
		}
	}
	res, err := call(tracer, PT_PTREC_GETSYSLOG, 0, 3)
	if err != nil || res.Ret != 3 || len(res.Out) != 3*SyscallRecordSize {
		t.Fatalf("GETSYSLOG of the zombie, capacity 3 = (%d, %d bytes, %v), want 3 records", res.Ret, len(res.Out), err)
	}
	res, err = call(tracer, PT_PTREC_GETSYSLOG, 0, 0)
	if err != nil || res.Ret != 1 || len(res.Out) != SyscallRecordSize {
		t.Fatalf("GETSYSLOG of the rest = (%d, %d bytes, %v), want 1 record", res.Ret, len(res.Out), err)
	}
	if child.sclog != nil {
		t.Error("the zombie keeps an empty log")
	}
	if res, err = call(tracer, PT_PTREC_GETSYSLOG, 0, 0); err != nil || res.Ret != 0 {
		t.Errorf("GETSYSLOG of the emptied zombie = (%d, %v), want 0 records", res.Ret, err)
	}
	if w2, err := k.Wait4(tracer, child.Pid, abi.WALL|abi.WNOHANG); err != nil || w2 != w {
		t.Fatalf("the reaping wait4 = %+v, %v; want %+v", w2, err, w)
	}
	if _, err := call(tracer, PT_PTREC_GETSYSLOG, 0, 0); !errors.Is(err, abi.ESRCH) {
		t.Errorf("GETSYSLOG after the reap = %v, want ESRCH", err)
	}

	// Reaped without a fetch, the log goes with the zombie.
	k, tracer, child = loggedThenKilled(t, 2)
	if _, err := k.Wait4(tracer, child.Pid, abi.WALL); err != nil {
		t.Fatal(err)
	}
	if child.sclog != nil {
		t.Error("a reaped zombie keeps its log")
	}
}

// TestSyscallLogFetchBounds checks PT_PTREC_GETSYSLOG's capacity (data) for
// a tracer with tracer memory, where the records go to addr (as a guest
// debugger's), and for one without, where they are the output.
func TestSyscallLogFetchBounds(t *testing.T) {
	const rs = SyscallRecordSize
	cases := []struct {
		name    string
		mem     int // tracer memory of mem bytes (-1: none)
		addr    uint64
		data    int64
		errno   abi.Errno
		ret     int64
		written int // bytes written at addr (records)
		left    int // records left in the log
	}{
		{"mem capacity 0", 10 * rs, 0, 0, abi.EINVAL, 0, 0, 5},
		{"mem capacity -1", 10 * rs, 0, -1, abi.EINVAL, 0, 0, 5},
		{"mem capacity 2", 10 * rs, rs, 2, 0, 2, 2 * rs, 3},
		{"mem capacity 5", 10 * rs, 0, 5, 0, 5, 5 * rs, 0},
		{"mem capacity 100", 10 * rs, 0, 100, 0, 5, 5 * rs, 0},
		{"mem buffer past the end", 10 * rs, 8*rs + 1, 2, abi.EFAULT, 0, 0, 5},
		{"mem buffer at a huge address", 10 * rs, ^uint64(0) - 10, 1, abi.EFAULT, 0, 0, 5},
		{"out capacity -1", -1, 0, -1, abi.EINVAL, 0, 0, 5},
		{"out capacity 0 (all)", -1, 0, 0, 0, 5, 0, 0},
		{"out capacity 3", -1, 0, 3, 0, 3, 0, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, tracer, child := loggedThenKilled(t, 5)
			var want [5]SyscallRecord
			copy(want[:], child.sclog.recs)
			r := &PtraceRequest{Op: PT_PTREC_GETSYSLOG, Pid: child.Pid, Addr: tc.addr, Data: tc.data}
			var mem BufferMem
			if tc.mem >= 0 {
				mem = make(BufferMem, tc.mem)
				for i := range mem {
					mem[i] = 0xa5
				}
				r.Mem = mem
			}
			res, err := k.Ptrace(PtraceCaller{P: tracer}, r)
			if tc.errno != 0 {
				if !errors.Is(err, tc.errno) {
					t.Fatalf("err = %v, want %s", err, tc.errno.Name())
				}
			} else if err != nil || res.Ret != tc.ret {
				t.Fatalf("= (%d, %v), want %d records", res.Ret, err, tc.ret)
			}
			left := 0
			if child.sclog != nil {
				left = child.sclog.n()
			}
			if left != tc.left {
				t.Errorf("%d records left in the log, want %d", left, tc.left)
			}
			got := res.Out
			if tc.mem >= 0 {
				if len(res.Out) != 0 {
					t.Errorf("%d bytes of output with tracer memory, want none", len(res.Out))
				}
				for i, b := range mem {
					inside := uint64(i) >= tc.addr && uint64(i) < tc.addr+uint64(tc.written)
					if !inside && b != 0xa5 {
						t.Fatalf("byte %d of the tracer's buffer written, outside the %d records at %d", i, tc.ret, tc.addr)
					}
				}
				if tc.written > 0 {
					got = mem[tc.addr : tc.addr+uint64(tc.written)]
				}
			} else if tc.errno == 0 && len(got) != int(tc.ret)*rs {
				t.Errorf("%d bytes of output for %d records", len(got), tc.ret)
			}
			i := 0
			DecodeSyscallLog(got, func(r *SyscallRecord) {
				if *r != want[i] {
					t.Errorf("record %d = %+v, want %+v", i, *r, want[i])
				}
				i++
			})
			if tc.left > 0 && tc.errno == 0 && child.sclog.recs[0] != want[tc.ret] {
				t.Errorf("the log goes on with %+v, want record %d", child.sclog.recs[0], tc.ret)
			}
		})
	}
}

// TestSyscallLogGuestDebugger runs syslogtail's guest debugger: it checks
// PT_PTREC_GETSYSLOG's EINVAL and EFAULT cases and capacity through
// syscall 101, and fetches the log of its SIGKILLed tracee from the zombie
// (testdata/c/syslogtail.c).
func TestSyscallLogGuestDebugger(t *testing.T) {
	prog, err := filepath.Abs("../testdata/bin/syslogtail.musl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("no guest: %v", err)
	}
	st, out, errs := runGuest(t, prog, "debugger")
	if st != 0 || !strings.Contains(out, "ok debugger") {
		t.Errorf("syslogtail debugger: status %#x, stdout %q, stderr %q", st, out, errs)
	}
}
