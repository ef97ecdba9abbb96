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
	dir := t.TempDir()
	prog := filepath.Join(dir, "store")
	data, err := os.ReadFile("../testdata/diff/store-v1")
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
