package kernel

import (
	"errors"
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
