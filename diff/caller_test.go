package diff

import (
	"os"
	"path/filepath"
	"testing"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/kernel/hostos"
	"ptrec/record"
)

// recordStore records store-v1 under the stop policy stops ("" for the
// default, the syscall log) and loads the trace.
func recordStore(t *testing.T, stops string) *trace {
	t.Helper()
	return recordGuest(t, "testdata/diff/store-v1", stops)
}

// recordGuest records the guest src (a path under the repository) under
// the stop policy stops and loads the trace.
func recordGuest(t *testing.T, src, stops string) *trace {
	t.Helper()
	dir := t.TempDir()
	prog := filepath.Join(dir, filepath.Base(src))
	data, err := os.ReadFile(filepath.Join("..", src))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, data, 0o755); err != nil {
		t.Fatal(err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	o := record.Options{Path: prog, Argv: []string{prog}, Envp: []string{"LANG=C"}, Stops: stops,
		Host:  hostos.NewFixed(hostos.New(devnull, devnull, devnull), 1),
		Facts: kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242}}
	path := filepath.Join(dir, "t.ptrec")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, record.Header(o, prog))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := record.Record(o, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := load(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// checkCallerOfWrite takes the item of store-v1's write syscall (a pc
// inside libc's write, without source lines), makes it the control
// divergence and checks that the stack walk names main's call at
// store.c:17.
func checkCallerOfWrite(t *testing.T, tr *trace, write *item, rec bool) {
	t.Helper()
	sym, err := NewSymbols(tr.exe)
	if err != nil {
		t.Fatal(err)
	}
	if l := sym.Locate(write.rip); l.Line != 0 {
		t.Fatalf("write is at %s, with a line: the test needs a pc in libc", l)
	}
	c := &comparison{a: tr, b: tr, rep: &Report{}, symA: sym, symB: sym}
	loc := sym.Locate(write.rip)
	c.rep.Control = &Divergence{Location: &loc, Icount: write.icount, src: tr, seq: write.seq, tid: write.tid, rec: rec}
	c.callers()
	if cl := c.rep.Control.Caller; cl == nil || cl.Func != "main" || cl.File != "store.c" || cl.Line != 17 {
		t.Errorf("caller of write = %v, want main at store.c:17", cl)
	}
	var gh = divLoc(c.rep.Control)
	if gh == nil || gh.Line != 17 {
		t.Errorf("annotation location = %v, want store.c:17", gh)
	}
}

// TestDiffCallerOfSyscallStop: the caller of a syscall entry stop (the
// policy syscall), found by replaying to the stop's event.
func TestDiffCallerOfSyscallStop(t *testing.T) {
	tr := recordStore(t, record.StopsSyscall)
	var stop *item
	for i := range tr.items {
		if it := &tr.items[i]; it.kind == format.KindStop && it.flags&abi.PL_FLAG_SCE != 0 && abi.SyscallName(int(it.sys)) == "write" {
			stop = it
			break
		}
	}
	if stop == nil {
		t.Fatal("no write syscall entry in the trace")
	}
	checkCallerOfWrite(t, tr, stop, false)
}

// TestDiffCallerOfLoggedSyscall: the caller of a syscall of the syscall log
// (the default policy), found by replaying to the record's entry
// instruction count: it is between events.
func TestDiffCallerOfLoggedSyscall(t *testing.T) {
	tr := recordStore(t, "")
	if !tr.syslog {
		t.Fatalf("the default policy's trace (stops %q) is not a syscall-log trace", tr.hdr.Stops)
	}
	var write *item
	for i := range tr.items {
		it := &tr.items[i]
		if it.kind == format.KindStop && it.flags&abi.PL_FLAG_SCE != 0 && abi.SyscallName(int(it.sys)) == "write" {
			t.Errorf("the syscall log's trace stopped at write's entry (event %d)", it.seq)
		}
		if it.kind == format.KindSyscalls && it.sys == abi.SYS_WRITE {
			write = it
		}
	}
	if write == nil {
		t.Fatal("no write syscall record in the trace")
	}
	if write.rax != 5 {
		t.Errorf("write's result = %d, want 5 (\"over\\n\")", int64(write.rax))
	}
	checkCallerOfWrite(t, tr, write, true)
}

// TestSyslogThreads loads a syscall-log trace of a program with threads:
// items are in execution order, each record is in the list of its own
// thread (pid and the record's tid), and the instructions since a thread's
// previous item are counted in that thread (from its previous syscall or
// stop: inputs are inside the syscalls).
func TestSyslogThreads(t *testing.T) {
	tr := recordGuest(t, "testdata/bin/threads.musl", "")
	if !tr.syslog {
		t.Fatal("not a syscall-log trace")
	}
	for i := 1; i < len(tr.items); i++ {
		x, y := &tr.items[i-1], &tr.items[i]
		if x.icount > y.icount || x.icount == y.icount && (x.seq > y.seq || x.seq == y.seq && x.sub >= y.sub) {
			t.Fatalf("item %d (event %d[%d] @%d) after item %d (event %d[%d] @%d)", i, y.seq, y.sub, y.icount, i-1, x.seq, x.sub, x.icount)
		}
	}
	tids := map[int32]int{} // record tid → thread
	for r, list := range tr.threads {
		prev := uint64(0)
		for _, i := range list {
			it := &tr.items[i]
			if it.dIcount != it.icount-prev {
				t.Errorf("thread %d: item at event %d[%d] @%d has dIcount %d, want %d", r, it.seq, it.sub, it.icount, it.dIcount, it.icount-prev)
			}
			if it.kind == format.KindInput {
				continue // made inside the syscall whose record follows
			}
			prev = it.icount
			if it.kind != format.KindSyscalls {
				continue
			}
			if q, ok := tids[it.tid]; ok && q != r {
				t.Fatalf("records of tid %d in threads %d and %d", it.tid, q, r)
			}
			tids[it.tid] = r
		}
	}
	if len(tids) < 3 {
		t.Errorf("records of %d threads, want the main thread and its workers", len(tids))
	}
	// A thread's list holds no record of another tid.
	for r, list := range tr.threads {
		var tid int32
		for _, i := range list {
			if it := &tr.items[i]; it.kind == format.KindSyscalls {
				if tid != 0 && it.tid != tid {
					t.Fatalf("thread %d holds records of tids %d and %d", r, tid, it.tid)
				}
				tid = it.tid
			}
		}
	}
}
