package abi

import "testing"

func TestLinuxStructLayouts(t *testing.T) {
	var s Stat
	u64 := func(name string, off int, p *uint64) field { return field{name, off, 8, func(v uint64) { *p = v }} }
	checkLayout(t, "stat", StatSize, []field{
		u64("st_dev", 0, &s.Dev), u64("st_ino", 8, &s.Ino), u64("st_nlink", 16, &s.Nlink),
		{"st_mode", 24, 4, func(v uint64) { s.Mode = uint32(v) }},
		{"st_uid", 28, 4, func(v uint64) { s.Uid = uint32(v) }},
		{"st_gid", 32, 4, func(v uint64) { s.Gid = uint32(v) }},
		u64("st_rdev", 40, &s.Rdev),
		{"st_size", 48, 8, func(v uint64) { s.Size = int64(v) }},
		{"st_blksize", 56, 8, func(v uint64) { s.Blksize = int64(v) }},
		{"st_blocks", 64, 8, func(v uint64) { s.Blocks = int64(v) }},
		{"st_atime", 72, 8, func(v uint64) { s.Atim.Sec = int64(v) }},
		{"st_mtime_nsec", 96, 8, func(v uint64) { s.Mtim.Nsec = int64(v) }},
		{"st_ctime", 104, 8, func(v uint64) { s.Ctim.Sec = int64(v) }},
	}, func() { s = Stat{} }, s.Marshal)
	roundTrip(t, "stat", StatSize, s.Marshal, s.Unmarshal)

	var x Statx
	checkLayout(t, "statx", StatxSize, []field{
		{"stx_mask", 0, 4, func(v uint64) { x.Mask = uint32(v) }},
		{"stx_mode", 28, 2, func(v uint64) { x.Mode = uint16(v) }},
		{"stx_ino", 32, 8, func(v uint64) { x.Ino = v }},
		{"stx_mtime.tv_nsec", 120, 4, func(v uint64) { x.Mtime.Nsec = uint32(v) }},
		{"stx_dev_minor", 140, 4, func(v uint64) { x.DevMinor = uint32(v) }},
		{"stx_mnt_id", 144, 8, func(v uint64) { x.MntID = v }},
	}, func() { x = Statx{} }, x.Marshal)
	roundTrip(t, "statx", StatxSize, x.Marshal, x.Unmarshal)

	var a Sigaction
	checkLayout(t, "sigaction", SigactionSize, []field{
		u64("handler", 0, &a.Handler), u64("flags", 8, &a.Flags), u64("restorer", 16, &a.Restorer),
		{"mask", 24, 8, func(v uint64) { a.Mask = Sigset(v) }},
	}, func() { a = Sigaction{} }, a.Marshal)

	var e EpollEvent
	checkLayout(t, "epoll_event", EpollEventSize, []field{
		{"events", 0, 4, func(v uint64) { e.Events = uint32(v) }},
		{"data", 4, 8, func(v uint64) { e.Data = v }},
	}, func() { e = EpollEvent{} }, e.Marshal)

	var u Ucontext
	checkLayout(t, "ucontext", UcontextSize, []field{
		u64("uc_flags", 0, &u.Flags),
		{"uc_stack.ss_size", 32, 8, func(v uint64) { u.Stack.Size = v }},
		{"rip", UcontextMcontext + 8*REG_RIP, 8, func(v uint64) { u.Mcontext.Gregs[REG_RIP] = v }},
		{"fpstate", UcontextMcontext + SigcontextFpstate, 8, func(v uint64) { u.Mcontext.Fpstate = v }},
		{"uc_sigmask", UcontextSigmask, 8, func(v uint64) { u.Sigmask = Sigset(v) }},
	}, func() { u = Ucontext{} }, u.Marshal)

	var tm Termios
	checkLayout(t, "termios", TermiosSize, []field{
		{"c_lflag", 12, 4, func(v uint64) { tm.Lflag = uint32(v) }},
		{"c_line", 16, 1, func(v uint64) { tm.Line = uint8(v) }},
		{"c_cc[VMIN]", 17 + VMIN, 1, func(v uint64) { tm.Cc[VMIN] = uint8(v) }},
	}, func() { tm = Termios{} }, tm.Marshal)
	if RtSigframeSize != 440 {
		t.Errorf("rt_sigframe size %d", RtSigframeSize)
	}
}

func TestSiginfo(t *testing.T) {
	s := SiginfoChld(CLD_EXITED, 1234, 1000, 3, 5, 6)
	b := make([]byte, SiginfoSize)
	s.Marshal(b)
	if getU32(b[0:]) != uint32(SIGCHLD) || getU32(b[8:]) != CLD_EXITED || getU32(b[16:]) != 1234 ||
		getU32(b[20:]) != 1000 || getU32(b[24:]) != 3 || getU64(b[32:]) != 5 || getU64(b[40:]) != 6 {
		t.Errorf("chld siginfo bytes % x", b[:48])
	}
	f := SiginfoFault(SIGSEGV, SEGV_MAPERR, 0xdeadbeef)
	f.Marshal(b)
	var g Siginfo
	g.Unmarshal(b)
	if g.Addr() != 0xdeadbeef || g.Code != SEGV_MAPERR || getU64(b[16:]) != 0xdeadbeef {
		t.Error("fault siginfo")
	}
	k := SiginfoKill(SIGUSR1, SI_TKILL, 7, 8)
	if k.Pid() != 7 || k.Uid() != 8 || k.Code != -6 {
		t.Error("kill siginfo")
	}
}

func TestDirent(t *testing.T) {
	b := AppendDirent64(nil, 5, 1, DT_REG, "hello")
	if len(b) != 32 || getU16(b[16:]) != 32 || b[18] != DT_REG || string(b[19:24]) != "hello" || b[24] != 0 {
		t.Errorf("dirent64 % x", b)
	}
	b = AppendDirent64(b, 6, 2, DT_DIR, "abcd") // 19+5 = 24
	if len(b) != 32+24 {
		t.Errorf("second dirent64 len %d", len(b)-32)
	}
	d := AppendDirent(nil, 5, 1, DT_DIR, "x")
	if len(d) != 24 || d[23] != DT_DIR || d[18] != 'x' || d[19] != 0 {
		t.Errorf("dirent % x", d)
	}
	if DTFromMode(S_IFDIR|0o755) != DT_DIR || DTFromMode(S_IFLNK) != DT_LNK {
		t.Error("DTFromMode")
	}
}
