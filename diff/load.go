package diff

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sort"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
)

// item is the summary of one event that the comparison keeps in memory:
// ptrace requests are left out (they are the recorder's own, and what they
// return is in the stops and memory deltas). A syscalls event is not an
// item: each of its records is (kind format.KindSyscalls, sub its index),
// so a syscall of the syscall log aligns and compares on its own, in its
// own thread, as a syscall stop does.
type item struct {
	seq     uint64
	icount  uint64 // a syscall record's: the global count at its entry
	dIcount uint64 // instructions since the previous item of the thread
	sig     uint64 // what aligns: kind, stop kind, syscall, host op
	full    uint64 // everything else
	ctl     uint64 // what control flow shows (for ignored, derived data)
	aux     uint64 // a record's arguments, the bytes an input gave the host (hashes)
	rip     uint64
	rax     uint64 // a record's result: rax after the syscall
	path    string
	sub     uint32 // index of a syscall record in its syscalls event
	pid     int32
	tid     int32
	sys     uint32 // syscall code (syscall stops and records)
	flags   int32  // pl_flags (stops), kernel.SyscallNoReturn (records)
	op      kernel.HostOp
	kind    format.Kind
	class   Class // input class (inputs)
	batch   bool  // a stop the syscall log's batch made, or a memory delta of it
}

// Class is where an input comes from.
type Class uint8

// Input classes.
const (
	ClassNone     Class = iota
	ClassTime           // clocks, sleeps, rdtsc
	ClassRandom         // getrandom, /dev/urandom
	ClassStdin          // the terminal or a pipe on fd 0
	ClassFile           // file content
	ClassMetadata       // file metadata (stat)
	ClassProgram        // the executable
	ClassSchedule       // readiness (poll)
	ClassOutput         // writes (derived, not an input)
	ClassHost           // any other host call
)

var classNames = [...]string{"none", "time", "random", "stdin", "file content", "file metadata", "program", "schedule", "output", "host"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class?"
}

// trace is one trace loaded for comparison.
type trace struct {
	path    string
	hdr     format.Header
	items   []item
	threads [][]int // per thread, in order of first appearance: indices into items
	events  uint64
	exit    *format.Exit
	exe     []byte
	exeHi   int       // size of the executable image rebuilt from demand-paged reads
	out     [3][]byte // what the guest wrote to fds 1 and 2 (capped)
	outN    [3]int64  // total bytes written
	taint   int       // first item compared at control level (len(items): none)
	trunc   bool
	// syslog: the trace was recorded with the syscall log (its syscalls
	// are records of syscalls events; docs/FORMAT.md, kind 6). Its items
	// are in the order they happened (icount), not in the trace's.
	syslog bool
}

// stopsSyscallLog is the header's Stops of a trace recorded with the
// syscall log (record.StopsSyscallLog).
const stopsSyscallLog = "syscall-log"

// maxOutput caps the output kept per stream for the byte comparison.
const maxOutput = 16 << 20

// hasher mixes 64-bit words (multiply-xorshift) and bytes (FNV-1a): fixed,
// so results never depend on the process.
type hasher uint64

func newHasher() hasher { return 14695981039346656037 }

func (h *hasher) u(v uint64) {
	x := (uint64(*h) ^ v) * 0x9e3779b97f4a7c15
	*h = hasher(x ^ x>>29)
}

func (h *hasher) b(p []byte) {
	h.u(uint64(len(p)))
	x := uint64(*h)
	for _, c := range p {
		x ^= uint64(c)
		x *= 1099511628211
	}
	*h = hasher(x)
}

func (h *hasher) s(p string) {
	h.u(uint64(len(p)))
	x := uint64(*h)
	for i := 0; i < len(p); i++ {
		x ^= uint64(p[i])
		x *= 1099511628211
	}
	*h = hasher(x)
}

type threadKey struct{ pid, tid int32 }

// load reads a trace into items.
func load(path string, ig Ignore) (*trace, error) {
	rd, err := format.Open(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	rd.ReuseSyscallRecords() // an item keeps what it needs of a record
	inf := rd.Info()
	t := &trace{path: path, hdr: rd.Header(), trunc: inf.Truncated}
	t.syslog = t.hdr.Stops == stopsSyscallLog || inf.Kinds[format.KindSyscalls] > 0
	// Size for the events kept (all but requests) when the index says.
	keep := inf.Events / 4
	if inf.Kinds != nil {
		keep = inf.Events - inf.Kinds[format.KindRequest]
	}
	t.items = make([]item, 0, min(keep+16, 1<<22))
	// keys[i] is the thread of items[i], until the threads are built.
	keys := make([]threadKey, 0, cap(t.items))
	lastTid := map[int32]int32{}
	var lastKey threadKey
	handles := map[int64]string{}
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		t.events++
		switch ev.Kind {
		case format.KindRequest:
			continue
		case format.KindSyscalls:
			t.syslog = true
			if ev.Syscalls == nil {
				continue
			}
			if n := len(ev.Syscalls.Records); cap(t.items)-len(t.items) < n {
				// The index does not count records: grow by
				// doubling, not append's quarter, so a trace of
				// millions of syscalls is copied a few times.
				t.items = slices.Grow(t.items, max(n, len(t.items)))
				keys = slices.Grow(keys, max(n, len(keys)))
			}
			for i := range ev.Syscalls.Records {
				r := &ev.Syscalls.Records[i]
				it := item{seq: ev.Seq, sub: uint32(i), icount: r.Icount, kind: ev.Kind, pid: ev.Pid, tid: r.Tid}
				summarizeSyscall(&it, r, ig)
				if _, ok := lastTid[ev.Pid]; !ok {
					lastTid[ev.Pid] = r.Tid
				}
				t.items = append(t.items, it)
				keys = append(keys, threadKey{ev.Pid, r.Tid})
			}
			continue
		}
		it := item{seq: ev.Seq, icount: ev.Icount, kind: ev.Kind, pid: ev.Pid, tid: ev.Tid}
		// Inputs name the thread that made them (traces of earlier
		// ptrec: none, pid 0, so the thread the recorder last resumed);
		// exit statuses belong to the process's first thread.
		key := threadKey{ev.Pid, ev.Tid}
		switch {
		case ev.Kind == format.KindInput && ev.Pid == 0:
			key = lastKey
		case ev.Tid == 0:
			if tid, ok := lastTid[ev.Pid]; ok {
				key.tid = tid
			}
		default:
			if _, ok := lastTid[ev.Pid]; !ok {
				lastTid[ev.Pid] = ev.Tid
			}
		}
		if ev.Kind == format.KindStop {
			lastKey = key
		}
		t.summarize(&it, ev, ig, handles)
		t.items = append(t.items, it)
		keys = append(keys, key)
	}
	if t.syslog {
		t.order(keys)
	}
	t.threadItems(keys, ig)
	return t, nil
}

// order puts the items of a syscall-log trace in the order they happened.
// A syscalls event comes at the stop where the recorder fetched the log,
// after the syscalls it records, so its records move back to their entry
// instruction counts; at an equal count an event the trace has first stays
// first: an entry stop (exit_group, or the stop after a batch of logged
// syscalls) before the syscall's record, and the host inputs a syscall made
// (logged while it ran, at its entry count) before its record, which holds
// its result, so that a different input is seen before the result it
// causes. Events themselves are in icount order already.
//
// Inputs carry no thread (pid 0) and load gave them the thread of the last
// stop, which under the syscall log may be long before; an input followed
// by a record at its own count was made by that syscall, and is that
// record's thread's.
func (t *trace) order(keys []threadKey) {
	sort.Sort(byTime{t.items, keys})
	next := -1 // the nearest record after i
	for i := len(t.items) - 1; i >= 0; i-- {
		it := &t.items[i]
		switch {
		case it.kind == format.KindSyscalls:
			next = i
		case it.kind == format.KindInput && it.pid == 0 && next >= 0 && t.items[next].icount == it.icount:
			keys[i] = keys[next]
		}
	}
}

// byTime sorts items (and their thread keys alike) by instruction count,
// then trace position: (seq, sub) is unique, so the order is total.
type byTime struct {
	items []item
	keys  []threadKey
}

func (b byTime) Len() int { return len(b.items) }

func (b byTime) Less(i, j int) bool {
	x, y := &b.items[i], &b.items[j]
	if x.icount != y.icount {
		return x.icount < y.icount
	}
	if x.seq != y.seq {
		return x.seq < y.seq
	}
	return x.sub < y.sub
}

func (b byTime) Swap(i, j int) {
	b.items[i], b.items[j] = b.items[j], b.items[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

// threadItems builds the per-thread lists (threads in order of first
// appearance), gives each item the instructions since its thread's previous
// one (not counting inputs under the syscall log), completes the hashes
// with what depends on that, and finds the first item compared at control
// level only.
func (t *trace) threadItems(keys []threadKey, ig Ignore) {
	t.taint = -1
	if ig&(IgnoreEnvironment|IgnoreAddresses|IgnorePid) != 0 {
		t.taint = 0
	}
	rank := map[threadKey]int{}
	var lastIc []uint64
	var lastBatch []bool
	for i := range t.items {
		it := &t.items[i]
		r, ok := rank[keys[i]]
		if !ok {
			r = len(t.threads)
			rank[keys[i]] = r
			t.threads = append(t.threads, nil)
			lastIc = append(lastIc, 0)
			lastBatch = append(lastBatch, false)
		}
		it.dIcount = it.icount - lastIc[r]
		if !t.syslog || it.kind != format.KindInput {
			// Under the syscall log an input is made inside the
			// syscall whose record follows it at the same count:
			// the record's instructions are since the thread's
			// previous syscall or stop, the path the thread ran,
			// as an entry stop's are without the log.
			lastIc[r] = it.icount
		}
		if t.syslog {
			switch it.kind {
			case format.KindStop:
				// Under the syscall log a thread stops at a
				// syscall's entry for exit and exit_group, else
				// because the log holds a batch.
				it.batch = it.flags&abi.PL_FLAG_SCE != 0 && !endsThread(it.sys)
			case format.KindMemDelta:
				it.batch = lastBatch[r]
			}
			lastBatch[r] = it.batch
		}
		t.complete(it, ig)
		if t.taint < 0 && it.kind == format.KindInput && ignored(it.class, ig) {
			t.taint = i
		}
		t.threads[r] = append(t.threads[r], i)
	}
	if t.taint < 0 {
		t.taint = len(t.items)
	}
}

// complete adds to an item's hashes what load knows only once the items
// are in order and in threads: the instructions since the thread's previous
// item, and the syscall of a syscall stop.
//
// In a syscall-log trace a syscall is a record, and the stops at syscalls
// the policy still makes are not syscalls: they are the events exec, fork
// and thread exit make (an execve or fork exit, an exit or exit_group
// entry, whose syscalls are records too), and the stop at the entry of the
// syscall after a batch of logged ones (the syscall is a record of a later
// syscalls event). None counts among the syscalls that differ (see
// comparison.syscall), so a syscall counts once. The first kind aligns by
// its syscall as without the log; a batch stop is at whichever syscall the
// count reaches, and aligns by its kind alone with the other trace's batch
// stops (comparison.events aligns batch items apart, so that an inserted
// syscall, which moves every later batch stop to the syscall before, does
// not make them differ in alignment). The report still names the syscall a
// stop is at.
func (t *trace) complete(it *item, ig Ignore) {
	sig, full, ctl := hasher(it.sig), hasher(it.full), hasher(it.ctl)
	if it.kind == format.KindStop && it.flags&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) != 0 && !it.batch {
		sig.u(uint64(it.sys))
	}
	switch it.kind {
	case format.KindStop, format.KindSyscalls:
		full.u(it.dIcount)
		if ig == 0 {
			// Nothing is ignored: a different number of instructions
			// between two stops is a different path. (With ignored
			// inputs it may be data: printing other digits.)
			ctl.u(it.dIcount)
		}
	}
	it.sig, it.full, it.ctl = uint64(sig), uint64(full), uint64(ctl)
}

// endsThread reports whether syscall code ends its thread or process.
func endsThread(code uint32) bool {
	return code == abi.SYS_EXIT || code == abi.SYS_EXIT_GROUP
}

// ignored reports whether inputs of class c are ignored by ig.
func ignored(c Class, ig Ignore) bool {
	switch c {
	case ClassTime:
		return ig&IgnoreTime != 0
	case ClassRandom:
		return ig&IgnoreRandom != 0
	}
	return false
}

func (t *trace) summarize(it *item, ev *format.Event, ig Ignore, handles map[int64]string) {
	sig, full, ctl := newHasher(), newHasher(), newHasher()
	sig.u(uint64(ev.Kind))
	switch ev.Kind {
	case format.KindStop:
		st := ev.Stop
		ws := abi.WaitStatus(st.Status)
		it.flags, it.rip, it.rax = st.Flags, st.Regs[format.RegRIP], st.Regs[format.RegRAX]
		const kinds = abi.PL_FLAG_SCE | abi.PL_FLAG_SCX | abi.PL_FLAG_EXEC | abi.PL_FLAG_SI | abi.PL_FLAG_FORKED | abi.PL_FLAG_CHILD
		switch {
		case ws.Stopped():
			sig.u(1)
			sig.u(uint64(ws.StopSignal()))
		case ws.Signaled():
			sig.u(2)
		default:
			sig.u(3)
		}
		sig.u(uint64(st.Flags & kinds))
		if st.Flags&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) != 0 {
			it.sys = st.SyscallCode // hashed by complete
		}
		sig.u(uint64(st.Signo))
		full.u(uint64(st.Status))
		full.u(uint64(st.Event))
		full.u(uint64(st.Flags))
		full.u(uint64(st.Code))
		full.u(st.SigAddr)
		full.u(uint64(st.SyscallNarg))
		if ig&IgnorePid == 0 {
			full.u(uint64(st.ChildPid))
		}
		for _, r := range st.Regs {
			full.u(r)
		}
		ctl.u(uint64(st.Status))
		ctl.u(uint64(st.Code))
		if ig&IgnoreAddresses == 0 && ws.Stopped() {
			ctl.u(it.rip)
		}
	case format.KindInput:
		in := ev.Input
		it.op, it.path = kernel.HostOp(in.Op), in.Path
		it.class = classify(it.op, in, t.hdr.Path, handles)
		if it.op == kernel.HostOpen && in.Errno == 0 {
			handles[in.Ret] = in.Path
		}
		if it.class == ClassProgram {
			t.addExe(it.op, in)
		}
		if it.op == kernel.HostWrite && (in.Handle == 1 || in.Handle == 2) && in.Errno == 0 && in.Ret > 0 && in.Ret <= int64(len(in.In)) {
			t.outN[in.Handle] += in.Ret
			if room := maxOutput - len(t.out[in.Handle]); room > 0 {
				t.out[in.Handle] = append(t.out[in.Handle], in.In[:min(int(in.Ret), room)]...)
			}
		}
		sig.u(uint64(in.Op))
		if it.class != ClassProgram {
			sig.s(in.Path)
		}
		sig.u(uint64(in.Handle))
		full.u(uint64(len(in.Args)))
		for _, a := range in.Args {
			full.u(uint64(a))
		}
		full.b(in.In)
		aux := newHasher()
		aux.b(in.In)
		it.aux = uint64(aux)
		full.u(uint64(in.Ret))
		full.u(uint64(in.Errno))
		if it.class != ClassMetadata {
			full.b(in.Out)
		}
		if it.class != ClassOutput && !ignored(it.class, ig) && it.class != ClassMetadata {
			ctl.u(uint64(in.Errno))
			ctl.b(in.Out)
			if it.class != ClassStdin && it.class != ClassFile {
				ctl.u(uint64(in.Ret))
			}
		}
	case format.KindMemDelta:
		for _, m := range ev.Mem.Ranges {
			full.u(m.Addr)
			full.b(m.Data)
		}
	case format.KindExit:
		t.exit = ev.Exit
		full.u(uint64(ev.Exit.Status))
		full.s(ev.Exit.Reason)
		ctl.u(uint64(ev.Exit.Status))
	}
	it.sig, it.full, it.ctl = uint64(sig), uint64(full), uint64(ctl)
}

// classify says where an input comes from.
func classify(op kernel.HostOp, in *format.Input, exe string, handles map[int64]string) Class {
	switch op {
	case kernel.HostClock, kernel.HostSleep:
		return ClassTime
	case kernel.HostRandom:
		return ClassRandom
	case kernel.HostRead, kernel.HostPread:
		if in.Handle == 0 {
			return ClassStdin
		}
		switch handles[in.Handle] {
		case "/dev/urandom", "/dev/random":
			return ClassRandom
		case exe:
			// The program's own pages, demand-paged by exec.
			return ClassProgram
		}
		return ClassFile
	case kernel.HostReadFile:
		if in.Path == exe {
			return ClassProgram
		}
		return ClassFile
	case kernel.HostReaddir, kernel.HostReadlink:
		return ClassFile
	case kernel.HostStat, kernel.HostFstat, kernel.HostStatfs:
		return ClassMetadata
	case kernel.HostPoll:
		return ClassSchedule
	case kernel.HostWrite, kernel.HostPwrite:
		return ClassOutput
	}
	return ClassHost
}

// describeInput names an input for a message: "getrandom bytes", "clock".
func describeInput(it *item) string {
	switch it.class {
	case ClassTime:
		if it.op == kernel.HostSleep {
			return "a sleep"
		}
		return "a clock reading"
	case ClassRandom:
		if it.path != "" {
			return "random bytes from " + it.path
		}
		return "random bytes (getrandom)"
	case ClassStdin:
		return "a read of stdin"
	case ClassFile:
		if it.path != "" {
			return fmt.Sprintf("the content of %s", it.path)
		}
		return "a file read"
	case ClassMetadata:
		return "file metadata (" + it.op.String() + ")"
	case ClassProgram:
		return "the executable " + it.path
	case ClassSchedule:
		return "descriptor readiness (poll)"
	}
	return "host call " + it.op.String()
}

func le64(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// maxExeImage caps the executable image diff rebuilds for symbols.
const maxExeImage = 1 << 30

// addExe collects the executable's bytes for symbols: the whole file when
// exec read it at once, else the pieces it demand-paged (headers, section
// headers, symbol tables and loaded pages), placed at their file offsets.
func (t *trace) addExe(op kernel.HostOp, in *format.Input) {
	switch op {
	case kernel.HostReadFile:
		if t.exeHi == 0 && t.exe == nil {
			t.exe = in.Out
		}
	case kernel.HostPread:
		if in.Errno != 0 || len(in.Args) < 2 || in.Args[1] < 0 || t.exeHi < 0 {
			return
		}
		off := in.Args[1]
		end := off + int64(len(in.Out))
		if end > maxExeImage {
			return
		}
		if t.exe != nil && t.exeHi == 0 {
			return // read whole already
		}
		if int(end) > len(t.exe) {
			t.exe = append(t.exe, make([]byte, int(end)-len(t.exe))...)
		}
		copy(t.exe[off:], in.Out)
		t.exeHi = max(t.exeHi, int(end))
	}
}
