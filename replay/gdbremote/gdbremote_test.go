package gdbremote

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/hostos"
	"ptrec/record"
	"ptrec/replay"
)

func newReplayer(t *testing.T, prog string, args ...string) *replay.Replayer {
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
	o := record.Options{
		Path:  filepath.Join("..", "..", "testdata", "bin", prog),
		Argv:  append([]string{prog}, args...),
		Envp:  []string{"PATH=/bin", "LANG=C"},
		Host:  hostos.NewFixed(hostos.New(devnull, out, out), 1),
		Facts: kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242},
	}
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, record.Header(o, prog))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := record.Record(o, w); err != nil {
		t.Fatalf("Record(%s): %v", prog, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := format.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	r, err := replay.New(rd, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestManyZ0: more Z0 breakpoints than debug registers are accepted, and
// c / bc stop at them in the same order both ways.
func TestManyZ0(t *testing.T) {
	r := newReplayer(t, "debugme.musl", "1000")
	addrs := make(map[uint64]string)
	for _, s := range []string{"main", "sscanf", "pthread_create", "worker_body", "pthread_join", "bump", "spin", "printf"} {
		a, err := r.Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		addrs[a] = s
		if got := HandlePacket(r, "Z0,"+strconv.FormatUint(a, 16)+",1"); got != "OK" {
			t.Fatalf("Z0 %s = %q, want OK", s, got)
		}
	}
	var seq []uint64
	for {
		rep := HandlePacket(r, "c")
		if !strings.HasPrefix(rep, "T05") {
			break
		}
		pc := r.Where().PC
		if _, ok := addrs[pc]; !ok {
			t.Fatalf("c stopped at %#x (%s), not a breakpoint: %q", pc, r.Symbolize(pc), rep)
		}
		seq = append(seq, r.Where().Icount)
	}
	if len(seq) < len(addrs) {
		t.Fatalf("%d stops for %d breakpoints", len(seq), len(addrs))
	}
	for i := len(seq) - 1; i >= 0; i-- {
		rep := HandlePacket(r, "bc")
		if !strings.HasPrefix(rep, "T05") || r.Where().Icount != seq[i] {
			t.Fatalf("bc %d = %q at @%d, want @%d", len(seq)-1-i, rep, r.Where().Icount, seq[i])
		}
	}
	if rep := HandlePacket(r, "bc"); !strings.Contains(rep, "replaylog:begin") {
		t.Fatalf("bc before the first stop = %q, want the start", rep)
	}
}
