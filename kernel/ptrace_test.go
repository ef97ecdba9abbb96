package kernel

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// fileHost is a Host that serves executables from the host filesystem and
// fixed answers for everything else: enough to spawn guests in tests.
type fileHost struct{}

func (fileHost) Call(c *HostCall) HostReply {
	switch c.Op {
	case HostStat:
		st, err := os.Stat(c.Path)
		if err != nil {
			return HostReply{Errno: abi.ENOENT}
		}
		s := abi.Stat{Mode: abi.S_IFREG | uint32(st.Mode().Perm()), Size: st.Size(), Nlink: 1}
		b := make([]byte, abi.StatSize)
		s.Marshal(b)
		return HostReply{Out: b}
	case HostReadFile:
		b, err := os.ReadFile(c.Path)
		if err != nil {
			return HostReply{Errno: abi.ENOENT}
		}
		return HostReply{Ret: int64(len(b)), Out: b}
	case HostRandom:
		return HostReply{Ret: c.Args[0], Out: make([]byte, c.Args[0])}
	case HostWrite:
		return HostReply{Ret: int64(len(c.In))}
	case HostRead, HostPread:
		return HostReply{}
	case HostFstat:
		b := make([]byte, abi.StatSize)
		s := abi.Stat{Mode: abi.S_IFCHR | 0o620}
		s.Marshal(b)
		return HostReply{Out: b}
	}
	return HostReply{Errno: abi.ENOTTY}
}

const testGuest = "../testdata/bin/echoargs.musl"

// spawnTraced starts the test guest traced by a tracer process and waits
// for its exec stop.
func spawnTraced(t *testing.T) (*Kernel, *Process, *Process) {
	t.Helper()
	if _, err := os.Stat(testGuest); err != nil {
		t.Skipf("no test guest: %v", err)
	}
	k := New(Config{Host: fileHost{}})
	tracer := k.NewTracerProcess("tracer")
	child, err := k.Spawn(tracer, SpawnOptions{Path: testGuest, Argv: []string{"echoargs"}, TraceMe: true})
	if err != nil {
		t.Fatal(err)
	}
	return k, tracer, child
}

func TestPtraceErrors(t *testing.T) {
	defer setXSAVE(false)() // the cases include xstate requests on a CPU without XSAVE
	k, tracer, child := spawnTraced(t)
	other := k.NewTracerProcess("other")
	req := func(caller *Process, op int, pid int32, data int64) error {
		_, err := k.Ptrace(PtraceCaller{P: caller}, &PtraceRequest{Op: op, Pid: pid, Addr: 1, Data: data})
		return err
	}
	// Before wait4 has reported the exec stop, the child is not "waited".
	if err := req(tracer, abi.PT_CONTINUE, child.Pid, 0); !errors.Is(err, abi.EBUSY) {
		t.Errorf("PT_CONTINUE before wait4 = %v, want EBUSY", err)
	}
	w, err := k.Wait4(tracer, child.Pid, 0)
	if err != nil || !abi.WaitStatus(w.Status).Stopped() || abi.WaitStatus(w.Status).StopSignal() != abi.SIGTRAP {
		t.Fatalf("Wait4 = %+v, %v; want a SIGTRAP stop", w, err)
	}
	cases := []struct {
		name   string
		caller *Process
		op     int
		pid    int32
		data   int64
		want   abi.Errno
	}{
		{"no such pid", tracer, abi.PT_CONTINUE, 4242, 0, abi.ESRCH},
		{"no such tid", tracer, abi.PT_CONTINUE, abi.PID_MAX + 4242, 0, abi.ESRCH},
		{"system process", tracer, abi.PT_ATTACH, 1, 0, abi.EINVAL},
		{"attach self", child, abi.PT_ATTACH, child.Pid, 0, abi.EINVAL},
		{"attach traced", other, abi.PT_ATTACH, child.Pid, 0, abi.EBUSY},
		{"traced by someone else", other, abi.PT_CONTINUE, child.Pid, 0, abi.EBUSY},
		{"bad signal", tracer, abi.PT_CONTINUE, child.Pid, abi.SIG_MAXSIG + 1, abi.EINVAL},
		{"negative signal", tracer, abi.PT_STEP, child.Pid, -1, abi.EINVAL},
		{"lwpinfo size 0", tracer, abi.PT_LWPINFO, child.Pid, 0, abi.EINVAL},
		{"lwpinfo too big", tracer, abi.PT_LWPINFO, child.Pid, abi.PtraceLwpinfoSize + 1, abi.EINVAL},
		{"getlwplist data 0", tracer, abi.PT_GETLWPLIST, child.Pid, 0, abi.EINVAL},
		{"unknown request", tracer, 3, child.Pid, 0, abi.EINVAL},
		{"unknown machine request", tracer, 120, child.Pid, 0, abi.EINVAL},
		{"xstate without XSAVE", tracer, abi.PT_GETXSTATE, child.Pid, 0, abi.EOPNOTSUPP},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := req(tc.caller, tc.op, tc.pid, tc.data); !errors.Is(err, tc.want) {
				t.Errorf("Ptrace(%s, %d, data=%d) = %v, want %s", abi.PtraceRequestName(tc.op), tc.pid, tc.data, err, tc.want.Name())
			}
		})
	}
	// Reading unmapped memory is ENOMEM (seed), a bad PIOD op EINVAL.
	if _, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_READ_D, Pid: child.Pid, Addr: 0x10}); !errors.Is(err, abi.ENOMEM) {
		t.Errorf("PT_READ_D of unmapped memory = %v, want ENOMEM", err)
	}
	d := abi.PtraceIoDesc{Op: 9, Len: 4}
	in := make([]byte, abi.PtraceIoDescSize)
	d.Marshal(in)
	if _, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_IO, Pid: child.Pid, In: in, Mem: BufferMem(make([]byte, 4))}); !errors.Is(err, abi.EINVAL) {
		t.Errorf("PT_IO with a bad op = %v, want EINVAL", err)
	}
	// A request on an untraced process is EPERM.
	if _, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_DETACH, Pid: child.Pid, Addr: 1}); err != nil {
		t.Fatalf("PT_DETACH = %v", err)
	}
	if err := req(tracer, abi.PT_CONTINUE, child.Pid, 0); !errors.Is(err, abi.EPERM) {
		t.Errorf("PT_CONTINUE after detach = %v, want EPERM", err)
	}
}

func TestPtraceExecStopAndBreakpointWrite(t *testing.T) {
	k, tracer, child := spawnTraced(t)
	if _, err := k.Wait4(tracer, child.Pid, 0); err != nil {
		t.Fatal(err)
	}
	res, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_LWPINFO, Pid: child.Pid, Data: abi.PtraceLwpinfoSize})
	if err != nil {
		t.Fatal(err)
	}
	var pl abi.PtraceLwpinfo
	pl.Unmarshal(res.Out)
	if pl.Flags&(abi.PL_FLAG_EXEC|abi.PL_FLAG_SCX) != abi.PL_FLAG_EXEC|abi.PL_FLAG_SCX || pl.Event != abi.PL_EVENT_SIGNAL {
		t.Errorf("exec stop lwpinfo flags=%#x event=%d, want EXEC|SCX and PL_EVENT_SIGNAL", pl.Flags, pl.Event)
	}
	if pl.SyscallCode != abi.SYS_EXECVE {
		t.Errorf("pl_syscall_code = %d, want execve (%d)", pl.SyscallCode, abi.SYS_EXECVE)
	}
	// A debugger may write a breakpoint into read-only text.
	regs := RegsOf(child.threads[0])
	if _, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_WRITE_I, Pid: child.Pid, Addr: regs.Rip, Data: 0xcc}); err != nil {
		t.Fatalf("PT_WRITE_I into text = %v", err)
	}
	r, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_READ_I, Pid: child.Pid, Addr: regs.Rip})
	if err != nil || r.Ret&0xff != 0xcc {
		t.Fatalf("PT_READ_I after write = %#x, %v", r.Ret, err)
	}
	// Continuing hits the breakpoint: a SIGTRAP stop with TRAP_BRKPT.
	if _, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_CONTINUE, Pid: child.Pid, Addr: 1}); err != nil {
		t.Fatal(err)
	}
	w, err := k.Wait4(tracer, child.Pid, 0)
	if err != nil || abi.WaitStatus(w.Status).StopSignal() != abi.SIGTRAP {
		t.Fatalf("Wait4 after breakpoint = %+v, %v", w, err)
	}
	res, _ = k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_LWPINFO, Pid: child.Pid, Data: abi.PtraceLwpinfoSize})
	pl.Unmarshal(res.Out)
	if pl.Flags&abi.PL_FLAG_SI == 0 || pl.Siginfo.Code != abi.TRAP_BRKPT || pl.Siginfo.Signo != int32(abi.SIGTRAP) {
		t.Errorf("breakpoint stop siginfo = %+v flags %#x, want SIGTRAP/TRAP_BRKPT with PL_FLAG_SI", pl.Siginfo, pl.Flags)
	}
	// PT_KILL ends it; the tracer reaps a SIGKILL status.
	if _, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_KILL, Pid: child.Pid}); err != nil {
		t.Fatal(err)
	}
	w, err = k.Wait4(tracer, child.Pid, 0)
	if err != nil || !abi.WaitStatus(w.Status).Signaled() || abi.WaitStatus(w.Status).Signal() != abi.SIGKILL {
		t.Errorf("after PT_KILL Wait4 = %+v, %v; want killed by SIGKILL", w, err)
	}
}

// TestReapHandsBackToInit: a traced zombie whose real parent is gone goes
// back to init when its debugger reaps it and is freed at once; it must
// not stay on init's list of children.
func TestReapHandsBackToInit(t *testing.T) {
	k, tracer, child := spawnTraced(t)
	child.oppid = 1 << 30 // a real parent that no longer exists
	child.zombie = true
	k.reap(tracer, child)
	if !child.reaped {
		t.Fatal("the zombie was not reaped")
	}
	for _, c := range k.initp.children {
		if c == child {
			t.Fatal("the reaped zombie is still on init's list of children")
		}
	}
	for _, c := range tracer.children {
		if c == child {
			t.Fatal("the reaped zombie is still on its debugger's list of children")
		}
	}
	if k.pidMap[child.Pid] != nil {
		t.Fatal("the reaped zombie's pid is still in use")
	}
}

// TestGuestDelta: a debugger with memory gets PT_PTREC_GETDELTA in its
// buffer (addr, data = size): EINVAL below one page's bound, EFAULT for a
// buffer that cannot take the largest output without losing any change,
// and pieces of at most size/PtrecDeltaPageBytes pages whose ranges hold
// the process's memory, until it returns 0.
func TestGuestDelta(t *testing.T) {
	k, tracer, child := spawnTraced(t)
	if _, err := k.Wait4(tracer, child.Pid, 0); err != nil {
		t.Fatal(err)
	}
	// The debugger's writes below the stack pointer: sparse bytes in five
	// pages, a run across a page boundary.
	sp := child.threads[0].cpu.Regs[machine.RSP] &^ (machine.PageSize - 1)
	for i := uint64(1); i <= 5; i++ {
		if err := child.mem.Write(sp-i*machine.PageSize+i*40, []byte{byte(i), 0, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := child.mem.Write(sp-2*machine.PageSize-8, bytes.Repeat([]byte{0x5a}, 16)); err != nil {
		t.Fatal(err)
	}
	changed := child.mem.ChangedPages()
	if changed < 4 {
		t.Fatalf("only %d changed pages after exec", changed)
	}
	get := func(buf BufferMem, data int64) (PtraceResult, error) {
		return k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: PT_PTREC_GETDELTA, Pid: child.Pid, Data: data, Mem: buf})
	}
	if _, err := get(make(BufferMem, 1<<16), PtrecDeltaPageBytes-1); !errors.Is(err, abi.EINVAL) {
		t.Errorf("a buffer smaller than one page's bound = %v, want EINVAL", err)
	}
	if _, err := get(make(BufferMem, PtrecDeltaPageBytes), 3*PtrecDeltaPageBytes); !errors.Is(err, abi.EFAULT) {
		t.Errorf("a buffer shorter than data = %v, want EFAULT", err)
	}
	if n := child.mem.ChangedPages(); n != changed {
		t.Fatalf("EFAULT consumed changes: %d changed pages, was %d", n, changed)
	}
	seen := map[uint64]bool{}
	for calls := 0; ; calls++ {
		buf := make(BufferMem, 3*PtrecDeltaPageBytes)
		res, err := get(buf, int64(len(buf)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Ret == 0 {
			break
		}
		pages := map[uint64]bool{}
		ok := DecodeDelta(buf[:res.Ret], func(addr uint64, data []byte) {
			mem := make([]byte, len(data))
			if err := child.mem.Read(addr, mem); err != nil || !bytes.Equal(mem, data) {
				t.Errorf("range at %#x (%d bytes) is not the process's memory", addr, len(data))
			}
			for a := addr; a < addr+uint64(len(data)); a++ {
				pages[a/machine.PageSize] = true
				seen[a/machine.PageSize] = true
			}
		})
		if !ok || len(pages) > 3 {
			t.Fatalf("piece %d: well formed %v, %d pages (at most 3)", calls, ok, len(pages))
		}
		if calls > changed {
			t.Fatal("GETDELTA does not run dry")
		}
	}
	if len(seen) == 0 || len(seen) > changed {
		t.Errorf("the pieces cover %d pages of %d changed", len(seen), changed)
	}
}
