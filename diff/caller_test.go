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

// TestDiffCallerOfSyscallStop replays store-v1 to its write syscall entry
// (a pc inside libc's write, without source lines) and checks that the
// stack walk names main's call at store.c:17.
func TestDiffCallerOfSyscallStop(t *testing.T) {
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
	o := record.Options{Path: prog, Argv: []string{prog}, Envp: []string{"LANG=C"},
		Host:  hostos.NewFixed(hostos.New(devnull, devnull, devnull), 1),
		Facts: kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242}}
	path := filepath.Join(dir, "t.ptrec")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
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
	f.Close()
	tr, err := load(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	sym, err := NewSymbols(tr.exe)
	if err != nil {
		t.Fatal(err)
	}
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
	if l := sym.Locate(stop.rip); l.Line != 0 {
		t.Fatalf("write's stop is at %s, with a line: the test needs a pc in libc", l)
	}
	c := &comparison{a: tr, b: tr, rep: &Report{}, symA: sym, symB: sym}
	loc := sym.Locate(stop.rip)
	c.rep.Control = &Divergence{Location: &loc, src: tr, seq: stop.seq, tid: stop.tid}
	c.callers()
	if cl := c.rep.Control.Caller; cl == nil || cl.Func != "main" || cl.File != "store.c" || cl.Line != 17 {
		t.Errorf("caller of write = %v, want main at store.c:17", cl)
	}
	var gh = divLoc(c.rep.Control)
	if gh == nil || gh.Line != 17 {
		t.Errorf("annotation location = %v, want store.c:17", gh)
	}
}
