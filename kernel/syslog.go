package kernel

import (
	"encoding/binary"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// The syscall log: ptrec's answer to rr's syscall buffering. A debugger that
// wants every syscall with its result but not a stop per syscall asks the
// kernel to log them (PT_PTREC_SYSLOG): each syscall a thread of the process
// completes is appended to the process's log without stopping, and the
// debugger fetches the log (PT_PTREC_GETSYSLOG) at the stops it sees anyway.
// So that nothing is lost and the log stays bounded, a thread of a logging
// traced process stops at a syscall's entry, as if PT_TO_SCE had been asked,
// when the log holds a whole batch of records or when the syscall is exit or
// exit_group (whose record is appended at entry: they never return); and a
// traced process that ends without a stop after its last syscalls (killed,
// or its threads ran on after another's stop) keeps its log as a zombie,
// for its debugger to fetch before it reaps it (docs/SYSLOG.md).
// Everything here depends only on the guest's execution, so replay, which
// repeats the debugger's requests, sees the same stops and the same log.
const (
	// PT_PTREC_SYSLOG starts (data = batch > 0, at most PtrecMaxSyslogBatch)
	// or stops (data = 0) logging the process's syscalls. Records already
	// logged are kept. addr, when not 0, is a page budget (at most
	// PtrecMaxDeltaPages): a thread also stops at a syscall entry when the
	// process has changed at least that many pages since the last
	// PT_PTREC_GETDELTA, which bounds what the memory delta holds.
	PT_PTREC_SYSLOG = abi.PT_PTREC_SYSLOG
	// PT_PTREC_GETSYSLOG fetches the oldest records of the log,
	// SyscallRecordSize bytes each in the order the syscalls completed,
	// removes them from the log and returns their number. data is a
	// capacity in records: at most data are fetched, the others stay for
	// the next request. As with PT_GETLWPLIST, a tracer with tracer memory
	// (Mem: every guest debugger) gives a buffer of data > 0 records at
	// addr: data <= 0 is EINVAL, and a buffer that faults is EFAULT with
	// nothing removed from the log. A debugger outside the machine without
	// tracer memory (ptrec's recorder and replay) gets the records in Out
	// (Buf's storage when it has room); addr is ignored, data 0 means no
	// limit and data < 0 is EINVAL.
	//
	// The log outlives its process (a ptrec extension): a traced process
	// that ends without a stop after its last syscalls (SIGKILL, or threads
	// that ran on after the stop of another) keeps its log as a zombie, and
	// its debugger fetches it with this request, by pid, until it reaps the
	// zombie (wait with WNOWAIT, PT_PTREC_GETSYSLOG, then wait). On a
	// zombie this request is the only one that works; any other, or this
	// one from a process that is not the zombie's debugger, is ESRCH.
	PT_PTREC_GETSYSLOG = abi.PT_PTREC_GETSYSLOG
)

// PtrecMaxSyslogBatch is the largest batch PT_PTREC_SYSLOG accepts.
const PtrecMaxSyslogBatch = 1 << 16

// SyscallRecordSize is the size of a marshalled SyscallRecord.
const SyscallRecordSize = 88

// Flags of a SyscallRecord.
const (
	// SyscallNoReturn: the syscall does not return to its caller (exit,
	// exit_group, a successful execve, rt_sigreturn, a restarted syscall);
	// Ret is rax after it, not a result.
	SyscallNoReturn uint32 = 1 << iota
)

// SyscallRecord is one entry of a syscall log. Marshalled (little-endian):
// tid i32, code u32, flags u32, 4 zero bytes, icount u64, rip u64,
// args 6×u64, ret i64.
type SyscallRecord struct {
	Tid    int32
	Code   uint32 // the guest's (Linux x86-64) syscall number
	Flags  uint32 // SyscallNoReturn
	Icount uint64 // global instruction count at the syscall's entry
	RIP    uint64 // the address after the syscall instruction
	Args   [6]uint64
	Ret    int64 // rax after the syscall: the result, or -errno
}

// Marshal writes r to b[:SyscallRecordSize].
func (r *SyscallRecord) Marshal(b []byte) {
	_ = b[SyscallRecordSize-1]
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(r.Tid))
	le.PutUint32(b[4:], r.Code)
	le.PutUint32(b[8:], r.Flags)
	le.PutUint32(b[12:], 0)
	le.PutUint64(b[16:], r.Icount)
	le.PutUint64(b[24:], r.RIP)
	for i, a := range r.Args {
		le.PutUint64(b[32+8*i:], a)
	}
	le.PutUint64(b[80:], uint64(r.Ret))
}

// Unmarshal reads r from b[:SyscallRecordSize].
func (r *SyscallRecord) Unmarshal(b []byte) {
	_ = b[SyscallRecordSize-1]
	le := binary.LittleEndian
	r.Tid = int32(le.Uint32(b[0:]))
	r.Code = le.Uint32(b[4:])
	r.Flags = le.Uint32(b[8:])
	r.Icount = le.Uint64(b[16:])
	r.RIP = le.Uint64(b[24:])
	for i := range r.Args {
		r.Args[i] = le.Uint64(b[32+8*i:])
	}
	r.Ret = int64(le.Uint64(b[80:]))
}

// DecodeSyscallLog calls fn for each record of a PT_PTREC_GETSYSLOG output
// (a trailing partial record is ignored). fn may keep nothing of r.
func DecodeSyscallLog(out []byte, fn func(r *SyscallRecord)) {
	var r SyscallRecord
	for len(out) >= SyscallRecordSize {
		r.Unmarshal(out)
		fn(&r)
		out = out[SyscallRecordSize:]
	}
}

// syscallLog is a process's log (nil when the process does not log).
type syscallLog struct {
	batch int // records that make a thread stop at its next syscall entry
	pages int // changed pages that do too (0: no limit)
	recs  []SyscallRecord
}

// n is the number of records logged.
func (l *syscallLog) n() int { return len(l.recs) }

// add appends the record of t's current syscall with return value ret.
func (l *syscallLog) add(t *Thread, ret int64, flags uint32) {
	l.recs = append(l.recs, SyscallRecord{Tid: t.Tid, Code: t.sc.code, Flags: flags, Icount: t.sc.icount, RIP: t.sc.rip, Args: t.sc.args, Ret: ret})
}

// endsThread reports whether syscall code never returns because it ends
// the thread or its process.
func endsThread(code uint32) bool {
	return code == abi.SYS_EXIT || code == abi.SYS_EXIT_GROUP
}

// syslogEnter is the syscall log's part of syscallEnter: it logs a syscall
// that ends the thread now (it has no return) and reports whether t must
// stop for its debugger before the syscall runs.
func (k *Kernel) syslogEnter(t *Thread) bool {
	l := t.p.sclog
	if l == nil || !t.p.traced() {
		return false
	}
	if endsThread(t.sc.code) {
		l.add(t, 0, SyscallNoReturn)
		return true
	}
	if l.n() >= l.batch {
		return true
	}
	// DirtyPages (cheap) counts a page again when a replay checkpoint
	// made it copy-on-write again; ChangedPages counts each once, so the
	// stop is where the recording made it.
	m := t.p.mem
	return l.pages > 0 && m != nil && m.DirtyPages() >= l.pages && m.ChangedPages() >= l.pages
}

// syslogDone is the syscall log's part of syscallRun: the syscall has
// completed (res.action is not actBlock) and rax holds what the guest sees.
func (k *Kernel) syslogDone(t *Thread, res sysResult) {
	l := t.p.sclog
	if l == nil || endsThread(t.sc.code) || !t.p.traced() {
		return
	}
	var flags uint32
	if res.action == actNoReturn {
		flags = SyscallNoReturn
	}
	l.add(t, int64(t.cpu.Regs[machine.RAX]), flags)
}

// syslogPtrace serves PT_PTREC_SYSLOG and PT_PTREC_GETSYSLOG for p.
func (k *Kernel) syslogPtrace(p *Process, r *PtraceRequest) (PtraceResult, error) {
	switch r.Op {
	case PT_PTREC_SYSLOG:
		if r.Addr > PtrecMaxDeltaPages || r.Data < 0 || r.Data > PtrecMaxSyslogBatch {
			return PtraceResult{}, abi.EINVAL
		}
		if r.Data == 0 {
			if p.sclog != nil && len(p.sclog.recs) == 0 {
				p.sclog = nil
			} else if p.sclog != nil {
				p.sclog.batch = PtrecMaxSyslogBatch + 1 // kept until fetched, never a batch stop
			}
			return PtraceResult{}, nil
		}
		if p.sclog == nil {
			p.sclog = &syscallLog{}
		}
		p.sclog.batch, p.sclog.pages = int(r.Data), int(r.Addr)
		return PtraceResult{}, nil
	case PT_PTREC_GETSYSLOG:
		return k.getSyslog(p, r)
	}
	return PtraceResult{}, abi.EINVAL
}

// getSyslog is PT_PTREC_GETSYSLOG on p, live or zombie.
func (k *Kernel) getSyslog(p *Process, r *PtraceRequest) (PtraceResult, error) {
	if r.Data < 0 || (r.Mem != nil && r.Data == 0) {
		return PtraceResult{}, abi.EINVAL
	}
	l := p.sclog
	n := 0
	if l != nil {
		n = len(l.recs)
	}
	if r.Data > 0 && int64(n) > r.Data {
		n = int(r.Data)
	}
	var out []byte
	if r.Mem != nil {
		// Copied out to the tracer's buffer; only what it took leaves
		// the log.
		if n > 0 {
			out = make([]byte, n*SyscallRecordSize)
			for i := range n {
				l.recs[i].Marshal(out[i*SyscallRecordSize:])
			}
			if err := r.Mem.WriteAt(r.Addr, out); err != nil {
				return PtraceResult{}, abi.EFAULT
			}
		}
		out = nil
	} else {
		out = r.Buf[:0]
		if cap(out) < n*SyscallRecordSize {
			out = make([]byte, 0, n*SyscallRecordSize)
		}
		out = out[:n*SyscallRecordSize]
		for i := range n {
			l.recs[i].Marshal(out[i*SyscallRecordSize:])
		}
	}
	if l == nil {
		return PtraceResult{Out: out}, nil
	}
	l.recs = l.recs[:copy(l.recs, l.recs[n:])]
	if len(l.recs) == 0 {
		if cap(l.recs) > 2*(min(l.batch, PtrecMaxSyslogBatch)+64) {
			l.recs = nil // a burst grew it past the batch: do not keep the memory
		}
		if l.batch > PtrecMaxSyslogBatch || p.zombie {
			p.sclog = nil // logging was stopped, or the process is gone: the last records are out
		}
	}
	return PtraceResult{Out: out, Ret: int64(n)}, nil
}

// zombieSyslog is PT_PTREC_GETSYSLOG on pid when no live process has it:
// the log of a zombie, for the debugger that traced it and has not reaped
// it yet.
func (k *Kernel) zombieSyslog(c PtraceCaller, r *PtraceRequest) (PtraceResult, error) {
	p := k.pidMap[r.Pid]
	if p == nil || !p.zombie || p.reaped || p.flag&P_TRACED == 0 || p.pptr != c.P {
		return PtraceResult{}, abi.ESRCH
	}
	return k.getSyslog(p, r)
}
