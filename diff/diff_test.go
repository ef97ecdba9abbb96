package diff_test

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptrec/diff"
	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/hostos"
	"ptrec/record"
)

var repoRoot = func() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..") }()

// recordTo records prog (a path under the repository) into a trace file;
// seed < 0 uses the real host's clocks and randomness.
func recordTo(t *testing.T, prog string, seed int64, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var host kernel.Host = hostos.New(devnull, devnull, devnull)
	if seed >= 0 {
		host = hostos.NewFixed(host, uint64(seed))
	}
	path := prog
	if !filepath.IsAbs(path) {
		path = filepath.Join(repoRoot, prog)
	}
	o := record.Options{Path: path, Argv: append([]string{path}, args...), Envp: []string{"LANG=C"}, Host: host,
		Facts: kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242}}
	out := filepath.Join(dir, "t.ptrec")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := format.NewWriter(f, record.Header(o, prog))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := record.Record(o, w); err != nil {
		t.Fatalf("record %s: %v", prog, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func compare(t *testing.T, a, b string, o diff.Options) *diff.Report {
	t.Helper()
	if o.Context == 0 {
		o.Context = 2
	}
	rep, err := diff.Compare(a, b, o)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	return rep
}

func text(rep *diff.Report) string {
	var b bytes.Buffer
	rep.WriteText(&b, diff.Style{})
	return b.String()
}

func TestSameRunsAreSame(t *testing.T) {
	a := recordTo(t, "testdata/diff/pick-v1", 1)
	b := recordTo(t, "testdata/diff/pick-v1", 1)
	if rep := compare(t, a, b, diff.Options{}); !rep.Same {
		t.Errorf("two recordings of pick-v1 differ:\n%s", text(rep))
	}
}

// install copies a guest to path, as a rebuild in place would.
func install(t *testing.T, src, path string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, src))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestTwoBuildsOneLine(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "pick")
	install(t, "testdata/diff/pick-v1", prog)
	a := recordTo(t, prog, 1)
	install(t, "testdata/diff/pick-v2", prog)
	b := recordTo(t, prog, 1)
	rep := compare(t, a, b, diff.Options{Deep: true})
	out := text(rep)
	if rep.Same {
		t.Fatalf("pick-v1 and pick-v2 compare the same")
	}
	if rep.Origin == nil || rep.Origin.Class != "program" {
		t.Errorf("origin = %+v, want the program", rep.Origin)
	}
	// Both branches take as many instructions to reach write; the paths
	// differ in length only before exit_group.
	if rep.Control == nil || rep.Control.Syscall != "exit_group" {
		t.Errorf("control flow first differs at %+v, want the exit_group syscall", rep.Control)
	}
	if !rep.Summary.ExitDiffers || len(rep.Summary.Output) == 0 {
		t.Errorf("summary = %+v, want the exit status and stdout to differ", rep.Summary)
	}
	d := rep.Deep
	if d == nil || d.Location == nil || d.Location.Func != "weight" || d.Location.File != "pick.c" || d.Location.Line != 11 {
		t.Errorf("deep = %+v, want the instruction in weight at pick.c:11", d)
	}
	if !strings.Contains(out, "pick.c:11") || !strings.Contains(out, "origin:") {
		t.Errorf("text report lacks the origin or the line:\n%s", out)
	}
	var gh bytes.Buffer
	rep.WriteGitHub(&gh)
	if !strings.HasPrefix(gh.String(), "::error file=pick.c,line=11,") {
		t.Errorf("github annotation = %q", gh.String())
	}
}

func TestInputOriginAndIgnore(t *testing.T) {
	a := recordTo(t, "testdata/bin/timerand.musl", -1)
	b := recordTo(t, "testdata/bin/timerand.musl", -1)
	rep := compare(t, a, b, diff.Options{})
	if rep.Same || rep.Origin == nil || (rep.Origin.Class != "random" && rep.Origin.Class != "time") {
		t.Fatalf("timerand recorded twice: same=%v origin=%+v, want an input origin\n%s", rep.Same, rep.Origin, text(rep))
	}
	if !strings.Contains(rep.Origin.Message, "the runs diverged because") {
		t.Errorf("origin message %q", rep.Origin.Message)
	}
	rep = compare(t, a, b, diff.Options{Ignore: diff.IgnoreTime | diff.IgnoreRandom})
	if !rep.Same {
		t.Errorf("with --ignore time,random timerand's two runs differ:\n%s", text(rep))
	}
}

func TestAlignmentSurvivesInsertion(t *testing.T) {
	a := recordTo(t, "testdata/bin/spin.musl", 1, "sys", "20")
	b := recordTo(t, "testdata/bin/spin.musl", 1, "sys", "21")
	rep := compare(t, a, b, diff.Options{})
	s := rep.Summary
	if rep.Same || rep.Origin == nil || rep.Origin.Class != "arguments" {
		t.Fatalf("spin 20 vs 21: same=%v origin=%+v", rep.Same, rep.Origin)
	}
	// One more getppid: its stop (the recorder stops at syscall entries)
	// is only in B; the rest aligns (the stops differ in the registers
	// that hold the count).
	if s.OnlyA != 0 || s.OnlyB != 1 || s.Aligned < 40 {
		t.Errorf("summary = %+v, want 1 event only in B, none only in A, the rest aligned", s)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := diff.ParseConfig(strings.NewReader("# CI\nignore = time, random\ncontext=5\n"))
	if err != nil || c.Ignore != diff.IgnoreTime|diff.IgnoreRandom || c.Context != 5 {
		t.Errorf("ParseConfig = %+v, %v", c, err)
	}
	for _, bad := range []string{"ignore = clocks", "colour = yes", "context = -1", "nonsense"} {
		if _, err := diff.ParseConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseConfig(%q) succeeded", bad)
		}
	}
}

// TestDiffDeepFindsStore: store-v1 and store-v2 differ in the constant stored
// into the global limit; --deep names that instruction and the global in
// memory after it (the registers are the same).
func TestDiffDeepFindsStore(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "store")
	install(t, "testdata/diff/store-v1", prog)
	a := recordTo(t, prog, 1)
	install(t, "testdata/diff/store-v2", prog)
	b := recordTo(t, prog, 1)
	rep := compare(t, a, b, diff.Options{Deep: true})
	d := rep.Deep
	if d == nil || d.Location == nil || d.Location.Func != "main" || d.Location.File != "store.c" || d.Location.Line != 12 {
		t.Fatalf("deep = %+v, want the store in main at store.c:12\n%s", d, text(rep))
	}
	limit := elfSymbol(t, "testdata/diff/store-v1", "limit")
	if len(d.Memory) != 1 || d.Memory[0].Addr != limit || d.Memory[0].Symbol != "limit" || d.Memory[0].Offset != 0 ||
		d.Memory[0].A != "64" || d.Memory[0].B != "c8" {
		t.Errorf("deep memory = %+v, want limit (%#x) 64 vs c8", d.Memory, limit)
	}
	for _, r := range d.Regs[1:] {
		t.Errorf("a register differs after the store: %s", r)
	}
	if out := text(rep); !strings.Contains(out, "(limit) [1 bytes] 64 vs c8") {
		t.Errorf("text report does not name the global:\n%s", out)
	}
}

func elfSymbol(t *testing.T, prog, name string) uint64 {
	t.Helper()
	f, err := elf.Open(filepath.Join(repoRoot, prog))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s has no symbol %s", prog, name)
	return 0
}
