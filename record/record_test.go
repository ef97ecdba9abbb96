package record_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/kernel/hostos"
	"ptrec/machine"
	"ptrec/record"
	"ptrec/replay"
)

var repoRoot = func() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..") }()

// recording is one run recorded into memory.
type recording struct {
	trace  []byte
	res    record.Result
	stdout string
	stats  format.WriterStats
}

// recordGuest records testdata/bin/<prog> with a fixed host (seed 1) into
// memory.
func recordGuest(t testing.TB, o record.Options, prog string, args ...string) recording {
	t.Helper()
	dir := t.TempDir()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	o.Path = filepath.Join(repoRoot, "testdata/bin", prog)
	o.Argv = append([]string{prog}, args...)
	o.Envp = []string{"PATH=/bin", "LANG=C"}
	o.Host = hostos.NewFixed(hostos.New(devnull, out, out), 1)
	o.Facts = kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242}
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, record.Header(o, prog))
	if err != nil {
		t.Fatal(err)
	}
	res, err := record.Record(o, w)
	if err != nil {
		t.Fatalf("Record(%s %v): %v", prog, args, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	stdout, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return recording{trace: buf.Bytes(), res: res, stdout: string(stdout), stats: w.Stats()}
}

// stopCounts summarises the stop events of a trace.
type stopCounts struct {
	stops, sce, scx, execs, step, exits int
	syscalls                            map[string]int
	events                              uint64
	lastIcount                          uint64
}

func countStops(t testing.TB, trace []byte) stopCounts {
	t.Helper()
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	c := stopCounts{syscalls: map[string]int{}}
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.events++
		c.lastIcount = ev.Icount
		if ev.Kind != format.KindStop {
			continue
		}
		st := ev.Stop
		if !abi.WaitStatus(st.Status).Stopped() {
			c.exits++
			continue
		}
		c.stops++
		switch {
		case st.Flags&abi.PL_FLAG_SCE != 0:
			c.sce++
			c.syscalls[abi.SyscallName(int(st.SyscallCode))]++
		case st.Flags&abi.PL_FLAG_EXEC != 0:
			c.execs++
		case st.Flags&abi.PL_FLAG_SCX != 0:
			c.scx++
		case st.Signo == int32(abi.SIGTRAP) && st.Code == abi.TRAP_TRACE:
			c.step++
		}
	}
	return c
}

// replayTrace replays a trace and returns its stdout and status.
func replayTrace(t testing.TB, trace []byte) (string, replay.Result) {
	t.Helper()
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r, err := replay.New(rd, replay.Options{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run()
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return out.String(), res
}

func TestStopPolicies(t *testing.T) {
	const n = 20                   // getppid calls
	want := "spin sys 20: 14b69\n" // 1 + 20 × the parent pid, the host pid 4242
	byPolicy := map[string]stopCounts{}
	for _, policy := range []string{record.StopsSyscall, record.StopsSyscallBoth, record.StopsSignal, record.StopsStep} {
		t.Run(policy, func(t *testing.T) {
			rec := recordGuest(t, record.Options{Stops: policy}, "spin.musl", "sys", "20")
			if rec.stdout != want || rec.res.Status != 0 {
				t.Fatalf("record spin sys 20 = (%q, status %#x), want (%q, 0)", rec.stdout, rec.res.Status, want)
			}
			c := countStops(t, rec.trace)
			byPolicy[policy] = c
			switch policy {
			case record.StopsSyscall:
				if c.syscalls["getppid"] != n {
					t.Errorf("syscall stops: %d getppid entries, want %d (%v)", c.syscalls["getppid"], n, c.syscalls)
				}
				// One stop per syscall, at its entry; exit_group too.
				if c.scx != 0 || c.syscalls["exit_group"] != 1 || c.syscalls["writev"] != 1 {
					t.Errorf("syscall stops: %d exits, exit_group %d, writev %d; want no exit stops, one exit_group and one writev", c.scx, c.syscalls["exit_group"], c.syscalls["writev"])
				}
			case record.StopsSyscallBoth:
				if c.syscalls["getppid"] != n {
					t.Errorf("syscall stops: %d getppid entries, want %d (%v)", c.syscalls["getppid"], n, c.syscalls)
				}
				// Every syscall but exit_group returns.
				if c.scx != c.sce-1 || c.syscalls["exit_group"] != 1 {
					t.Errorf("syscall stops: %d entries, %d exits, exit_group %d; want exits = entries-1 and one exit_group", c.sce, c.scx, c.syscalls["exit_group"])
				}
			case record.StopsSignal:
				if c.sce != 0 || c.scx != 0 || c.step != 0 {
					t.Errorf("signal stops: %d syscall entries, %d exits, %d steps; want none", c.sce, c.scx, c.step)
				}
				if c.exits != 1 || c.execs != 1 {
					t.Errorf("signal stops: %d exit statuses, %d exec stops, want 1 and 1", c.exits, c.execs)
				}
			case record.StopsStep:
				// One stop per instruction, except the exec stop, the
				// instructions after the last stop and, today, a step
				// over a syscall instruction, which stops only after the
				// instruction that follows it (spin makes 25 syscalls).
				if uint64(c.step)+64 < rec.res.Icount || uint64(c.step) > rec.res.Icount {
					t.Errorf("step stops: %d single-step stops for %d instructions", c.step, rec.res.Icount)
				}
			}
			out, res := replayTrace(t, rec.trace)
			if out != rec.stdout || res.Status != rec.res.Status || res.Icount != rec.res.Icount {
				t.Errorf("replay = (%q, %#x, %d insns), want (%q, %#x, %d)", out, res.Status, res.Icount, rec.stdout, rec.res.Status, rec.res.Icount)
			}
		})
	}
	sc, se, sg, st := byPolicy[record.StopsSyscall], byPolicy[record.StopsSyscallBoth], byPolicy[record.StopsSignal], byPolicy[record.StopsStep]
	if !(sg.events < sc.events && sc.events < se.events && se.events < st.events) {
		t.Errorf("events: signal %d, syscall %d, syscall-entry-exit %d, step %d; want them increasing", sg.events, sc.events, se.events, st.events)
	}
}

func TestRecordFlushesPeriodically(t *testing.T) {
	rec := recordGuest(t, record.Options{FlushEvents: 64, Stops: record.StopsSyscall}, "spin.musl", "sys", "200")
	total := countStops(t, rec.trace).events
	if rec.stats.Chunks < total/64 {
		t.Errorf("%d chunks for %d events flushed every 64, want at least %d", rec.stats.Chunks, total, total/64)
	}
	// A recorder killed at any point leaves the frames written so far. Cut
	// off the trailer: every event survives. Cut inside the last chunk: at
	// most the 64 events of that chunk are lost.
	last := bytes.LastIndex(rec.trace, []byte(format.ChunkMagic))
	for _, tc := range []struct {
		cut     int
		minKept uint64
	}{{len(rec.trace) - 1, total}, {last + format.FrameHeaderSize + 1, total - 64}} {
		part := rec.trace[:tc.cut]
		rd, err := format.NewReader(bytes.NewReader(part), int64(len(part)))
		if err != nil {
			t.Fatalf("cut at %d: %v", tc.cut, err)
		}
		inf := rd.Info()
		if !inf.Truncated {
			t.Errorf("cut at %d: Truncated = false", tc.cut)
		}
		var n uint64
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("cut at %d: event %d: %v", tc.cut, n, err)
			}
			n++
		}
		if n != inf.Events || n < tc.minKept {
			t.Errorf("cut at %d of %d bytes: read %d events (Info %d) of %d, want at least %d", tc.cut, len(rec.trace), n, inf.Events, total, tc.minKept)
		}
	}
}

func TestRecordIsDeterministic(t *testing.T) {
	// stdout goes to /dev/null in both runs: a fresh output file would have
	// its own inode and times, which the guest may fstat (real host
	// metadata, not covered by the seed).
	// /dev/null's times change whenever any process on the host uses it:
	// both runs see the metadata the first run saw.
	stats := &sameStats{seen: map[string]kernel.HostReply{}}
	rec := func() []byte {
		devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer devnull.Close()
		o := record.Options{
			Path: filepath.Join(repoRoot, "testdata/bin", "timerand.musl"), Argv: []string{"timerand.musl"},
			Envp: []string{"PATH=/bin", "LANG=C"}, Host: stats.wrap(hostos.NewFixed(hostos.New(devnull, devnull, devnull), 1)),
			Facts: kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242},
		}
		var buf bytes.Buffer
		w, err := format.NewWriter(&buf, record.Header(o, "timerand.musl"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := record.Record(o, w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := rec(), rec()
	if !bytes.Equal(a, b) {
		t.Errorf("two recordings of timerand with the same seed differ (%d and %d bytes)", len(a), len(b))
	}
}

// TestLargeDeltaInPieces records a guest that writes 64 KiB (16 pages)
// between stops with a page budget of 3: the recorder fetches each delta in
// pieces of at most 3 pages (each its request and its MemDelta event), and
// replay verifies every piece.
func TestLargeDeltaInPieces(t *testing.T) {
	const budget = 3
	rec := recordGuest(t, record.Options{DeltaPages: budget, Stops: record.StopsSyscall}, "spin.musl", "mem", "1")
	rd, err := format.NewReader(bytes.NewReader(rec.trace), int64(len(rec.trace)))
	if err != nil {
		t.Fatal(err)
	}
	var more, deltas, total int
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Kind == format.KindRequest && ev.Request.Op == kernel.PT_PTREC_GETDELTA:
			if ev.Request.Addr != budget {
				t.Fatalf("PT_PTREC_GETDELTA with page budget %d, want %d", ev.Request.Addr, budget)
			}
			if ev.Request.Result > 0 {
				more++
			}
		case ev.Kind == format.KindMemDelta:
			deltas++
			n := 0
			for _, r := range ev.Mem.Ranges {
				n += len(r.Data)
			}
			if n > budget*machine.PageSize {
				t.Errorf("a memdelta of %d bytes, more than %d pages", n, budget)
			}
			total += n
		}
	}
	if more < 16*5 || total < 1<<20 {
		t.Errorf("%d pieces with more to come, %d memdelta events, %d bytes; want 1 MiB in pieces of 3 pages", more, deltas, total)
	}
	out, res := replayTrace(t, rec.trace)
	if out != rec.stdout || res.Status != rec.res.Status || res.Icount != rec.res.Icount {
		t.Errorf("replay = (%q, %#x, %d insns), want (%q, %#x, %d)", out, res.Status, res.Icount, rec.stdout, rec.res.Status, rec.res.Icount)
	}
}

// sameStats makes the file metadata a host reports the same in every run:
// each stat-like call gets the reply its first occurrence got.
type sameStats struct {
	seen map[string]kernel.HostReply
}

type sameStatsHost struct {
	s    *sameStats
	real kernel.Host
}

func (s *sameStats) wrap(h kernel.Host) kernel.Host { return sameStatsHost{s, h} }

func (h sameStatsHost) Call(c *kernel.HostCall) kernel.HostReply {
	switch c.Op {
	case kernel.HostStat, kernel.HostFstat, kernel.HostStatx, kernel.HostStatfs:
	default:
		return h.real.Call(c)
	}
	key := fmt.Sprint(c.Op, c.Path, c.Handle, c.Args)
	if r, ok := h.s.seen[key]; ok {
		return r
	}
	r := h.real.Call(c)
	h.s.seen[key] = r
	return r
}

// syscallsOf reads the syscall records of a trace, in trace order, with
// the pid of the syscalls event each came in.
func syscallsOf(t testing.TB, trace []byte) (recs []format.Syscall, pids []int32) {
	t.Helper()
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return recs, pids
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == format.KindSyscalls {
			for _, r := range ev.Syscalls.Records {
				recs = append(recs, r)
				pids = append(pids, ev.Pid)
			}
		}
	}
}

// TestSyscallLogTail records guests whose last syscalls come after their
// last stop or that are killed: the trace must hold every syscall they
// completed, and replay.
func TestSyscallLogTail(t *testing.T) {
	const maxInsns = 1_000_000
	cases := []struct {
		name   string
		o      record.Options
		args   []string
		status int32
		writes int // writes of "line i\n" in the trace
		// the last syscall record is at most this many instructions
		// before the end of the run (0: not checked)
		tailGap uint64
	}{
		// The guest loops on getppid (~5 instructions a syscall) and the
		// limit kills it between two batch stops.
		{"max-insns", record.Options{MaxInsns: maxInsns}, []string{"loop"}, int32(abi.SIGKILL), 0, 16},
		{"max-insns, batch 65536", record.Options{MaxInsns: maxInsns, SyslogBatch: kernel.PtrecMaxSyslogBatch}, []string{"loop"}, int32(abi.SIGKILL), 0, 16},
		{"self SIGKILL", record.Options{}, []string{"self", "7"}, int32(abi.SIGKILL), 7, 0},
		{"parent SIGKILLs its child", record.Options{}, []string{"parent", "9"}, 0, 9, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := recordGuest(t, tc.o, "syslogtail.musl", tc.args...)
			if rec.res.Status != tc.status {
				t.Fatalf("status %#x, want %#x", rec.res.Status, tc.status)
			}
			recs, _ := syscallsOf(t, rec.trace)
			writes := 0
			for i, r := range recs {
				if i > 0 && r.Icount < recs[i-1].Icount && r.Tid == recs[i-1].Tid {
					t.Fatalf("record %d of tid %d at instruction %d, after one at %d", i, r.Tid, r.Icount, recs[i-1].Icount)
				}
				if r.Code == abi.SYS_WRITE && r.Args[0] == 1 && r.Ret == int64(r.Args[2]) {
					writes++
				}
			}
			if writes != tc.writes {
				t.Errorf("%d writes to stdout in the trace, want %d", writes, tc.writes)
			}
			if tc.tailGap > 0 {
				last := recs[len(recs)-1]
				if rec.res.Icount != maxInsns || last.Icount+tc.tailGap < maxInsns {
					t.Errorf("the run ended at instruction %d, the last syscall logged is at %d: want %d and at most %d before", rec.res.Icount, last.Icount, maxInsns, tc.tailGap)
				}
			}
			out, res := replayTrace(t, rec.trace)
			if res.Status != tc.status || out != rec.stdout {
				t.Errorf("replay: status %#x, stdout %q; recorded %#x, %q", res.Status, out, tc.status, rec.stdout)
			}
		})
	}
}

// TestSyscallLogTailInterrupted interrupts the recording of three processes
// looping on getppid: at the kill, the processes that were not the one just
// resumed have logged syscalls since their last stop (a batch of 65536 is
// more than a scheduling quantum of getppid calls), which the recorder
// fetches from each zombie (a GETSYSLOG request before each exit's stop
// event) before it reaps it.
func TestSyscallLogTailInterrupted(t *testing.T) {
	polls := 0
	o := record.Options{SyslogBatch: kernel.PtrecMaxSyslogBatch, Interrupted: func() bool { polls++; return polls > 12 }}
	rec := recordGuest(t, o, "syslogtail.musl", "loop", "3")
	if rec.res.Reason != "interrupted" {
		t.Fatalf("the run ended %q, want interrupted", rec.res.Reason)
	}
	rd, err := format.NewReader(bytes.NewReader(rec.trace), int64(len(rec.trace)))
	if err != nil {
		t.Fatal(err)
	}
	killed := false
	fetched := map[int32]int64{} // records fetched from each zombie
	var last *format.Request     // the request before the event
	exits, tail := 0, int64(0)
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Kind == format.KindRequest && ev.Request.Op == kernel.PtraceKillAll:
			killed = true
		case ev.Kind == format.KindStop && !abi.WaitStatus(ev.Stop.Status).Stopped():
			exits++
			if last == nil || last.Op != kernel.PT_PTREC_GETSYSLOG || last.Pid != ev.Pid || last.Errno != 0 {
				t.Errorf("the exit of %d follows %+v, not its zombie's PT_PTREC_GETSYSLOG", ev.Pid, last)
			} else if killed {
				fetched[ev.Pid] = last.Result
				tail += last.Result
			}
		}
		if ev.Kind == format.KindRequest {
			r := *ev.Request
			last = &r
		}
	}
	t.Logf("records fetched from the zombies after the kill: %v", fetched)
	if !killed || exits != 3 || len(fetched) != 3 || tail == 0 {
		t.Errorf("killed %v, %d exits, records fetched from the zombies %v: want the kill, 3 exits, and a tail", killed, exits, fetched)
	}
	_, res := replayTrace(t, rec.trace)
	if res.Status != rec.res.Status {
		t.Errorf("replay: status %#x, recorded %#x", res.Status, rec.res.Status)
	}
}
