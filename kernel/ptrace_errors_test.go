package kernel

import (
	"errors"
	"os"
	"testing"

	"ptrec/kernel/abi"
)

// stoppedTraced spawns the test guest traced by an unprivileged tracer
// (uid 1000) and has the tracer wait4 for its exec stop.
func stoppedTraced(t *testing.T) (*Kernel, *Process, *Process) {
	t.Helper()
	k, tracer, child := spawnTraced(t)
	user := Credentials{Ruid: 1000, Euid: 1000, Suid: 1000, Rgid: 1000, Egid: 1000, Sgid: 1000}
	tracer.cred, child.cred = user, user
	if _, err := k.Wait4(tracer, child.Pid, 0); err != nil {
		t.Fatal(err)
	}
	return k, tracer, child
}

// TestPtraceErrorPaths is the seed's kern_ptrace error table: every
// condition, set up on its own, with the errno the seed returns for it, in
// the seed's order of checks (lookup, P_WEXIT, p_cansee, p_candebug,
// P_SYSTEM, the permission switch, the request).
func TestPtraceErrorPaths(t *testing.T) {
	defer setXSAVE(false)() // the cases include xstate requests on a CPU without XSAVE
	type env struct {
		k             *Kernel
		tracer, child *Process
		caller        PtraceCaller
		req           PtraceRequest
	}
	ioDesc := func(op int32, offs, length uint64) []byte {
		b := make([]byte, abi.PtraceIoDescSize)
		d := abi.PtraceIoDesc{Op: op, Offs: offs, Addr: 0, Len: length}
		d.Marshal(b)
		return b
	}
	vmEntry := func(entry int32, pathlen uint32) []byte {
		b := make([]byte, abi.PtraceVmEntrySize)
		e := abi.PtraceVmEntry{Entry: entry, Pathlen: pathlen}
		e.Marshal(b)
		return b
	}
	regsWith := func(e *env, f func(r *abi.Reg)) []byte {
		r := RegsOf(e.child.threads[0])
		f(&r)
		b := make([]byte, abi.RegSize)
		r.Marshal(b)
		return b
	}
	dbregsWith := func(f func(d *abi.DBReg)) []byte {
		var d abi.DBReg
		f(&d)
		b := make([]byte, abi.DBRegSize)
		d.Marshal(b)
		return b
	}
	cases := []struct {
		name  string
		setup func(e *env)
		want  abi.Errno
	}{
		// Lookup.
		{"ESRCH no such pid", func(e *env) { e.req = PtraceRequest{Op: abi.PT_CONTINUE, Pid: 4242, Addr: 1} }, abi.ESRCH},
		{"ESRCH no such tid", func(e *env) { e.req = PtraceRequest{Op: abi.PT_LWPINFO, Pid: abi.PID_MAX + 4242, Data: 8} }, abi.ESRCH},
		{"ESRCH exiting process", func(e *env) { e.child.flag |= P_WEXIT }, abi.ESRCH},
		{"ESRCH zombie", func(e *env) { e.k.Kill(e.child) }, abi.ESRCH},
		// p_candebug.
		{"EPERM other uid", func(e *env) { e.child.cred.Ruid = 1001 }, abi.EPERM},
		{"EPERM other euid", func(e *env) { e.child.cred.Euid = 0 }, abi.EPERM},
		{"EPERM other group", func(e *env) { e.child.cred.Groups = []uint32{5} }, abi.EPERM},
		{"EPERM set-id target", func(e *env) { e.child.flag |= P_SUGID }, abi.EPERM},
		{"EBUSY target in execve", func(e *env) { e.child.flag |= P_INEXEC }, abi.EBUSY},
		{"root may debug another uid", func(e *env) { e.child.cred.Ruid = 1001; e.tracer.cred.Euid = 0 }, 0},
		// P_SYSTEM.
		{"EINVAL system process", func(e *env) { e.tracer.cred.Euid = 0; e.req = PtraceRequest{Op: abi.PT_ATTACH, Pid: e.k.Init().Pid} }, abi.EINVAL},
		// Permission switch: PT_TRACE_ME.
		{"EBUSY trace_me when traced", func(e *env) { e.caller = PtraceCaller{P: e.child}; e.req = PtraceRequest{Op: abi.PT_TRACE_ME} }, abi.EBUSY},
		{"EPERM trace_me with init as parent", func(e *env) {
			e.child.flag &^= P_TRACED
			e.k.reparent(e.child, e.k.Init())
			e.caller = PtraceCaller{P: e.child}
			e.req = PtraceRequest{Op: abi.PT_TRACE_ME}
		}, abi.EPERM},
		// PT_ATTACH.
		{"EINVAL attach self", func(e *env) {
			e.caller = PtraceCaller{P: e.child}
			e.req = PtraceRequest{Op: abi.PT_ATTACH, Pid: e.child.Pid}
		}, abi.EINVAL},
		{"EBUSY attach traced", func(e *env) {
			o := e.k.NewTracerProcess("other")
			o.cred = e.tracer.cred
			e.caller = PtraceCaller{P: o}
			e.req = PtraceRequest{Op: abi.PT_ATTACH, Pid: e.child.Pid}
		}, abi.EBUSY},
		{"EINVAL traced caller attaches an ancestor", func(e *env) {
			// The traced child tries to attach to its own parent.
			gp, err := e.k.Spawn(e.k.NewTracerProcess("runner"), SpawnOptions{Path: testGuest, Argv: []string{"echoargs"}})
			if err != nil {
				panic(err)
			}
			gp.cred = e.tracer.cred
			e.k.reparent(e.tracer, gp)
			e.caller = PtraceCaller{P: e.child, T: e.child.threads[0]}
			e.req = PtraceRequest{Op: abi.PT_ATTACH, Pid: gp.Pid}
		}, abi.EINVAL},
		// Every other request.
		{"EPERM not traced", func(e *env) { e.child.flag &^= P_TRACED }, abi.EPERM},
		{"EPERM unknown request on untraced process", func(e *env) { e.child.flag &^= P_TRACED; e.req = PtraceRequest{Op: 3, Pid: e.child.Pid} }, abi.EPERM},
		{"EBUSY traced by someone else", func(e *env) {
			o := e.k.NewTracerProcess("other")
			o.cred = e.tracer.cred
			e.caller = PtraceCaller{P: o}
		}, abi.EBUSY},
		{"EBUSY not waited for", func(e *env) { e.child.flag &^= P_WAITED }, abi.EBUSY},
		{"EBUSY not stopped", func(e *env) { e.child.flag &^= P_STOPPED }, abi.EBUSY},
		{"PT_CLEARSTEP on the caller's own thread", func(e *env) {
			e.child.flag &^= P_STOPPED
			e.caller = PtraceCaller{P: e.child, T: e.child.threads[0]}
			e.req = PtraceRequest{Op: abi.PT_CLEARSTEP, Pid: e.child.threads[0].Tid}
		}, 0},
		// Requests.
		{"EINVAL signal 129", func(e *env) { e.req.Data = abi.SIG_MAXSIG + 1 }, abi.EINVAL},
		{"signal 128 accepted", func(e *env) { e.req.Data = abi.SIG_MAXSIG }, 0},
		{"EINVAL negative signal PT_STEP", func(e *env) { e.req = PtraceRequest{Op: abi.PT_STEP, Pid: e.child.Pid, Addr: 1, Data: -1} }, abi.EINVAL},
		{"EINVAL bad signal PT_DETACH", func(e *env) { e.req = PtraceRequest{Op: abi.PT_DETACH, Pid: e.child.Pid, Addr: 1, Data: 200} }, abi.EINVAL},
		{"EINVAL bad signal PT_SYSCALL", func(e *env) { e.req = PtraceRequest{Op: abi.PT_SYSCALL, Pid: e.child.Pid, Addr: 1, Data: 129} }, abi.EINVAL},
		{"EINVAL lwpinfo size 0", func(e *env) { e.req = PtraceRequest{Op: abi.PT_LWPINFO, Pid: e.child.Pid} }, abi.EINVAL},
		{"EINVAL lwpinfo too big", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_LWPINFO, Pid: e.child.Pid, Data: abi.PtraceLwpinfoSize + 1}
		}, abi.EINVAL},
		{"EINVAL lwpinfo32 too big", func(e *env) {
			e.caller.ILP32 = true
			e.req = PtraceRequest{Op: abi.PT_LWPINFO, Pid: e.child.Pid, Data: abi.PtraceLwpinfo32Size + 1}
		}, abi.EINVAL},
		{"EINVAL getlwplist data 0", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_GETLWPLIST, Pid: e.child.Pid, Mem: BufferMem(make([]byte, 8))}
		}, abi.EINVAL},
		{"EINVAL unknown request", func(e *env) { e.req = PtraceRequest{Op: 3, Pid: e.child.Pid} }, abi.EINVAL},
		{"EINVAL unknown machine request", func(e *env) { e.req = PtraceRequest{Op: 120, Pid: e.child.Pid} }, abi.EINVAL},
		{"EOPNOTSUPP xstate without XSAVE", func(e *env) { e.req = PtraceRequest{Op: abi.PT_GETXSTATE, Pid: e.child.Pid} }, abi.EOPNOTSUPP},
		{"ENOMEM PT_READ_D unmapped", func(e *env) { e.req = PtraceRequest{Op: abi.PT_READ_D, Pid: e.child.Pid, Addr: 0x10} }, abi.ENOMEM},
		{"ENOMEM PT_WRITE_I unmapped", func(e *env) { e.req = PtraceRequest{Op: abi.PT_WRITE_I, Pid: e.child.Pid, Addr: 0x10} }, abi.ENOMEM},
		{"EINVAL PT_IO bad op", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_IO, Pid: e.child.Pid, In: ioDesc(9, 0x10, 4), Mem: BufferMem(make([]byte, 4))}
		}, abi.EINVAL},
		{"EFAULT PT_IO unmapped", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_IO, Pid: e.child.Pid, In: ioDesc(abi.PIOD_READ_D, 0x10, 4), Mem: BufferMem(make([]byte, 4))}
		}, abi.EFAULT},
		{"EFAULT PT_IO bad tracer buffer", func(e *env) {
			pc := e.child.threads[0].cpu.RIP
			e.req = PtraceRequest{Op: abi.PT_IO, Pid: e.child.Pid, In: ioDesc(abi.PIOD_READ_I, pc, 16), Mem: BufferMem(make([]byte, 4))}
		}, abi.EFAULT},
		{"ENOENT PT_VM_ENTRY past the last entry", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_VM_ENTRY, Pid: e.child.Pid, In: vmEntry(int32(len(e.child.vm.regions)), 0)}
		}, abi.ENOENT},
		{"EINVAL PT_VM_ENTRY beyond the end", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_VM_ENTRY, Pid: e.child.Pid, In: vmEntry(int32(len(e.child.vm.regions))+1, 0)}
		}, abi.EINVAL},
		{"EINVAL PT_VM_ENTRY negative", func(e *env) { e.req = PtraceRequest{Op: abi.PT_VM_ENTRY, Pid: e.child.Pid, In: vmEntry(-1, 0)} }, abi.EINVAL},
		{"ENAMETOOLONG PT_VM_ENTRY short path", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_VM_ENTRY, Pid: e.child.Pid, In: vmEntry(0, 1), Mem: BufferMem(make([]byte, 4096))}
		}, abi.ENAMETOOLONG},
		{"EINVAL set_regs privileged rflags", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETREGS, Pid: e.child.Pid, In: regsWith(e, func(r *abi.Reg) { r.Rflags ^= 0x3000 })}
		}, abi.EINVAL},
		{"EINVAL set_regs kernel cs", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETREGS, Pid: e.child.Pid, In: regsWith(e, func(r *abi.Reg) { r.Cs = 0x08 })}
		}, abi.EINVAL},
		{"set_regs user rflags bits", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETREGS, Pid: e.child.Pid, In: regsWith(e, func(r *abi.Reg) { r.Rflags ^= 0x00254DD5 })}
		}, 0},
		{"EINVAL 32-bit tracer sets 64-bit regs", func(e *env) {
			e.caller.ILP32 = true
			e.req = PtraceRequest{Op: abi.PT_SETREGS, Pid: e.child.Pid, In: make([]byte, abi.Reg32Size)}
		}, abi.EINVAL},
		{"EINVAL 32-bit tracer sets 64-bit fpregs", func(e *env) {
			e.caller.ILP32 = true
			e.req = PtraceRequest{Op: abi.PT_SETFPREGS, Pid: e.child.Pid, In: make([]byte, abi.FPReg32Size)}
		}, abi.EINVAL},
		{"EINVAL 32-bit tracer sets 64-bit dbregs", func(e *env) {
			e.caller.ILP32 = true
			e.req = PtraceRequest{Op: abi.PT_SETDBREGS, Pid: e.child.Pid, In: make([]byte, abi.DBReg32Size)}
		}, abi.EINVAL},
		{"EINVAL set_dbregs I/O breakpoint", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETDBREGS, Pid: e.child.Pid, In: dbregsWith(func(d *abi.DBReg) { d.Dr[7] = 1 | 2<<16 })}
		}, abi.EINVAL},
		{"EINVAL set_dbregs kernel address", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETDBREGS, Pid: e.child.Pid, In: dbregsWith(func(d *abi.DBReg) { d.Dr[0] = 1 << 47; d.Dr[7] = 1 })}
		}, abi.EINVAL},
		{"set_dbregs disabled kernel address", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETDBREGS, Pid: e.child.Pid, In: dbregsWith(func(d *abi.DBReg) { d.Dr[0] = 1 << 47 })}
		}, 0},
		{"EINVAL set_dbregs dr7 upper bits", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETDBREGS, Pid: e.child.Pid, In: dbregsWith(func(d *abi.DBReg) { d.Dr[7] = 1 << 32 })}
		}, abi.EINVAL},
		{"EINVAL set_dbregs dr6 upper bits", func(e *env) {
			e.req = PtraceRequest{Op: abi.PT_SETDBREGS, Pid: e.child.Pid, In: dbregsWith(func(d *abi.DBReg) { d.Dr[6] = 1 << 40 })}
		}, abi.EINVAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, tracer, child := stoppedTraced(t)
			e := &env{k: k, tracer: tracer, child: child, caller: PtraceCaller{P: tracer},
				req: PtraceRequest{Op: abi.PT_CONTINUE, Pid: child.Pid, Addr: 1}}
			tc.setup(e)
			_, err := k.Ptrace(e.caller, &e.req)
			if tc.want == 0 {
				if err != nil {
					t.Errorf("Ptrace(%s) = %v, want success", abi.PtraceRequestName(e.req.Op), err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Ptrace(%s) = %v, want %s", abi.PtraceRequestName(e.req.Op), err, tc.want.Name())
			}
		})
	}
}

// TestPtraceIOPartial checks proc_rwmem's partial transfer: piod_len holds
// the bytes moved before the fault, in the kernel copy (sys_ptrace copies
// it out only on success).
func TestPtraceIOPartial(t *testing.T) {
	k, tracer, child := stoppedTraced(t)
	r := child.vm.regions[0]
	end := r.End
	for _, reg := range child.vm.regions[1:] {
		if reg.Start != end {
			break
		}
		end = reg.End
	}
	in := make([]byte, abi.PtraceIoDescSize)
	d := abi.PtraceIoDesc{Op: abi.PIOD_READ_D, Offs: end - 10, Len: 64}
	d.Marshal(in)
	res, err := k.Ptrace(PtraceCaller{P: tracer}, &PtraceRequest{Op: abi.PT_IO, Pid: child.Pid, In: in, Mem: BufferMem(make([]byte, 64))})
	if !errors.Is(err, abi.EFAULT) {
		t.Fatalf("PT_IO across the end of the mapping = %v, want EFAULT", err)
	}
	var got abi.PtraceIoDesc
	if len(res.Out) != abi.PtraceIoDescSize {
		t.Fatalf("no ptrace_io_desc in the result (%d bytes)", len(res.Out))
	}
	got.Unmarshal(res.Out)
	if got.Len != 10 {
		t.Errorf("piod_len = %d, want 10", got.Len)
	}
}

// TestPtraceILP32Layouts checks that a 32-bit tracer (COMPAT_FREEBSD32)
// gets the 32-bit structures: struct reg32, ptrace_lwpinfo32 (size limit
// and PL_FLAG_SI threshold), ptrace_io_desc32 and dbreg32.
func TestPtraceILP32Layouts(t *testing.T) {
	k, tracer, child := stoppedTraced(t)
	c32 := PtraceCaller{P: tracer, ILP32: true}
	res, err := k.Ptrace(c32, &PtraceRequest{Op: abi.PT_GETREGS, Pid: child.Pid})
	if err != nil || len(res.Out) != abi.Reg32Size {
		t.Fatalf("PT_GETREGS (32) = %d bytes, %v; want %d", len(res.Out), err, abi.Reg32Size)
	}
	var r32 abi.Reg32
	r32.Unmarshal(res.Out)
	if uint64(r32.Eip) != child.threads[0].cpu.RIP&0xffffffff {
		t.Errorf("reg32 eip %#x, rip %#x", r32.Eip, child.threads[0].cpu.RIP)
	}
	res, err = k.Ptrace(c32, &PtraceRequest{Op: abi.PT_LWPINFO, Pid: child.Pid, Data: abi.PtraceLwpinfo32Size})
	if err != nil || len(res.Out) != abi.PtraceLwpinfo32Size {
		t.Fatalf("PT_LWPINFO (32) = %d bytes, %v", len(res.Out), err)
	}
	if lwpid := int32(le32(res.Out)); lwpid != child.threads[0].Tid {
		t.Errorf("pl_lwpid %d, want %d", lwpid, child.threads[0].Tid)
	}
	if flags := le32(res.Out[8:]); flags&abi.PL_FLAG_EXEC == 0 {
		t.Errorf("pl_flags %#x, want PL_FLAG_EXEC", flags)
	}
	if _, err := k.Ptrace(c32, &PtraceRequest{Op: abi.PT_LWPINFO, Pid: child.Pid, Data: abi.PtraceLwpinfoSize}); !errors.Is(err, abi.EINVAL) {
		t.Errorf("PT_LWPINFO (32) with the 64-bit size = %v, want EINVAL", err)
	}
	res, err = k.Ptrace(c32, &PtraceRequest{Op: abi.PT_GETDBREGS, Pid: child.Pid})
	if err != nil || len(res.Out) != abi.DBReg32Size {
		t.Errorf("PT_GETDBREGS (32) = %d bytes, %v", len(res.Out), err)
	}
	in := make([]byte, abi.PtraceIoDesc32Size)
	d := abi.PtraceIoDesc{Op: abi.PIOD_READ_I, Offs: child.threads[0].cpu.RIP, Addr: 0, Len: 4}
	d.Marshal32(in)
	buf := BufferMem(make([]byte, 4))
	res, err = k.Ptrace(c32, &PtraceRequest{Op: abi.PT_IO, Pid: child.Pid, In: in, Mem: buf})
	if err != nil || len(res.Out) != abi.PtraceIoDesc32Size {
		t.Fatalf("PT_IO (32) = %d bytes, %v", len(res.Out), err)
	}
	var got abi.PtraceIoDesc
	got.Unmarshal32(res.Out)
	if got.Len != 4 {
		t.Errorf("piod_len (32) = %d, want 4", got.Len)
	}
}

// TestStopEvent drives the procfs-style stopevent(): a process with S_SCE
// in p_stops is held at each syscall entry (p_step set, p_stype = S_SCE,
// p_xsig = narg) until ContinueStopEvent.
func TestStopEvent(t *testing.T) {
	if _, err := os.Stat(testGuest); err != nil {
		t.Skipf("no test guest: %v", err)
	}
	k := New(Config{Host: &guestHost{}})
	parent := k.NewTracerProcess("runner")
	p, err := k.Spawn(parent, SpawnOptions{Path: testGuest, Argv: []string{"echoargs"}})
	if err != nil {
		t.Fatal(err)
	}
	k.SetStopEvents(p, S_SCE)
	for i := 0; i < 3; i++ {
		if err := k.RunUntil(func() bool { held, _ := k.StopEvent(p); return held }); err != nil {
			t.Fatal(err)
		}
		_, ev := k.StopEvent(p)
		th := p.threads[0]
		if ev != S_SCE || !th.inSyscall || uint32(p.xsig) != th.sc.narg || p.xthread != nil {
			t.Fatalf("held at event %#x (in syscall %v, xsig %d narg %d)", ev, th.inSyscall, p.xsig, th.sc.narg)
		}
		k.ContinueStopEvent(p)
		if held, _ := k.StopEvent(p); held {
			t.Fatal("still held after ContinueStopEvent")
		}
	}
	k.SetStopEvents(p, 0)
	w, err := k.Wait4(parent, p.Pid, 0)
	if err != nil || !abi.WaitStatus(w.Status).Exited() {
		t.Fatalf("Wait4 = %+v, %v", w, err)
	}
}
