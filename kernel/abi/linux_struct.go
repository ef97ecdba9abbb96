package abi

// Sizes of Linux x86-64 structures.
const (
	StatSize           = 144 // struct stat
	StatxSize          = 256 // struct statx
	TimespecSize       = 16
	TimevalSize        = 16
	RusageSize         = 144
	UtsnameFieldSize   = 65 // __NEW_UTS_LEN + 1
	UtsnameSize        = 6 * UtsnameFieldSize
	SysinfoSize        = 112
	RlimitSize         = 16
	SigactionSize      = 32 // kernel struct sigaction (k_sigaction)
	SiginfoSize        = 128
	StackSize          = 24 // stack_t
	SigcontextSize     = 256
	UcontextSize       = 304 // kernel struct ucontext
	EpollEventSize     = 12  // packed on x86-64
	PollfdSize         = 8
	IovecSize          = 16
	TermiosSize        = 36 // kernel struct termios
	WinsizeSize        = 8
	CloneArgsSizeVer0  = 64
	CloneArgsSizeVer1  = 80
	CloneArgsSizeVer2  = 88
	RobustListHeadSize = 24
	FXSaveSize         = 512 // legacy FPU area of a signal frame's fpstate
)

// Layout of the x86-64 rt_sigframe a signal handler is entered with: the
// return address (pretcode) at the stack pointer, then the ucontext, then
// the siginfo; the fpstate (64-byte aligned) follows.
const (
	RtSigframeUcontext  = 8                            // offsetof(rt_sigframe, uc)
	RtSigframeInfo      = 8 + UcontextSize             // offsetof(rt_sigframe, info) = 312
	RtSigframeSize      = RtSigframeInfo + SiginfoSize // 440
	UcontextFlags       = 0                            // offsetof(ucontext, uc_flags)
	UcontextLink        = 8                            // uc_link
	UcontextStack       = 16                           // uc_stack
	UcontextMcontext    = 40                           // uc_mcontext (struct sigcontext)
	UcontextSigmask     = 296                          // uc_sigmask
	SigcontextGregs     = 0                            // r8 ... cr2, in REG_* order, 8 bytes each
	SigcontextCS        = 144                          // cs (u16), then gs, fs, ss
	SigcontextFpstate   = 184                          // fpstate pointer
	SigcontextReserved1 = 192                          // __reserved1[8]
)

// Timespec is struct timespec.
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Marshal writes t to b[0:16].
func (t *Timespec) Marshal(b []byte) {
	putU64(b[0:], uint64(t.Sec))
	putU64(b[8:], uint64(t.Nsec))
}

// Unmarshal reads t from b[0:16].
func (t *Timespec) Unmarshal(b []byte) {
	t.Sec = int64(getU64(b[0:]))
	t.Nsec = int64(getU64(b[8:]))
}

// Timeval is struct timeval.
type Timeval struct {
	Sec  int64
	Usec int64
}

// Marshal writes t to b[0:16].
func (t *Timeval) Marshal(b []byte) {
	putU64(b[0:], uint64(t.Sec))
	putU64(b[8:], uint64(t.Usec))
}

// Unmarshal reads t from b[0:16].
func (t *Timeval) Unmarshal(b []byte) {
	t.Sec = int64(getU64(b[0:]))
	t.Usec = int64(getU64(b[8:]))
}

// Stat is the x86-64 struct stat (fstat, newfstatat), 144 bytes.
type Stat struct {
	Dev     uint64
	Ino     uint64
	Nlink   uint64
	Mode    uint32
	Uid     uint32
	Gid     uint32
	Rdev    uint64
	Size    int64
	Blksize int64
	Blocks  int64
	Atim    Timespec
	Mtim    Timespec
	Ctim    Timespec
}

// Marshal writes s to b[0:StatSize]; padding and __unused are zeroed.
func (s *Stat) Marshal(b []byte) {
	_ = b[StatSize-1]
	putU64(b[0:], s.Dev)
	putU64(b[8:], s.Ino)
	putU64(b[16:], s.Nlink)
	putU32(b[24:], s.Mode)
	putU32(b[28:], s.Uid)
	putU32(b[32:], s.Gid)
	putU32(b[36:], 0)
	putU64(b[40:], s.Rdev)
	putU64(b[48:], uint64(s.Size))
	putU64(b[56:], uint64(s.Blksize))
	putU64(b[64:], uint64(s.Blocks))
	s.Atim.Marshal(b[72:])
	s.Mtim.Marshal(b[88:])
	s.Ctim.Marshal(b[104:])
	clear(b[120:144])
}

// Unmarshal reads s from b[0:StatSize].
func (s *Stat) Unmarshal(b []byte) {
	_ = b[StatSize-1]
	s.Dev = getU64(b[0:])
	s.Ino = getU64(b[8:])
	s.Nlink = getU64(b[16:])
	s.Mode = getU32(b[24:])
	s.Uid = getU32(b[28:])
	s.Gid = getU32(b[32:])
	s.Rdev = getU64(b[40:])
	s.Size = int64(getU64(b[48:]))
	s.Blksize = int64(getU64(b[56:]))
	s.Blocks = int64(getU64(b[64:]))
	s.Atim.Unmarshal(b[72:])
	s.Mtim.Unmarshal(b[88:])
	s.Ctim.Unmarshal(b[104:])
}

// StatxTimestamp is struct statx_timestamp (16 bytes).
type StatxTimestamp struct {
	Sec  int64
	Nsec uint32
}

func (t *StatxTimestamp) marshal(b []byte) {
	putU64(b[0:], uint64(t.Sec))
	putU32(b[8:], t.Nsec)
	putU32(b[12:], 0)
}

func (t *StatxTimestamp) unmarshal(b []byte) {
	t.Sec = int64(getU64(b[0:]))
	t.Nsec = getU32(b[8:])
}

// Statx is struct statx (256 bytes); fields after stx_dio_offset_align
// are written as zero.
type Statx struct {
	Mask           uint32
	Blksize        uint32
	Attributes     uint64
	Nlink          uint32
	Uid            uint32
	Gid            uint32
	Mode           uint16
	Ino            uint64
	Size           uint64
	Blocks         uint64
	AttributesMask uint64
	Atime          StatxTimestamp
	Btime          StatxTimestamp
	Ctime          StatxTimestamp
	Mtime          StatxTimestamp
	RdevMajor      uint32
	RdevMinor      uint32
	DevMajor       uint32
	DevMinor       uint32
	MntID          uint64
	DioMemAlign    uint32
	DioOffsetAlign uint32
}

// Marshal writes s to b[0:StatxSize].
func (s *Statx) Marshal(b []byte) {
	_ = b[StatxSize-1]
	putU32(b[0:], s.Mask)
	putU32(b[4:], s.Blksize)
	putU64(b[8:], s.Attributes)
	putU32(b[16:], s.Nlink)
	putU32(b[20:], s.Uid)
	putU32(b[24:], s.Gid)
	putU16(b[28:], s.Mode)
	putU16(b[30:], 0)
	putU64(b[32:], s.Ino)
	putU64(b[40:], s.Size)
	putU64(b[48:], s.Blocks)
	putU64(b[56:], s.AttributesMask)
	s.Atime.marshal(b[64:])
	s.Btime.marshal(b[80:])
	s.Ctime.marshal(b[96:])
	s.Mtime.marshal(b[112:])
	putU32(b[128:], s.RdevMajor)
	putU32(b[132:], s.RdevMinor)
	putU32(b[136:], s.DevMajor)
	putU32(b[140:], s.DevMinor)
	putU64(b[144:], s.MntID)
	putU32(b[152:], s.DioMemAlign)
	putU32(b[156:], s.DioOffsetAlign)
	clear(b[160:256])
}

// Unmarshal reads s from b[0:StatxSize].
func (s *Statx) Unmarshal(b []byte) {
	_ = b[StatxSize-1]
	s.Mask = getU32(b[0:])
	s.Blksize = getU32(b[4:])
	s.Attributes = getU64(b[8:])
	s.Nlink = getU32(b[16:])
	s.Uid = getU32(b[20:])
	s.Gid = getU32(b[24:])
	s.Mode = getU16(b[28:])
	s.Ino = getU64(b[32:])
	s.Size = getU64(b[40:])
	s.Blocks = getU64(b[48:])
	s.AttributesMask = getU64(b[56:])
	s.Atime.unmarshal(b[64:])
	s.Btime.unmarshal(b[80:])
	s.Ctime.unmarshal(b[96:])
	s.Mtime.unmarshal(b[112:])
	s.RdevMajor = getU32(b[128:])
	s.RdevMinor = getU32(b[132:])
	s.DevMajor = getU32(b[136:])
	s.DevMinor = getU32(b[140:])
	s.MntID = getU64(b[144:])
	s.DioMemAlign = getU32(b[152:])
	s.DioOffsetAlign = getU32(b[156:])
}

// Rusage is struct rusage (144 bytes).
type Rusage struct {
	Utime, Stime                                Timeval
	Maxrss, Ixrss, Idrss, Isrss, Minflt, Majflt int64
	Nswap, Inblock, Oublock, Msgsnd, Msgrcv     int64
	Nsignals, Nvcsw, Nivcsw                     int64
}

// Marshal writes r to b[0:RusageSize].
func (r *Rusage) Marshal(b []byte) {
	_ = b[RusageSize-1]
	r.Utime.Marshal(b[0:])
	r.Stime.Marshal(b[16:])
	for i, v := range [...]int64{r.Maxrss, r.Ixrss, r.Idrss, r.Isrss, r.Minflt, r.Majflt, r.Nswap,
		r.Inblock, r.Oublock, r.Msgsnd, r.Msgrcv, r.Nsignals, r.Nvcsw, r.Nivcsw} {
		putU64(b[32+8*i:], uint64(v))
	}
}

// Utsname is struct new_utsname: six NUL-terminated 65-byte fields.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// Marshal writes u to b[0:UtsnameSize]; each field is truncated to 64
// bytes and NUL-padded.
func (u *Utsname) Marshal(b []byte) {
	_ = b[UtsnameSize-1]
	for i, s := range [...]string{u.Sysname, u.Nodename, u.Release, u.Version, u.Machine, u.Domainname} {
		putCString(b[i*UtsnameFieldSize:(i+1)*UtsnameFieldSize], s)
	}
}

// Sysinfo is struct sysinfo (112 bytes on x86-64).
type Sysinfo struct {
	Uptime    int64
	Loads     [3]uint64
	Totalram  uint64
	Freeram   uint64
	Sharedram uint64
	Bufferram uint64
	Totalswap uint64
	Freeswap  uint64
	Procs     uint16
	Totalhigh uint64
	Freehigh  uint64
	MemUnit   uint32
}

// Marshal writes s to b[0:SysinfoSize]; padding is zeroed.
func (s *Sysinfo) Marshal(b []byte) {
	_ = b[SysinfoSize-1]
	clear(b[:SysinfoSize])
	putU64(b[0:], uint64(s.Uptime))
	for i, l := range s.Loads {
		putU64(b[8+8*i:], l)
	}
	putU64(b[32:], s.Totalram)
	putU64(b[40:], s.Freeram)
	putU64(b[48:], s.Sharedram)
	putU64(b[56:], s.Bufferram)
	putU64(b[64:], s.Totalswap)
	putU64(b[72:], s.Freeswap)
	putU16(b[80:], s.Procs)
	putU64(b[88:], s.Totalhigh)
	putU64(b[96:], s.Freehigh)
	putU32(b[104:], s.MemUnit)
}

// Rlimit is struct rlimit (and rlimit64).
type Rlimit struct {
	Cur, Max uint64
}

// Marshal writes r to b[0:16].
func (r *Rlimit) Marshal(b []byte) {
	putU64(b[0:], r.Cur)
	putU64(b[8:], r.Max)
}

// Unmarshal reads r from b[0:16].
func (r *Rlimit) Unmarshal(b []byte) {
	r.Cur = getU64(b[0:])
	r.Max = getU64(b[8:])
}

// Sigaction is the kernel's struct sigaction for x86-64 rt_sigaction
// (32 bytes: handler, flags, restorer, mask).
type Sigaction struct {
	Handler  uint64 // SIG_DFL, SIG_IGN or a handler address
	Flags    uint64 // SA_*
	Restorer uint64 // with SA_RESTORER
	Mask     Sigset
}

// Marshal writes a to b[0:SigactionSize].
func (a *Sigaction) Marshal(b []byte) {
	_ = b[SigactionSize-1]
	putU64(b[0:], a.Handler)
	putU64(b[8:], a.Flags)
	putU64(b[16:], a.Restorer)
	putU64(b[24:], uint64(a.Mask))
}

// Unmarshal reads a from b[0:SigactionSize].
func (a *Sigaction) Unmarshal(b []byte) {
	_ = b[SigactionSize-1]
	a.Handler = getU64(b[0:])
	a.Flags = getU64(b[8:])
	a.Restorer = getU64(b[16:])
	a.Mask = Sigset(getU64(b[24:]))
}

// Stack is stack_t (sigaltstack, uc_stack), 24 bytes.
type Stack struct {
	Sp    uint64
	Flags int32
	Size  uint64
}

// Marshal writes s to b[0:StackSize].
func (s *Stack) Marshal(b []byte) {
	_ = b[StackSize-1]
	putU64(b[0:], s.Sp)
	putU32(b[8:], uint32(s.Flags))
	putU32(b[12:], 0)
	putU64(b[16:], s.Size)
}

// Unmarshal reads s from b[0:StackSize].
func (s *Stack) Unmarshal(b []byte) {
	_ = b[StackSize-1]
	s.Sp = getU64(b[0:])
	s.Flags = int32(getU32(b[8:]))
	s.Size = getU64(b[16:])
}

// Siginfo is the Linux siginfo_t (128 bytes). The union after si_code
// (at offset 16) is kept as raw bytes with accessors for the members a
// kernel fills: kill/rt (pid, uid, value), chld (pid, uid, status, utime,
// stime), fault (addr, addr_lsb, pkey), timer (timerid, overrun, value),
// poll (band, fd) and sys (call_addr, syscall, arch).
type Siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	Union [112]byte // _sifields, at offset 16
}

// Offsets inside Siginfo.Union (each is the siginfo_t offset minus 16).
const (
	siPid     = 0  // si_pid (kill, rt, chld)
	siUid     = 4  // si_uid
	siValue   = 8  // si_value (rt, timer)
	siStatus  = 8  // si_status (chld)
	siUtime   = 16 // si_utime (chld)
	siStime   = 24 // si_stime (chld)
	siAddr    = 0  // si_addr (fault), si_call_addr (sys)
	siAddrLsb = 8  // si_addr_lsb (fault)
	siPkey    = 16 // si_pkey (fault, SEGV_PKUERR)
	siTimerid = 0  // si_timerid (timer)
	siOverrun = 4  // si_overrun (timer)
	siBand    = 0  // si_band (poll)
	siFd      = 8  // si_fd (poll)
	siSyscall = 8  // si_syscall (sys)
	siArch    = 12 // si_arch (sys)
)

// Pid returns si_pid.
func (s *Siginfo) Pid() int32 { return int32(getU32(s.Union[siPid:])) }

// SetPid sets si_pid.
func (s *Siginfo) SetPid(v int32) { putU32(s.Union[siPid:], uint32(v)) }

// Uid returns si_uid.
func (s *Siginfo) Uid() uint32 { return getU32(s.Union[siUid:]) }

// SetUid sets si_uid.
func (s *Siginfo) SetUid(v uint32) { putU32(s.Union[siUid:], v) }

// Value returns si_value (sival_ptr / sival_int).
func (s *Siginfo) Value() uint64 { return getU64(s.Union[siValue:]) }

// SetValue sets si_value.
func (s *Siginfo) SetValue(v uint64) { putU64(s.Union[siValue:], v) }

// Status returns si_status (SIGCHLD).
func (s *Siginfo) Status() int32 { return int32(getU32(s.Union[siStatus:])) }

// SetStatus sets si_status.
func (s *Siginfo) SetStatus(v int32) { putU32(s.Union[siStatus:], uint32(v)) }

// Utime returns si_utime (clock ticks).
func (s *Siginfo) Utime() int64 { return int64(getU64(s.Union[siUtime:])) }

// SetUtime sets si_utime.
func (s *Siginfo) SetUtime(v int64) { putU64(s.Union[siUtime:], uint64(v)) }

// Stime returns si_stime (clock ticks).
func (s *Siginfo) Stime() int64 { return int64(getU64(s.Union[siStime:])) }

// SetStime sets si_stime.
func (s *Siginfo) SetStime(v int64) { putU64(s.Union[siStime:], uint64(v)) }

// Addr returns si_addr (fault signals) or si_call_addr (SIGSYS).
func (s *Siginfo) Addr() uint64 { return getU64(s.Union[siAddr:]) }

// SetAddr sets si_addr.
func (s *Siginfo) SetAddr(v uint64) { putU64(s.Union[siAddr:], v) }

// AddrLsb returns si_addr_lsb.
func (s *Siginfo) AddrLsb() int16 { return int16(getU16(s.Union[siAddrLsb:])) }

// SetAddrLsb sets si_addr_lsb.
func (s *Siginfo) SetAddrLsb(v int16) { putU16(s.Union[siAddrLsb:], uint16(v)) }

// Pkey returns si_pkey.
func (s *Siginfo) Pkey() uint32 { return getU32(s.Union[siPkey:]) }

// SetPkey sets si_pkey.
func (s *Siginfo) SetPkey(v uint32) { putU32(s.Union[siPkey:], v) }

// Timerid returns si_timerid.
func (s *Siginfo) Timerid() int32 { return int32(getU32(s.Union[siTimerid:])) }

// SetTimerid sets si_timerid.
func (s *Siginfo) SetTimerid(v int32) { putU32(s.Union[siTimerid:], uint32(v)) }

// Overrun returns si_overrun.
func (s *Siginfo) Overrun() int32 { return int32(getU32(s.Union[siOverrun:])) }

// SetOverrun sets si_overrun.
func (s *Siginfo) SetOverrun(v int32) { putU32(s.Union[siOverrun:], uint32(v)) }

// Band returns si_band.
func (s *Siginfo) Band() int64 { return int64(getU64(s.Union[siBand:])) }

// SetBand sets si_band.
func (s *Siginfo) SetBand(v int64) { putU64(s.Union[siBand:], uint64(v)) }

// Fd returns si_fd.
func (s *Siginfo) Fd() int32 { return int32(getU32(s.Union[siFd:])) }

// SetFd sets si_fd.
func (s *Siginfo) SetFd(v int32) { putU32(s.Union[siFd:], uint32(v)) }

// Syscall returns si_syscall (SIGSYS).
func (s *Siginfo) Syscall() int32 { return int32(getU32(s.Union[siSyscall:])) }

// SetSyscall sets si_syscall.
func (s *Siginfo) SetSyscall(v int32) { putU32(s.Union[siSyscall:], uint32(v)) }

// Arch returns si_arch (SIGSYS).
func (s *Siginfo) Arch() uint32 { return getU32(s.Union[siArch:]) }

// SetArch sets si_arch.
func (s *Siginfo) SetArch(v uint32) { putU32(s.Union[siArch:], v) }

// SiginfoKill returns the siginfo of a signal sent by kill, tkill or
// sigqueue: code SI_USER, SI_TKILL, SI_QUEUE, ...
func SiginfoKill(sig Signal, code int32, pid int32, uid uint32) Siginfo {
	s := Siginfo{Signo: int32(sig), Code: code}
	s.SetPid(pid)
	s.SetUid(uid)
	return s
}

// SiginfoFault returns the siginfo of a synchronous fault (SIGSEGV,
// SIGBUS, SIGILL, SIGFPE, SIGTRAP) at addr.
func SiginfoFault(sig Signal, code int32, addr uint64) Siginfo {
	s := Siginfo{Signo: int32(sig), Code: code}
	s.SetAddr(addr)
	return s
}

// SiginfoChld returns a SIGCHLD siginfo: code CLD_*, status the exit code
// or signal number.
func SiginfoChld(code int32, pid int32, uid uint32, status int32, utime, stime int64) Siginfo {
	s := Siginfo{Signo: int32(SIGCHLD), Code: code}
	s.SetPid(pid)
	s.SetUid(uid)
	s.SetStatus(status)
	s.SetUtime(utime)
	s.SetStime(stime)
	return s
}

// Marshal writes s to b[0:SiginfoSize]; the padding after si_code is zeroed.
func (s *Siginfo) Marshal(b []byte) {
	_ = b[SiginfoSize-1]
	putU32(b[0:], uint32(s.Signo))
	putU32(b[4:], uint32(s.Errno))
	putU32(b[8:], uint32(s.Code))
	putU32(b[12:], 0)
	copy(b[16:128], s.Union[:])
}

// Unmarshal reads s from b[0:SiginfoSize].
func (s *Siginfo) Unmarshal(b []byte) {
	_ = b[SiginfoSize-1]
	s.Signo = int32(getU32(b[0:]))
	s.Errno = int32(getU32(b[4:]))
	s.Code = int32(getU32(b[8:]))
	copy(s.Union[:], b[16:128])
}

// Sigcontext is the x86-64 struct sigcontext (uc_mcontext), 256 bytes.
// Gregs holds r8 ... cr2 in REG_* order; Gregs[REG_CSGSFS] packs cs, gs, fs
// and ss (low to high 16-bit words).
type Sigcontext struct {
	Gregs   [NGREG]uint64
	Fpstate uint64 // pointer to the fpstate, 0 if none
}

// Marshal writes c to b[0:SigcontextSize]; __reserved1 is zeroed.
func (c *Sigcontext) Marshal(b []byte) {
	_ = b[SigcontextSize-1]
	for i, v := range c.Gregs {
		putU64(b[8*i:], v)
	}
	putU64(b[SigcontextFpstate:], c.Fpstate)
	clear(b[SigcontextReserved1:SigcontextSize])
}

// Unmarshal reads c from b[0:SigcontextSize].
func (c *Sigcontext) Unmarshal(b []byte) {
	_ = b[SigcontextSize-1]
	for i := range c.Gregs {
		c.Gregs[i] = getU64(b[8*i:])
	}
	c.Fpstate = getU64(b[SigcontextFpstate:])
}

// Ucontext is the kernel's x86-64 struct ucontext (304 bytes), as placed
// in an rt_sigframe.
type Ucontext struct {
	Flags    uint64 // UC_*
	Link     uint64
	Stack    Stack
	Mcontext Sigcontext
	Sigmask  Sigset
}

// Marshal writes u to b[0:UcontextSize].
func (u *Ucontext) Marshal(b []byte) {
	_ = b[UcontextSize-1]
	putU64(b[UcontextFlags:], u.Flags)
	putU64(b[UcontextLink:], u.Link)
	u.Stack.Marshal(b[UcontextStack:])
	u.Mcontext.Marshal(b[UcontextMcontext:])
	putU64(b[UcontextSigmask:], uint64(u.Sigmask))
}

// Unmarshal reads u from b[0:UcontextSize].
func (u *Ucontext) Unmarshal(b []byte) {
	_ = b[UcontextSize-1]
	u.Flags = getU64(b[UcontextFlags:])
	u.Link = getU64(b[UcontextLink:])
	u.Stack.Unmarshal(b[UcontextStack:])
	u.Mcontext.Unmarshal(b[UcontextMcontext:])
	u.Sigmask = Sigset(getU64(b[UcontextSigmask:]))
}

// Dirent64Size returns d_reclen of a linux_dirent64 for name: the 19-byte
// header plus the name and its NUL, rounded up to 8.
func Dirent64Size(name string) int { return (19 + len(name) + 1 + 7) &^ 7 }

// AppendDirent64 appends a struct linux_dirent64 (getdents64) to b.
func AppendDirent64(b []byte, ino uint64, off int64, typ uint8, name string) []byte {
	n := Dirent64Size(name)
	start := len(b)
	b = append(b, make([]byte, n)...)
	d := b[start:]
	putU64(d[0:], ino)
	putU64(d[8:], uint64(off))
	putU16(d[16:], uint16(n))
	d[18] = typ
	copy(d[19:], name)
	return b
}

// DirentSize returns d_reclen of an old struct linux_dirent (getdents):
// the 18-byte header, the name, its NUL and the trailing d_type byte,
// rounded up to 8.
func DirentSize(name string) int { return (18 + len(name) + 2 + 7) &^ 7 }

// AppendDirent appends an old struct linux_dirent (getdents) to b; d_type
// is the record's last byte.
func AppendDirent(b []byte, ino uint64, off int64, typ uint8, name string) []byte {
	n := DirentSize(name)
	start := len(b)
	b = append(b, make([]byte, n)...)
	d := b[start:]
	putU64(d[0:], ino)
	putU64(d[8:], uint64(off))
	putU16(d[16:], uint16(n))
	copy(d[18:], name)
	d[n-1] = typ
	return b
}

// EpollEvent is struct epoll_event, packed to 12 bytes on x86-64.
type EpollEvent struct {
	Events uint32
	Data   uint64
}

// Marshal writes e to b[0:12].
func (e *EpollEvent) Marshal(b []byte) {
	_ = b[EpollEventSize-1]
	putU32(b[0:], e.Events)
	putU64(b[4:], e.Data)
}

// Unmarshal reads e from b[0:12].
func (e *EpollEvent) Unmarshal(b []byte) {
	_ = b[EpollEventSize-1]
	e.Events = getU32(b[0:])
	e.Data = getU64(b[4:])
}

// Pollfd is struct pollfd (8 bytes).
type Pollfd struct {
	Fd      int32
	Events  int16
	Revents int16
}

// Marshal writes p to b[0:8].
func (p *Pollfd) Marshal(b []byte) {
	_ = b[PollfdSize-1]
	putU32(b[0:], uint32(p.Fd))
	putU16(b[4:], uint16(p.Events))
	putU16(b[6:], uint16(p.Revents))
}

// Unmarshal reads p from b[0:8].
func (p *Pollfd) Unmarshal(b []byte) {
	_ = b[PollfdSize-1]
	p.Fd = int32(getU32(b[0:]))
	p.Events = int16(getU16(b[4:]))
	p.Revents = int16(getU16(b[6:]))
}

// Iovec is struct iovec (16 bytes).
type Iovec struct {
	Base uint64
	Len  uint64
}

// Marshal writes v to b[0:16].
func (v *Iovec) Marshal(b []byte) {
	putU64(b[0:], v.Base)
	putU64(b[8:], v.Len)
}

// Unmarshal reads v from b[0:16].
func (v *Iovec) Unmarshal(b []byte) {
	v.Base = getU64(b[0:])
	v.Len = getU64(b[8:])
}

// Termios is the kernel's struct termios (TCGETS/TCSETS), 36 bytes.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	Cc                         [NCCS]uint8
}

// Marshal writes t to b[0:TermiosSize].
func (t *Termios) Marshal(b []byte) {
	_ = b[TermiosSize-1]
	putU32(b[0:], t.Iflag)
	putU32(b[4:], t.Oflag)
	putU32(b[8:], t.Cflag)
	putU32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:36], t.Cc[:])
}

// Unmarshal reads t from b[0:TermiosSize].
func (t *Termios) Unmarshal(b []byte) {
	_ = b[TermiosSize-1]
	t.Iflag = getU32(b[0:])
	t.Oflag = getU32(b[4:])
	t.Cflag = getU32(b[8:])
	t.Lflag = getU32(b[12:])
	t.Line = b[16]
	copy(t.Cc[:], b[17:36])
}

// Winsize is struct winsize (TIOCGWINSZ), 8 bytes.
type Winsize struct {
	Row, Col, Xpixel, Ypixel uint16
}

// Marshal writes w to b[0:8].
func (w *Winsize) Marshal(b []byte) {
	_ = b[WinsizeSize-1]
	putU16(b[0:], w.Row)
	putU16(b[2:], w.Col)
	putU16(b[4:], w.Xpixel)
	putU16(b[6:], w.Ypixel)
}

// Unmarshal reads w from b[0:8].
func (w *Winsize) Unmarshal(b []byte) {
	_ = b[WinsizeSize-1]
	w.Row = getU16(b[0:])
	w.Col = getU16(b[2:])
	w.Xpixel = getU16(b[4:])
	w.Ypixel = getU16(b[6:])
}

// CloneArgs is struct clone_args (clone3). Fields past the caller's size
// read as zero.
type CloneArgs struct {
	Flags, Pidfd, ChildTid, ParentTid, ExitSignal, Stack, StackSize, TLS uint64
	SetTid, SetTidSize, Cgroup                                           uint64
}

// Unmarshal reads a clone_args of size len(b) (a multiple of 8, at
// most CloneArgsSizeVer2 bytes are used).
func (c *CloneArgs) Unmarshal(b []byte) {
	ps := [...]*uint64{&c.Flags, &c.Pidfd, &c.ChildTid, &c.ParentTid, &c.ExitSignal, &c.Stack,
		&c.StackSize, &c.TLS, &c.SetTid, &c.SetTidSize, &c.Cgroup}
	for i, p := range ps {
		if 8*i+8 <= len(b) {
			*p = getU64(b[8*i:])
		} else {
			*p = 0
		}
	}
}
