package abi

import (
	"bytes"
	"testing"
)

// field is one row of an offset table from FREEBSD-PTRACE.md §3: the
// encoder must put a value that fills size bytes at off.
type field struct {
	name string
	off  int
	size int
	set  func(v uint64)
}

// checkLayout sets each field in turn to a distinctive value and checks
// that exactly bytes [off, off+size) of the encoding change.
func checkLayout(t *testing.T, what string, size int, fields []field, reset func(), marshal func([]byte)) {
	t.Helper()
	zero := make([]byte, size)
	reset()
	marshal(zero)
	if !bytes.Equal(zero, make([]byte, size)) {
		t.Errorf("%s: zero value does not encode to zeros", what)
	}
	for _, f := range fields {
		reset()
		v := uint64(0x0102030405060708) >> (8 * (8 - f.size))
		f.set(v)
		b := bytes.Repeat([]byte{0xEE}, size+8)
		marshal(b)
		want := make([]byte, 8)
		le.PutUint64(want, v)
		for i := 0; i < size; i++ {
			in := i >= f.off && i < f.off+f.size
			switch {
			case in && b[i] != want[i-f.off]:
				t.Errorf("%s.%s: byte %d = %#x, want %#x", what, f.name, i, b[i], want[i-f.off])
			case !in && b[i] != 0:
				t.Errorf("%s.%s: byte %d outside [%d,%d) = %#x", what, f.name, i, f.off, f.off+f.size, b[i])
			}
		}
		if !bytes.Equal(b[size:], bytes.Repeat([]byte{0xEE}, 8)) {
			t.Errorf("%s: encoder wrote past %d bytes", what, size)
		}
	}
}

func TestRegLayout(t *testing.T) {
	var r Reg
	u64 := func(name string, off int, p *uint64) field {
		return field{name, off, 8, func(v uint64) { *p = v }}
	}
	fields := []field{
		u64("r15", 0, &r.R15), u64("r14", 8, &r.R14), u64("r13", 16, &r.R13), u64("r12", 24, &r.R12),
		u64("r11", 32, &r.R11), u64("r10", 40, &r.R10), u64("r9", 48, &r.R9), u64("r8", 56, &r.R8),
		u64("rdi", 64, &r.Rdi), u64("rsi", 72, &r.Rsi), u64("rbp", 80, &r.Rbp), u64("rbx", 88, &r.Rbx),
		u64("rdx", 96, &r.Rdx), u64("rcx", 104, &r.Rcx), u64("rax", 112, &r.Rax),
		{"trapno", 120, 4, func(v uint64) { r.Trapno = uint32(v) }},
		{"fs", 124, 2, func(v uint64) { r.Fs = uint16(v) }},
		{"gs", 126, 2, func(v uint64) { r.Gs = uint16(v) }},
		{"err", 128, 4, func(v uint64) { r.Err = uint32(v) }},
		{"es", 132, 2, func(v uint64) { r.Es = uint16(v) }},
		{"ds", 134, 2, func(v uint64) { r.Ds = uint16(v) }},
		u64("rip", 136, &r.Rip), u64("cs", 144, &r.Cs), u64("rflags", 152, &r.Rflags),
		u64("rsp", 160, &r.Rsp), u64("ss", 168, &r.Ss),
	}
	checkLayout(t, "reg", RegSize, fields, func() { r = Reg{} }, r.Marshal)
	roundTrip(t, "reg", RegSize, r.Marshal, r.Unmarshal)
}

func TestReg32Layout(t *testing.T) {
	var r Reg32
	ps := r.fields()
	names := []string{"fs", "es", "ds", "edi", "esi", "ebp", "isp", "ebx", "edx", "ecx", "eax",
		"trapno", "err", "eip", "cs", "eflags", "esp", "ss", "gs"}
	var fields []field
	for i, p := range ps {
		fields = append(fields, field{names[i], 4 * i, 4, func(v uint64) { *p = uint32(v) }})
	}
	checkLayout(t, "reg32", Reg32Size, fields, func() { r = Reg32{} }, r.Marshal)
	roundTrip(t, "reg32", Reg32Size, r.Marshal, r.Unmarshal)
}

// roundTrip checks Unmarshal(Marshal) on a patterned buffer is the identity
// on every byte that carries a field.
func roundTrip(t *testing.T, what string, size int, marshal, unmarshal func([]byte)) {
	t.Helper()
	in := make([]byte, size)
	for i := range in {
		in[i] = byte(i*7 + 1)
	}
	unmarshal(in)
	out := make([]byte, size)
	marshal(out)
	unmarshal(out)
	out2 := make([]byte, size)
	marshal(out2)
	if !bytes.Equal(out, out2) {
		t.Errorf("%s: round trip not stable", what)
	}
}

func TestFPRegLayout(t *testing.T) {
	var f FPReg
	fields := []field{
		{"cw", 0, 2, func(v uint64) { f.Cw = uint16(v) }},
		{"sw", 2, 2, func(v uint64) { f.Sw = uint16(v) }},
		{"tw", 4, 1, func(v uint64) { f.Tw = uint8(v) }},
		{"opcode", 6, 2, func(v uint64) { f.Opcode = uint16(v) }},
		{"rip", 8, 8, func(v uint64) { f.Rip = v }},
		{"rdp", 16, 8, func(v uint64) { f.Rdp = v }},
		{"mxcsr", 24, 4, func(v uint64) { f.Mxcsr = uint32(v) }},
		{"mxcsr_mask", 28, 4, func(v uint64) { f.MxcsrMask = uint32(v) }},
		{"acc[0]", 32, 8, func(v uint64) { le.PutUint64(f.Acc[0][:], v) }},
		{"acc[7]", 32 + 7*16, 8, func(v uint64) { le.PutUint64(f.Acc[7][:], v) }},
		{"xacc[0]", 160, 8, func(v uint64) { le.PutUint64(f.Xacc[0][:], v) }},
		{"xacc[15]", 160 + 15*16, 8, func(v uint64) { le.PutUint64(f.Xacc[15][:], v) }},
		{"spare", 416, 8, func(v uint64) { le.PutUint64(f.Spare[:], v) }},
	}
	checkLayout(t, "fpreg", FPRegSize, fields, func() { f = FPReg{} }, f.Marshal)
	in := make([]byte, FPRegSize)
	for i := range in {
		in[i] = byte(i * 13)
	}
	f.Unmarshal(in)
	out := make([]byte, FPRegSize)
	f.Marshal(out)
	if !bytes.Equal(in, out) {
		t.Error("fpreg: FXSAVE image does not round-trip")
	}
}

func TestFPReg32(t *testing.T) {
	var f FPReg32
	fields := []field{
		{"env[0]", 0, 4, func(v uint64) { f.Env[0] = uint32(v) }},
		{"env[6]", 24, 4, func(v uint64) { f.Env[6] = uint32(v) }},
		{"acc[0]", 28, 8, func(v uint64) { le.PutUint64(f.Acc[0][:], v) }},
		{"acc[7]", 28 + 70, 8, func(v uint64) { le.PutUint64(f.Acc[7][:], v) }},
		{"ex_sw", 108, 4, func(v uint64) { f.ExSw = uint32(v) }},
		{"pad", 112, 8, func(v uint64) { le.PutUint64(f.Pad[:], v) }},
	}
	checkLayout(t, "fpreg32", FPReg32Size, fields, func() { f = FPReg32{} }, f.Marshal)
	roundTrip(t, "fpreg32", FPReg32Size, f.Marshal, f.Unmarshal)

	fx := FPReg{Cw: 0x37f, Sw: 0x3800, Tw: 0x81, Opcode: 0x1de, Rip: 0x1_0000_1234, Rdp: 0x5678}
	fx.Acc[0][9] = 0x40
	fx.Acc[7][0] = 1
	g := FPReg32FromFXSAVE(&fx, 0x33, 0x2b)
	want := [7]uint32{0x37f, 0x3800, 0x3ffc, 0x1234, 0x33 | 0x1de<<16, 0x5678, 0x2b}
	if g.Env != want {
		t.Errorf("env = %#x, want %#x", g.Env, want)
	}
	if g.Acc[0][9] != 0x40 || g.Acc[7][0] != 1 {
		t.Error("acc not copied")
	}
	var back FPReg
	g.ApplyToFXSAVE(&back)
	if back.Tw != fx.Tw || back.Cw != fx.Cw || back.Opcode != fx.Opcode || back.Acc != fx.Acc {
		t.Errorf("ApplyToFXSAVE: %+v", back)
	}
}

func TestDBRegLayout(t *testing.T) {
	var d DBReg
	checkLayout(t, "dbreg", DBRegSize, []field{
		{"dr0", 0, 8, func(v uint64) { d.Dr[0] = v }},
		{"dr7", 56, 8, func(v uint64) { d.Dr[7] = v }},
		{"dr15", 120, 8, func(v uint64) { d.Dr[15] = v }},
	}, func() { d = DBReg{} }, d.Marshal)
	roundTrip(t, "dbreg", DBRegSize, d.Marshal, d.Unmarshal)
	var d32 DBReg32
	checkLayout(t, "dbreg32", DBReg32Size, []field{
		{"dr0", 0, 4, func(v uint64) { d32.Dr[0] = uint32(v) }},
		{"dr7", 28, 4, func(v uint64) { d32.Dr[7] = uint32(v) }},
	}, func() { d32 = DBReg32{} }, d32.Marshal)
	d32 = DBReg32{Dr: [8]uint32{1, 2, 3, 4, 0, 0, 6, 7}}
	n := d32.Native()
	if n.Dr[7] != 7 || n.Dr[8] != 0 || DBReg32Of(&n) != d32 {
		t.Error("dbreg32 conversion")
	}
	const dr7 = 0x1<<0 | 0x1<<(16) | 0x3<<(18) | 0x2<<(2*3) | 0x3<<(16+12)
	if !DR7Enabled(dr7, 0) || DR7Enabled(dr7, 1) || !DR7Enabled(dr7, 3) ||
		DR7Access(dr7, 0) != DBREG_DR7_WRONLY || DR7Len(dr7, 0) != DBREG_DR7_LEN_4 ||
		DR7Access(dr7, 3) != DBREG_DR7_RDWR {
		t.Error("DR7 helpers")
	}
}

func TestPtraceIoDescLayout(t *testing.T) {
	var d PtraceIoDesc
	checkLayout(t, "ptrace_io_desc", PtraceIoDescSize, []field{
		{"piod_op", 0, 4, func(v uint64) { d.Op = int32(v) }},
		{"piod_offs", 8, 8, func(v uint64) { d.Offs = v }},
		{"piod_addr", 16, 8, func(v uint64) { d.Addr = v }},
		{"piod_len", 24, 8, func(v uint64) { d.Len = v }},
	}, func() { d = PtraceIoDesc{} }, d.Marshal)
	checkLayout(t, "ptrace_io_desc32", PtraceIoDesc32Size, []field{
		{"piod_op", 0, 4, func(v uint64) { d.Op = int32(v) }},
		{"piod_offs", 4, 4, func(v uint64) { d.Offs = v }},
		{"piod_addr", 8, 4, func(v uint64) { d.Addr = v }},
		{"piod_len", 12, 4, func(v uint64) { d.Len = v }},
	}, func() { d = PtraceIoDesc{} }, d.Marshal32)
	roundTrip(t, "ptrace_io_desc", PtraceIoDescSize, d.Marshal, d.Unmarshal)
	roundTrip(t, "ptrace_io_desc32", PtraceIoDesc32Size, d.Marshal32, d.Unmarshal32)
}

func TestPtraceLwpinfoLayout(t *testing.T) {
	var l PtraceLwpinfo
	checkLayout(t, "ptrace_lwpinfo", PtraceLwpinfoSize, []field{
		{"pl_lwpid", 0, 4, func(v uint64) { l.Lwpid = int32(v) }},
		{"pl_event", 4, 4, func(v uint64) { l.Event = int32(v) }},
		{"pl_flags", 8, 4, func(v uint64) { l.Flags = int32(v) }},
		{"pl_sigmask", 12, 8, func(v uint64) { l.Sigmask = Sigset(v) }},
		{"pl_siglist", 28, 8, func(v uint64) { l.Siglist = Sigset(v) }},
		{"si_signo", 48, 4, func(v uint64) { l.Siginfo.Signo = int32(v) }},
		{"si_errno", 52, 4, func(v uint64) { l.Siginfo.Errno = int32(v) }},
		{"si_code", 56, 4, func(v uint64) { l.Siginfo.Code = int32(v) }},
		{"si_pid", 60, 4, func(v uint64) { l.Siginfo.Pid = int32(v) }},
		{"si_uid", 64, 4, func(v uint64) { l.Siginfo.Uid = uint32(v) }},
		{"si_status", 68, 4, func(v uint64) { l.Siginfo.Status = int32(v) }},
		{"si_addr", 72, 8, func(v uint64) { l.Siginfo.Addr = v }},
		{"si_value", 80, 8, func(v uint64) { l.Siginfo.Value = v }},
		{"si_trapno", 88, 4, func(v uint64) { l.Siginfo.Trapno = int32(v) }},
		{"si_overrun", 92, 4, func(v uint64) { l.Siginfo.Overrun = int32(v) }},
		{"pl_tdname", 128, 4, func(v uint64) { l.Tdname = "\x04\x03\x02\x01" }},
		{"pl_child_pid", 148, 4, func(v uint64) { l.ChildPid = int32(v) }},
		{"pl_syscall_code", 152, 4, func(v uint64) { l.SyscallCode = uint32(v) }},
		{"pl_syscall_narg", 156, 4, func(v uint64) { l.SyscallNarg = int32(v) }},
	}, func() { l = PtraceLwpinfo{} }, l.Marshal)
	checkLayout(t, "ptrace_lwpinfo32", PtraceLwpinfo32Size, []field{
		{"pl_lwpid", 0, 4, func(v uint64) { l.Lwpid = int32(v) }},
		{"pl_event", 4, 4, func(v uint64) { l.Event = int32(v) }},
		{"pl_flags", 8, 4, func(v uint64) { l.Flags = int32(v) }},
		{"pl_sigmask", 12, 8, func(v uint64) { l.Sigmask = Sigset(v) }},
		{"pl_siglist", 28, 8, func(v uint64) { l.Siglist = Sigset(v) }},
		{"si_signo", 44, 4, func(v uint64) { l.Siginfo.Signo = int32(v) }},
		{"si_status", 64, 4, func(v uint64) { l.Siginfo.Status = int32(v) }},
		{"si_addr", 68, 4, func(v uint64) { l.Siginfo.Addr = v }},
		{"si_value", 72, 4, func(v uint64) { l.Siginfo.Value = v }},
		{"si_trapno", 76, 4, func(v uint64) { l.Siginfo.Trapno = int32(v) }},
		{"si_overrun", 80, 4, func(v uint64) { l.Siginfo.Overrun = int32(v) }},
		{"pl_tdname", 108, 4, func(v uint64) { l.Tdname = "\x04\x03\x02\x01" }},
		{"pl_child_pid", 128, 4, func(v uint64) { l.ChildPid = int32(v) }},
		{"pl_syscall_code", 132, 4, func(v uint64) { l.SyscallCode = uint32(v) }},
		{"pl_syscall_narg", 136, 4, func(v uint64) { l.SyscallNarg = int32(v) }},
	}, func() { l = PtraceLwpinfo{} }, l.Marshal32)
	roundTrip(t, "ptrace_lwpinfo", PtraceLwpinfoSize, l.Marshal, l.Unmarshal)
	roundTrip(t, "ptrace_lwpinfo32", PtraceLwpinfo32Size, l.Marshal32, l.Unmarshal32)
	if PtraceLwpinfoSiginfoEnd != 48+FBSDSiginfoSize || PtraceLwpinfo32SiginfoEnd != 44+FBSDSiginfo32Size {
		t.Error("siginfo end offsets")
	}
	l = PtraceLwpinfo{Tdname: "a-very-long-thread-name-indeed"}
	b := make([]byte, PtraceLwpinfoSize)
	l.Marshal(b)
	l.Unmarshal(b)
	if len(l.Tdname) != MAXCOMLEN || b[128+MAXCOMLEN] != 0 {
		t.Errorf("tdname not truncated to MAXCOMLEN: %q", l.Tdname)
	}
}

func TestPtraceVmEntryLayout(t *testing.T) {
	var e PtraceVmEntry
	checkLayout(t, "ptrace_vm_entry", PtraceVmEntrySize, []field{
		{"pve_entry", 0, 4, func(v uint64) { e.Entry = int32(v) }},
		{"pve_timestamp", 4, 4, func(v uint64) { e.Timestamp = int32(v) }},
		{"pve_start", 8, 8, func(v uint64) { e.Start = v }},
		{"pve_end", 16, 8, func(v uint64) { e.End = v }},
		{"pve_offset", 24, 8, func(v uint64) { e.Offset = v }},
		{"pve_prot", 32, 4, func(v uint64) { e.Prot = uint32(v) }},
		{"pve_pathlen", 36, 4, func(v uint64) { e.Pathlen = uint32(v) }},
		{"pve_fileid", 40, 8, func(v uint64) { e.Fileid = int64(v) }},
		{"pve_fsid", 48, 4, func(v uint64) { e.Fsid = uint32(v) }},
		{"pve_path", 56, 8, func(v uint64) { e.Path = v }},
	}, func() { e = PtraceVmEntry{} }, e.Marshal)
	checkLayout(t, "ptrace_vm_entry32", PtraceVmEntry32Size, []field{
		{"pve_entry", 0, 4, func(v uint64) { e.Entry = int32(v) }},
		{"pve_timestamp", 4, 4, func(v uint64) { e.Timestamp = int32(v) }},
		{"pve_start", 8, 4, func(v uint64) { e.Start = v }},
		{"pve_end", 12, 4, func(v uint64) { e.End = v }},
		{"pve_offset", 16, 4, func(v uint64) { e.Offset = v }},
		{"pve_prot", 20, 4, func(v uint64) { e.Prot = uint32(v) }},
		{"pve_pathlen", 24, 4, func(v uint64) { e.Pathlen = uint32(v) }},
		{"pve_fileid", 28, 4, func(v uint64) { e.Fileid = int64(v) }},
		{"pve_fsid", 32, 4, func(v uint64) { e.Fsid = uint32(v) }},
		{"pve_path", 36, 4, func(v uint64) { e.Path = v }},
	}, func() { e = PtraceVmEntry{} }, e.Marshal32)
	roundTrip(t, "ptrace_vm_entry", PtraceVmEntrySize, e.Marshal, e.Unmarshal)
	roundTrip(t, "ptrace_vm_entry32", PtraceVmEntry32Size, e.Marshal32, e.Unmarshal32)
	e = PtraceVmEntry{Fileid: -1}
	b := make([]byte, PtraceVmEntry32Size)
	e.Marshal32(b)
	e.Unmarshal32(b)
	if e.Fileid != -1 {
		t.Error("pve_fileid not sign-extended")
	}
}

func TestPtraceConstants(t *testing.T) {
	for _, tt := range []struct {
		req  int
		name string
	}{
		{PT_TRACE_ME, "PT_TRACE_ME"}, {PT_ATTACH, "PT_ATTACH"}, {PT_FOLLOW_FORK, "PT_FOLLOW_FORK"},
		{PT_VM_ENTRY, "PT_VM_ENTRY"}, {66, "PT_GETXSTATE"}, {67, "PT_SETXSTATE"}, {3, "PT_3"},
	} {
		if got := PtraceRequestName(tt.req); got != tt.name {
			t.Errorf("PtraceRequestName(%d) = %q, want %q", tt.req, got, tt.name)
		}
	}
	if PtraceRequest32Name(64) != "PT_I386_GETXMMREGS" {
		t.Error("PtraceRequest32Name(64)")
	}
	if PSL_USERCHANGE != 0x00254DD5 || PSL_USER != 0x202 || PID_MAX != 99999 || NO_PID != 100000 {
		t.Error("constants")
	}
}
