package diff_test

import (
	"bytes"
	"debug/elf"
	"fmt"
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

// recordTo records prog (a path under the repository) into a trace file
// under the default stop policy (the syscall log); seed < 0 uses the real
// host's clocks and randomness.
func recordTo(t *testing.T, prog string, seed int64, args ...string) string {
	t.Helper()
	return recordStops(t, "", prog, seed, args...)
}

// recordStops is recordTo under the stop policy stops.
func recordStops(t *testing.T, stops, prog string, seed int64, args ...string) string {
	t.Helper()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	return recordHost(t, stops, devnull, devnull, prog, seed, args...)
}

// recordHost is recordStops with stdin from the file in and stdout going to
// the file out (stderr to /dev/null).
func recordHost(t *testing.T, stops string, in, out *os.File, prog string, seed int64, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var host kernel.Host = hostos.New(in, out, devnull)
	if seed >= 0 {
		host = hostos.NewFixed(host, uint64(seed))
	}
	path := prog
	if !filepath.IsAbs(path) {
		path = filepath.Join(repoRoot, prog)
	}
	o := record.Options{Path: path, Argv: append([]string{path}, args...), Envp: []string{"LANG=C"}, Host: host, Stops: stops,
		Facts: kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242}}
	trace := filepath.Join(dir, "t.ptrec")
	f, err := os.Create(trace)
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
	return trace
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
	// Under the syscall log each syscall counts once, as its record: the
	// write (other bytes) and exit_group (another status), and not the
	// stop at exit_group's entry as well.
	var names []string
	for _, x := range rep.Summary.Syscalls {
		names = append(names, x.Name)
	}
	if rep.Summary.SyscallsDiffer != 2 || strings.Join(names, " ") != "write exit_group" {
		t.Errorf("%d syscalls differ: %+v, want write and exit_group", rep.Summary.SyscallsDiffer, rep.Summary.Syscalls)
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

// TestAlignmentSurvivesInsertion: spin makes one more getppid in B. Under
// the syscall log the getppids are records of one syscalls event, each its
// own item: the extra one is the only item only in B, and the rest aligns.
func TestAlignmentSurvivesInsertion(t *testing.T) {
	a := recordTo(t, "testdata/bin/spin.musl", 1, "sys", "20")
	b := recordTo(t, "testdata/bin/spin.musl", 1, "sys", "21")
	rep := compare(t, a, b, diff.Options{})
	s := rep.Summary
	if rep.Same || rep.Origin == nil || rep.Origin.Class != "arguments" {
		t.Fatalf("spin 20 vs 21: same=%v origin=%+v", rep.Same, rep.Origin)
	}
	// 20 getppids and the other syscalls are records, besides the stops,
	// inputs and the memory delta.
	if s.OnlyA != 0 || s.OnlyB != 1 || s.Aligned < 30 {
		t.Errorf("summary = %+v, want 1 item only in B, none only in A, the rest aligned", s)
	}
	// Only the output's digits differ besides: no syscall differs in its
	// arguments or result.
	if s.SyscallsDiffer != 0 {
		t.Errorf("%d syscalls differ (%+v), want none", s.SyscallsDiffer, s.Syscalls)
	}
	f := rep.First
	if f == nil || f.What != "only in B" || f.Syscall != "getppid" || f.RecordB == nil || !strings.HasPrefix(f.Detail, "B has syscall getppid() = ") {
		t.Fatalf("first difference = %+v, want the extra getppid record only in B\n%s", f, text(rep))
	}
	// The context is the records around it, the extra one marked.
	marked := ""
	for _, l := range f.ContextB {
		if strings.HasPrefix(l, "> ") {
			marked = l
		}
	}
	if want := fmt.Sprintf("> #%d[%d] ", f.SeqB, *f.RecordB); !strings.HasPrefix(marked, want) || !strings.Contains(marked, " getppid() = ") {
		t.Errorf("marked context line %q, want %q… of getppid; context:\n%s", marked, want, strings.Join(f.ContextB, "\n"))
	}
	if out := text(rep); !strings.Contains(out, fmt.Sprintf("first difference at event %d (B: %d[%d])", f.SeqA, f.SeqB, *f.RecordB)) &&
		!strings.Contains(out, fmt.Sprintf("first difference at event %d[", f.SeqA)) {
		t.Errorf("text report does not name the record:\n%s", out)
	}
}

// TestAlignmentSurvivesInsertionStops is the same under the policy syscall:
// a stop at each syscall's entry, the extra getppid's stop only in B.
func TestAlignmentSurvivesInsertionStops(t *testing.T) {
	a := recordStops(t, record.StopsSyscall, "testdata/bin/spin.musl", 1, "sys", "20")
	b := recordStops(t, record.StopsSyscall, "testdata/bin/spin.musl", 1, "sys", "21")
	rep := compare(t, a, b, diff.Options{})
	s := rep.Summary
	if rep.Same || rep.Origin == nil || rep.Origin.Class != "arguments" {
		t.Fatalf("spin 20 vs 21: same=%v origin=%+v", rep.Same, rep.Origin)
	}
	// The stops differ in the registers that hold the count.
	if s.OnlyA != 0 || s.OnlyB != 1 || s.Aligned < 40 {
		t.Errorf("summary = %+v, want 1 event only in B, none only in A, the rest aligned", s)
	}
	if f := rep.First; f == nil || f.RecordA != nil || f.RecordB != nil {
		t.Errorf("first difference = %+v, want no syscall records in a trace without the log", f)
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

// TestDiffSyscallResult records store-v1 twice under the syscall log, the
// second time with stdout a file open only for reading, so that its write
// fails: the traces differ first in the host write's result, and the write
// syscall is where control flow first differs, reported with its arguments,
// both results, its pc in libc and its caller in main at store.c:17; --deep
// finds the syscall instruction.
func TestDiffSyscallResult(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "store")
	install(t, "testdata/diff/store-v1", prog)
	a := recordTo(t, prog, 1)
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.WriteFile(ro, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Open(ro)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	b := recordHost(t, "", devnull, out, prog, 1)
	rep := compare(t, a, b, diff.Options{Deep: true})
	t.Logf("report:\n%s", text(rep))
	if rep.Same {
		t.Fatal("a write that fails compares the same as one that succeeds")
	}
	f := rep.First
	if f == nil || f.Syscall != "" || !strings.HasPrefix(f.Detail, "host write") || !strings.Contains(f.Detail, "the host's result differs") {
		t.Errorf("first difference = %+v, want the host write's result", f)
	}
	c := rep.Control
	if c == nil {
		t.Fatalf("no control divergence:\n%s", text(rep))
	}
	// The write's fd and length, its result in A, the error in B.
	if c.Syscall != "write" || c.RecordA == nil || c.RecordB == nil ||
		!strings.HasPrefix(c.Detail, "write(1, 0x") || !strings.Contains(c.Detail, ", 5) = 5 vs = -9 (EBADF)") {
		t.Errorf("control = %+v, want write(1, …, 5) = 5 vs = -9 (EBADF)\n%s", c, text(rep))
	}
	if c.Location == nil || c.Location.Line != 0 {
		t.Errorf("control location = %v, want the pc in libc's write", c.Location)
	}
	if cl := c.Caller; cl == nil || cl.Func != "main" || cl.File != "store.c" || cl.Line != 17 {
		t.Errorf("control caller = %v, want main at store.c:17", cl)
	}
	// --deep: the syscall instruction is the first whose registers differ
	// after it (rax, the result).
	if d := rep.Deep; d == nil || len(d.Regs) == 0 || d.Regs[0] != "rax 0x5 vs 0xfffffffffffffff7" {
		t.Errorf("deep = %+v, want rax 5 vs -9 after the syscall instruction", d)
	}
	s := rep.Summary
	if s.SyscallsDiffer != 1 || len(s.Syscalls) != 1 || s.Syscalls[0].Name != "write" || s.Syscalls[0].What != "result 5 vs -9 (EBADF)" ||
		s.Syscalls[0].RecordA == nil || *s.Syscalls[0].RecordA != *c.RecordA {
		t.Errorf("summary syscalls = %d %+v, want the write: result 5 vs -9 (EBADF)", s.SyscallsDiffer, s.Syscalls)
	}
	txt := text(rep)
	for _, want := range []string{
		fmt.Sprintf("control flow first differs at event %d[%d] (B: %d[%d]): write(1, 0x", c.SeqA, *c.RecordA, c.SeqB, *c.RecordB),
		"called from 0x", "(store.c:17)",
		fmt.Sprintf("write#%d[%d](result 5 vs -9 (EBADF))", c.SeqA, *c.RecordA),
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text report lacks %q:\n%s", want, txt)
		}
	}
	var gh bytes.Buffer
	rep.WriteGitHub(&gh)
	if !strings.HasPrefix(gh.String(), "::error file=store.c,line=17,") {
		t.Errorf("github annotation = %q, want it at the write's caller, store.c:17", gh.String())
	}
	// With --ignore pid everything is compared at control level only
	// (results may be derived data): a failure still differs there.
	if rep := compare(t, a, b, diff.Options{Ignore: diff.IgnorePid}); rep.Control == nil || rep.Control.Syscall != "write" {
		t.Errorf("with --ignore pid: control = %+v, want the write\n%s", rep.Control, text(rep))
	}
}

// TestSyslogInsertionMovesBatchStops: in a syscall-log trace a stop comes
// at the syscall after every batch of logged ones, so a syscall inserted
// early moves every later batch stop one syscall back. The batch stops
// align among themselves, so each insertion is one record only in B and
// nothing else differs.
func TestSyslogInsertionMovesBatchStops(t *testing.T) {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a.ptrec"), filepath.Join(dir, "b.ptrec")
	const n = 20_000
	writeSyslog(t, pa, n, 4096, 0)
	writeSyslog(t, pb, n, 4096, 5_000) // 4 getpids inserted
	rep := compare(t, pa, pb, diff.Options{})
	s := rep.Summary
	if s.OnlyA != 0 || s.OnlyB != 4 || s.Changed != 0 || s.Aligned != n+5 {
		t.Errorf("summary = %+v, want the 4 inserted syscalls only in B, the %d syscalls and the 5 batch stops aligned", s, n)
	}
	if f := rep.First; f == nil || f.What != "only in B" || f.Syscall != "getpid" || f.RecordB == nil || *f.RecordB != 4999-4096 {
		t.Errorf("first difference = %+v, want the getpid inserted at syscall 4999 (record 903 of the second batch)", f)
	}
}

// TestDiffStdinSize records echoargs (which reads stdin to EOF) under the
// syscall log with 6 and then 12 bytes on stdin: the origin is the read of
// stdin, the first read's result differs in the summary (a byte count is
// data, not control flow), and control flow differs at the next read, which
// comes after more instructions (counted from the previous syscall, not
// from the host read inside it).
func TestDiffStdinSize(t *testing.T) {
	dir := t.TempDir()
	var traces []string
	for i, data := range []string{"hello\n", "hello world\n"} {
		path := filepath.Join(dir, fmt.Sprint("stdin", i))
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer devnull.Close()
		traces = append(traces, recordHost(t, "", in, devnull, "testdata/bin/echoargs.musl", 1))
	}
	rep := compare(t, traces[0], traces[1], diff.Options{})
	t.Logf("report:\n%s", text(rep))
	if rep.Same || rep.Origin == nil || rep.Origin.Class != "stdin" {
		t.Fatalf("origin = %+v, want stdin\n%s", rep.Origin, text(rep))
	}
	s := rep.Summary
	if s.SyscallsDiffer == 0 || s.Syscalls[0].Name != "read" || s.Syscalls[0].What != "result 6 vs 12" || s.Syscalls[0].RecordA == nil {
		t.Errorf("summary syscalls = %d %+v, want first the read of stdin: result 6 vs 12\n%s", s.SyscallsDiffer, s.Syscalls, text(rep))
	}
	// Hashing 12 bytes takes longer than 6: the read that returns EOF
	// comes after more instructions, and is where control flow differs.
	c := rep.Control
	if c == nil || c.Syscall != "read" || c.RecordA == nil || *c.RecordA != *s.Syscalls[0].RecordA+1 ||
		!strings.HasPrefix(c.Detail, "read(0, 0x") || !strings.Contains(c.Detail, ", 4096) = 0: ") || !strings.HasSuffix(c.Detail, " instructions since the thread's previous syscall or stop") {
		t.Errorf("control = %+v, want the read at EOF after more instructions", c)
	}
}
