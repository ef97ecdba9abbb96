package abi

// Sizes of the FreeBSD amd64 ptrace structures and their 32-bit
// (COMPAT_FREEBSD32) counterparts.
const (
	RegSize             = 176 // struct reg
	Reg32Size           = 76  // struct reg32
	FPRegSize           = 512 // struct fpreg (the FXSAVE image)
	FPReg32Size         = 176 // struct fpreg32 (an i387 save87 image)
	DBRegSize           = 128 // struct dbreg
	DBReg32Size         = 32  // struct dbreg32
	PtraceIoDescSize    = 32  // struct ptrace_io_desc
	PtraceIoDesc32Size  = 16  // struct ptrace_io_desc32
	FBSDSiginfoSize     = 80  // struct __siginfo
	FBSDSiginfo32Size   = 64  // struct siginfo32
	PtraceLwpinfoSize   = 160 // struct ptrace_lwpinfo with pl_syscall_code/narg
	PtraceLwpinfo32Size = 140 // struct ptrace_lwpinfo32 with pl_syscall_code/narg
	PtraceVmEntrySize   = 64  // struct ptrace_vm_entry
	PtraceVmEntry32Size = 40  // struct ptrace_vm_entry32

	// PtraceLwpinfoSiginfoEnd is offsetof(pl_siginfo)+sizeof(pl_siginfo):
	// PL_FLAG_SI is only reported when the caller's size reaches it.
	PtraceLwpinfoSiginfoEnd   = 128
	PtraceLwpinfo32SiginfoEnd = 108
)

// The output of ptrec's PT_PTREC_GETSTOP (ptrec's ABI, not FreeBSD's): the
// struct ptrace_lwpinfo of the thread (PtraceLwpinfoSize bytes, siginfo
// included) at 0, its struct reg at PtrecStopRegOff, then fs_base and
// gs_base (u64 each) at PtrecStopBasesOff: what PT_LWPINFO, PT_GETREGS and
// PT_PTREC_GETBASES return, in one request.
const (
	PtrecStopRegOff   = PtraceLwpinfoSize
	PtrecStopBasesOff = PtrecStopRegOff + RegSize
	PtrecStopSize     = PtrecStopBasesOff + 16 // 352
)

// Reg is FreeBSD amd64 struct reg (x86/include/reg.h), 176 bytes.
type Reg struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	Rdi, Rsi, Rbp, Rbx, Rdx, Rcx, Rax    uint64
	Trapno                               uint32
	Fs, Gs                               uint16
	Err                                  uint32
	Es, Ds                               uint16
	Rip, Cs, Rflags, Rsp, Ss             uint64
}

// Marshal writes r to b[0:RegSize] in the amd64 layout.
func (r *Reg) Marshal(b []byte) {
	_ = b[RegSize-1]
	for i, v := range [...]uint64{r.R15, r.R14, r.R13, r.R12, r.R11, r.R10, r.R9, r.R8,
		r.Rdi, r.Rsi, r.Rbp, r.Rbx, r.Rdx, r.Rcx, r.Rax} {
		putU64(b[8*i:], v)
	}
	putU32(b[120:], r.Trapno)
	putU16(b[124:], r.Fs)
	putU16(b[126:], r.Gs)
	putU32(b[128:], r.Err)
	putU16(b[132:], r.Es)
	putU16(b[134:], r.Ds)
	putU64(b[136:], r.Rip)
	putU64(b[144:], r.Cs)
	putU64(b[152:], r.Rflags)
	putU64(b[160:], r.Rsp)
	putU64(b[168:], r.Ss)
}

// Unmarshal reads r from b[0:RegSize].
func (r *Reg) Unmarshal(b []byte) {
	_ = b[RegSize-1]
	for i, p := range [...]*uint64{&r.R15, &r.R14, &r.R13, &r.R12, &r.R11, &r.R10, &r.R9, &r.R8,
		&r.Rdi, &r.Rsi, &r.Rbp, &r.Rbx, &r.Rdx, &r.Rcx, &r.Rax} {
		*p = getU64(b[8*i:])
	}
	r.Trapno = getU32(b[120:])
	r.Fs = getU16(b[124:])
	r.Gs = getU16(b[126:])
	r.Err = getU32(b[128:])
	r.Es = getU16(b[132:])
	r.Ds = getU16(b[134:])
	r.Rip = getU64(b[136:])
	r.Cs = getU64(b[144:])
	r.Rflags = getU64(b[152:])
	r.Rsp = getU64(b[160:])
	r.Ss = getU64(b[168:])
}

// Reg32 is FreeBSD struct reg32 (the i386 struct reg), 19 x uint32.
type Reg32 struct {
	Fs, Es, Ds, Edi, Esi, Ebp, Isp, Ebx, Edx, Ecx, Eax uint32
	Trapno, Err, Eip, Cs, Eflags, Esp, Ss, Gs          uint32
}

func (r *Reg32) fields() [19]*uint32 {
	return [19]*uint32{&r.Fs, &r.Es, &r.Ds, &r.Edi, &r.Esi, &r.Ebp, &r.Isp, &r.Ebx, &r.Edx,
		&r.Ecx, &r.Eax, &r.Trapno, &r.Err, &r.Eip, &r.Cs, &r.Eflags, &r.Esp, &r.Ss, &r.Gs}
}

// Marshal writes r to b[0:Reg32Size].
func (r *Reg32) Marshal(b []byte) {
	_ = b[Reg32Size-1]
	for i, p := range r.fields() {
		putU32(b[4*i:], *p)
	}
}

// Unmarshal reads r from b[0:Reg32Size].
func (r *Reg32) Unmarshal(b []byte) {
	_ = b[Reg32Size-1]
	for i, p := range r.fields() {
		*p = getU32(b[4*i:])
	}
}

// FPReg is FreeBSD amd64 struct fpreg: the 512-byte FXSAVE image. The
// fpr_env words are decoded as struct envxmm.
type FPReg struct {
	Cw        uint16       // x87 control word
	Sw        uint16       // x87 status word
	Tw        uint8        // abridged tag word (bit i set: register i valid)
	Zero      uint8        // reserved
	Opcode    uint16       // last x87 opcode
	Rip       uint64       // last x87 instruction pointer
	Rdp       uint64       // last x87 data pointer
	Mxcsr     uint32       // SSE control and status
	MxcsrMask uint32       // writable MXCSR bits
	Acc       [8][16]byte  // ST0-ST7 (10 meaningful bytes each)
	Xacc      [16][16]byte // XMM0-XMM15
	Spare     [96]byte     // fpr_spare
}

// Marshal writes f to b[0:FPRegSize] (the FXSAVE layout).
func (f *FPReg) Marshal(b []byte) {
	_ = b[FPRegSize-1]
	putU16(b[0:], f.Cw)
	putU16(b[2:], f.Sw)
	b[4] = f.Tw
	b[5] = f.Zero
	putU16(b[6:], f.Opcode)
	putU64(b[8:], f.Rip)
	putU64(b[16:], f.Rdp)
	putU32(b[24:], f.Mxcsr)
	putU32(b[28:], f.MxcsrMask)
	for i := range f.Acc {
		copy(b[32+16*i:], f.Acc[i][:])
	}
	for i := range f.Xacc {
		copy(b[160+16*i:], f.Xacc[i][:])
	}
	copy(b[416:512], f.Spare[:])
}

// Unmarshal reads f from b[0:FPRegSize], e.g. an FXSAVE image.
func (f *FPReg) Unmarshal(b []byte) {
	_ = b[FPRegSize-1]
	f.Cw = getU16(b[0:])
	f.Sw = getU16(b[2:])
	f.Tw = b[4]
	f.Zero = b[5]
	f.Opcode = getU16(b[6:])
	f.Rip = getU64(b[8:])
	f.Rdp = getU64(b[16:])
	f.Mxcsr = getU32(b[24:])
	f.MxcsrMask = getU32(b[28:])
	for i := range f.Acc {
		copy(f.Acc[i][:], b[32+16*i:])
	}
	for i := range f.Xacc {
		copy(f.Xacc[i][:], b[160+16*i:])
	}
	copy(f.Spare[:], b[416:512])
}

// FPReg32 is FreeBSD struct fpreg32: an i387 save87 image (176 bytes).
// Env holds the env87 words: cw, sw, tw, fip, fcs|opcode<<16, foo, fos.
type FPReg32 struct {
	Env  [7]uint32   // fpr_env
	Acc  [8][10]byte // ST0-ST7, 80 bits each
	ExSw uint32      // fpr_ex_sw
	Pad  [64]byte    // fpr_pad
}

// Marshal writes f to b[0:FPReg32Size].
func (f *FPReg32) Marshal(b []byte) {
	_ = b[FPReg32Size-1]
	for i, v := range f.Env {
		putU32(b[4*i:], v)
	}
	for i := range f.Acc {
		copy(b[28+10*i:], f.Acc[i][:])
	}
	putU32(b[108:], f.ExSw)
	copy(b[112:176], f.Pad[:])
}

// Unmarshal reads f from b[0:FPReg32Size].
func (f *FPReg32) Unmarshal(b []byte) {
	_ = b[FPReg32Size-1]
	for i := range f.Env {
		f.Env[i] = getU32(b[4*i:])
	}
	for i := range f.Acc {
		copy(f.Acc[i][:], b[28+10*i:])
	}
	f.ExSw = getU32(b[108:])
	copy(f.Pad[:], b[112:176])
}

// FPReg32FromFXSAVE builds the 32-bit image from an FXSAVE image the way
// FreeBSD's fill_fpregs32 does: the abridged tag word is expanded (a valid
// register is tagged 00, an empty one 11), fip and foo are truncated to 32
// bits, and fcs and fos come from the thread's cs and ds. ExSw and Pad are
// zero.
func FPReg32FromFXSAVE(fx *FPReg, cs, ds uint16) FPReg32 {
	var f FPReg32
	tw := uint32(0xffff)
	for i := 0; i < 8; i++ {
		if fx.Tw&(1<<uint(i)) != 0 {
			tw &^= 3 << (2 * uint(i))
		}
	}
	f.Env = [7]uint32{
		uint32(fx.Cw),
		uint32(fx.Sw),
		tw,
		uint32(fx.Rip),
		uint32(cs) | uint32(fx.Opcode)<<16,
		uint32(fx.Rdp),
		uint32(ds),
	}
	for i := range f.Acc {
		copy(f.Acc[i][:], fx.Acc[i][:10])
	}
	return f
}

// ApplyToFXSAVE stores f's state into the FXSAVE image fx (set_fpregs32):
// control, status, tag (re-abridged: any tag other than 11 marks the register
// valid), opcode, pointers and the eight x87 registers. SSE state is kept.
func (f *FPReg32) ApplyToFXSAVE(fx *FPReg) {
	fx.Cw = uint16(f.Env[0])
	fx.Sw = uint16(f.Env[1])
	var tw uint8
	for i := 0; i < 8; i++ {
		if (f.Env[2]>>(2*uint(i)))&3 != 3 {
			tw |= 1 << uint(i)
		}
	}
	fx.Tw = tw
	fx.Rip = uint64(f.Env[3])
	fx.Opcode = uint16(f.Env[4] >> 16)
	fx.Rdp = uint64(f.Env[5])
	for i := range f.Acc {
		copy(fx.Acc[i][:10], f.Acc[i][:])
	}
}

// DBReg is FreeBSD amd64 struct dbreg: DR0-DR15 (DR4, DR5 and DR8-15 read
// as zero). DR0-3 are addresses, DR6 status, DR7 control.
type DBReg struct {
	Dr [16]uint64
}

// Marshal writes d to b[0:DBRegSize].
func (d *DBReg) Marshal(b []byte) {
	_ = b[DBRegSize-1]
	for i, v := range d.Dr {
		putU64(b[8*i:], v)
	}
}

// Unmarshal reads d from b[0:DBRegSize].
func (d *DBReg) Unmarshal(b []byte) {
	_ = b[DBRegSize-1]
	for i := range d.Dr {
		d.Dr[i] = getU64(b[8*i:])
	}
}

// DBReg32 is FreeBSD struct dbreg32: DR0-DR7 as uint32.
type DBReg32 struct {
	Dr [8]uint32
}

// Marshal writes d to b[0:DBReg32Size].
func (d *DBReg32) Marshal(b []byte) {
	_ = b[DBReg32Size-1]
	for i, v := range d.Dr {
		putU32(b[4*i:], v)
	}
}

// Unmarshal reads d from b[0:DBReg32Size].
func (d *DBReg32) Unmarshal(b []byte) {
	_ = b[DBReg32Size-1]
	for i := range d.Dr {
		d.Dr[i] = getU32(b[4*i:])
	}
}

// Native returns the zero-extended native form (DR8-15 zero).
func (d *DBReg32) Native() DBReg {
	var n DBReg
	for i, v := range d.Dr {
		n.Dr[i] = uint64(v)
	}
	return n
}

// DBReg32Of truncates a native dbreg to the 32-bit form.
func DBReg32Of(n *DBReg) DBReg32 {
	var d DBReg32
	for i := range d.Dr {
		d.Dr[i] = uint32(n.Dr[i])
	}
	return d
}

// PtraceIoDesc is struct ptrace_io_desc (PT_IO). The same value is
// encoded in the native layout (Marshal, 32 bytes) or, for an ILP32 caller,
// as ptrace_io_desc32 (Marshal32, 16 bytes; addresses truncated to 32 bits).
type PtraceIoDesc struct {
	Op   int32  // piod_op: PIOD_*
	Offs uint64 // piod_offs: tracee address
	Addr uint64 // piod_addr: tracer buffer
	Len  uint64 // piod_len
}

// Marshal writes d to b[0:PtraceIoDescSize]; the padding is zeroed.
func (d *PtraceIoDesc) Marshal(b []byte) {
	_ = b[PtraceIoDescSize-1]
	putU32(b[0:], uint32(d.Op))
	putU32(b[4:], 0)
	putU64(b[8:], d.Offs)
	putU64(b[16:], d.Addr)
	putU64(b[24:], d.Len)
}

// Unmarshal reads d from b[0:PtraceIoDescSize].
func (d *PtraceIoDesc) Unmarshal(b []byte) {
	_ = b[PtraceIoDescSize-1]
	d.Op = int32(getU32(b[0:]))
	d.Offs = getU64(b[8:])
	d.Addr = getU64(b[16:])
	d.Len = getU64(b[24:])
}

// Marshal32 writes d to b[0:PtraceIoDesc32Size] as ptrace_io_desc32.
func (d *PtraceIoDesc) Marshal32(b []byte) {
	_ = b[PtraceIoDesc32Size-1]
	putU32(b[0:], uint32(d.Op))
	putU32(b[4:], uint32(d.Offs))
	putU32(b[8:], uint32(d.Addr))
	putU32(b[12:], uint32(d.Len))
}

// Unmarshal32 reads d from b[0:PtraceIoDesc32Size] (ptrace_io_desc32),
// zero-extending the addresses and length.
func (d *PtraceIoDesc) Unmarshal32(b []byte) {
	_ = b[PtraceIoDesc32Size-1]
	d.Op = int32(getU32(b[0:]))
	d.Offs = uint64(getU32(b[4:]))
	d.Addr = uint64(getU32(b[8:]))
	d.Len = uint64(getU32(b[12:]))
}

// FBSDSiginfo is FreeBSD's struct __siginfo as shown in pl_siginfo: 80
// bytes native, 64 as siginfo32. Signal numbers and codes in it are the
// guest's (Linux) values. Trapno shares its slot with si_timerid and
// si_mqd; Overrun is si_overrun.
type FBSDSiginfo struct {
	Signo   int32
	Errno   int32
	Code    int32
	Pid     int32
	Uid     uint32
	Status  int32
	Addr    uint64 // si_addr
	Value   uint64 // si_value (sival_int or sival_ptr)
	Trapno  int32  // si_trapno / si_timerid / si_mqd
	Overrun int32  // si_overrun
}

// Marshal writes s to b[0:FBSDSiginfoSize]; the unused reason words are zeroed.
func (s *FBSDSiginfo) Marshal(b []byte) {
	_ = b[FBSDSiginfoSize-1]
	s.marshalHead(b)
	putU64(b[24:], s.Addr)
	putU64(b[32:], s.Value)
	putU32(b[40:], uint32(s.Trapno))
	putU32(b[44:], uint32(s.Overrun))
	clear(b[48:80])
}

func (s *FBSDSiginfo) marshalHead(b []byte) {
	putU32(b[0:], uint32(s.Signo))
	putU32(b[4:], uint32(s.Errno))
	putU32(b[8:], uint32(s.Code))
	putU32(b[12:], uint32(s.Pid))
	putU32(b[16:], s.Uid)
	putU32(b[20:], uint32(s.Status))
}

func (s *FBSDSiginfo) unmarshalHead(b []byte) {
	s.Signo = int32(getU32(b[0:]))
	s.Errno = int32(getU32(b[4:]))
	s.Code = int32(getU32(b[8:]))
	s.Pid = int32(getU32(b[12:]))
	s.Uid = getU32(b[16:])
	s.Status = int32(getU32(b[20:]))
}

// Unmarshal reads s from b[0:FBSDSiginfoSize].
func (s *FBSDSiginfo) Unmarshal(b []byte) {
	_ = b[FBSDSiginfoSize-1]
	s.unmarshalHead(b)
	s.Addr = getU64(b[24:])
	s.Value = getU64(b[32:])
	s.Trapno = int32(getU32(b[40:]))
	s.Overrun = int32(getU32(b[44:]))
}

// Marshal32 writes s to b[0:FBSDSiginfo32Size] as struct siginfo32.
func (s *FBSDSiginfo) Marshal32(b []byte) {
	_ = b[FBSDSiginfo32Size-1]
	s.marshalHead(b)
	putU32(b[24:], uint32(s.Addr))
	putU32(b[28:], uint32(s.Value))
	putU32(b[32:], uint32(s.Trapno))
	putU32(b[36:], uint32(s.Overrun))
	clear(b[40:64])
}

// Unmarshal32 reads s from b[0:FBSDSiginfo32Size] (struct siginfo32).
func (s *FBSDSiginfo) Unmarshal32(b []byte) {
	_ = b[FBSDSiginfo32Size-1]
	s.unmarshalHead(b)
	s.Addr = uint64(getU32(b[24:]))
	s.Value = uint64(getU32(b[28:]))
	s.Trapno = int32(getU32(b[32:]))
	s.Overrun = int32(getU32(b[36:]))
}

// PtraceLwpinfo is struct ptrace_lwpinfo with the mid-2015 syscall fields.
// Marshal produces the whole structure; PT_LWPINFO copies out only the
// caller's data bytes of it. Sigmask and Siglist are the guest's 64-bit
// masks, stored in the low half of FreeBSD's 16-byte sigset_t.
type PtraceLwpinfo struct {
	Lwpid       int32       // pl_lwpid
	Event       int32       // pl_event: PL_EVENT_*
	Flags       int32       // pl_flags: PL_FLAG_*
	Sigmask     Sigset      // pl_sigmask
	Siglist     Sigset      // pl_siglist
	Siginfo     FBSDSiginfo // pl_siginfo (zero unless PL_FLAG_SI)
	Tdname      string      // pl_tdname, at most MAXCOMLEN bytes
	ChildPid    int32       // pl_child_pid (PL_FLAG_FORKED)
	SyscallCode uint32      // pl_syscall_code
	SyscallNarg int32       // pl_syscall_narg
}

func putFBSDSigset(b []byte, m Sigset) {
	putU64(b, uint64(m))
	putU64(b[8:], 0)
}

// Marshal writes the full native structure to b[0:PtraceLwpinfoSize].
func (l *PtraceLwpinfo) Marshal(b []byte) {
	_ = b[PtraceLwpinfoSize-1]
	putU32(b[0:], uint32(l.Lwpid))
	putU32(b[4:], uint32(l.Event))
	putU32(b[8:], uint32(l.Flags))
	putFBSDSigset(b[12:], l.Sigmask)
	putFBSDSigset(b[28:], l.Siglist)
	putU32(b[44:], 0)
	l.Siginfo.Marshal(b[48:128])
	putCString(b[128:148], l.Tdname)
	putU32(b[148:], uint32(l.ChildPid))
	putU32(b[152:], l.SyscallCode)
	putU32(b[156:], uint32(l.SyscallNarg))
}

// Unmarshal reads l from b[0:PtraceLwpinfoSize].
func (l *PtraceLwpinfo) Unmarshal(b []byte) {
	_ = b[PtraceLwpinfoSize-1]
	l.Lwpid = int32(getU32(b[0:]))
	l.Event = int32(getU32(b[4:]))
	l.Flags = int32(getU32(b[8:]))
	l.Sigmask = Sigset(getU64(b[12:]))
	l.Siglist = Sigset(getU64(b[28:]))
	l.Siginfo.Unmarshal(b[48:128])
	l.Tdname = getCString(b[128:148])
	l.ChildPid = int32(getU32(b[148:]))
	l.SyscallCode = getU32(b[152:])
	l.SyscallNarg = int32(getU32(b[156:]))
}

// Marshal32 writes the full ptrace_lwpinfo32 to b[0:PtraceLwpinfo32Size].
func (l *PtraceLwpinfo) Marshal32(b []byte) {
	_ = b[PtraceLwpinfo32Size-1]
	putU32(b[0:], uint32(l.Lwpid))
	putU32(b[4:], uint32(l.Event))
	putU32(b[8:], uint32(l.Flags))
	putFBSDSigset(b[12:], l.Sigmask)
	putFBSDSigset(b[28:], l.Siglist)
	l.Siginfo.Marshal32(b[44:108])
	putCString(b[108:128], l.Tdname)
	putU32(b[128:], uint32(l.ChildPid))
	putU32(b[132:], l.SyscallCode)
	putU32(b[136:], uint32(l.SyscallNarg))
}

// Unmarshal32 reads l from b[0:PtraceLwpinfo32Size].
func (l *PtraceLwpinfo) Unmarshal32(b []byte) {
	_ = b[PtraceLwpinfo32Size-1]
	l.Lwpid = int32(getU32(b[0:]))
	l.Event = int32(getU32(b[4:]))
	l.Flags = int32(getU32(b[8:]))
	l.Sigmask = Sigset(getU64(b[12:]))
	l.Siglist = Sigset(getU64(b[28:]))
	l.Siginfo.Unmarshal32(b[44:108])
	l.Tdname = getCString(b[108:128])
	l.ChildPid = int32(getU32(b[128:]))
	l.SyscallCode = getU32(b[132:])
	l.SyscallNarg = int32(getU32(b[136:]))
}

// PtraceVmEntry is struct ptrace_vm_entry (PT_VM_ENTRY): 64 bytes native,
// 40 as ptrace_vm_entry32.
type PtraceVmEntry struct {
	Entry     int32  // pve_entry: iteration cookie
	Timestamp int32  // pve_timestamp
	Start     uint64 // pve_start
	End       uint64 // pve_end (inclusive)
	Offset    uint64 // pve_offset
	Prot      uint32 // pve_prot: VM_PROT_*
	Pathlen   uint32 // pve_pathlen
	Fileid    int64  // pve_fileid (-1 when unknown)
	Fsid      uint32 // pve_fsid (0xffffffff when unknown)
	Path      uint64 // pve_path: tracer buffer address
}

// Marshal writes e to b[0:PtraceVmEntrySize]; the padding is zeroed.
func (e *PtraceVmEntry) Marshal(b []byte) {
	_ = b[PtraceVmEntrySize-1]
	putU32(b[0:], uint32(e.Entry))
	putU32(b[4:], uint32(e.Timestamp))
	putU64(b[8:], e.Start)
	putU64(b[16:], e.End)
	putU64(b[24:], e.Offset)
	putU32(b[32:], e.Prot)
	putU32(b[36:], e.Pathlen)
	putU64(b[40:], uint64(e.Fileid))
	putU32(b[48:], e.Fsid)
	putU32(b[52:], 0)
	putU64(b[56:], e.Path)
}

// Unmarshal reads e from b[0:PtraceVmEntrySize].
func (e *PtraceVmEntry) Unmarshal(b []byte) {
	_ = b[PtraceVmEntrySize-1]
	e.Entry = int32(getU32(b[0:]))
	e.Timestamp = int32(getU32(b[4:]))
	e.Start = getU64(b[8:])
	e.End = getU64(b[16:])
	e.Offset = getU64(b[24:])
	e.Prot = getU32(b[32:])
	e.Pathlen = getU32(b[36:])
	e.Fileid = int64(getU64(b[40:]))
	e.Fsid = getU32(b[48:])
	e.Path = getU64(b[56:])
}

// Marshal32 writes e to b[0:PtraceVmEntry32Size] as ptrace_vm_entry32.
func (e *PtraceVmEntry) Marshal32(b []byte) {
	_ = b[PtraceVmEntry32Size-1]
	putU32(b[0:], uint32(e.Entry))
	putU32(b[4:], uint32(e.Timestamp))
	putU32(b[8:], uint32(e.Start))
	putU32(b[12:], uint32(e.End))
	putU32(b[16:], uint32(e.Offset))
	putU32(b[20:], e.Prot)
	putU32(b[24:], e.Pathlen)
	putU32(b[28:], uint32(e.Fileid))
	putU32(b[32:], e.Fsid)
	putU32(b[36:], uint32(e.Path))
}

// Unmarshal32 reads e from b[0:PtraceVmEntry32Size]; pve_fileid is
// sign-extended, addresses zero-extended.
func (e *PtraceVmEntry) Unmarshal32(b []byte) {
	_ = b[PtraceVmEntry32Size-1]
	e.Entry = int32(getU32(b[0:]))
	e.Timestamp = int32(getU32(b[4:]))
	e.Start = uint64(getU32(b[8:]))
	e.End = uint64(getU32(b[12:]))
	e.Offset = uint64(getU32(b[16:]))
	e.Prot = getU32(b[20:])
	e.Pathlen = getU32(b[24:])
	e.Fileid = int64(int32(getU32(b[28:])))
	e.Fsid = getU32(b[32:])
	e.Path = uint64(getU32(b[36:]))
}
