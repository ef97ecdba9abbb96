package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden traces in testdata/traces")

// ptrecBin is the ptrec binary built once for these tests.
var ptrecBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "ptrec-test")
	if err != nil {
		panic(err)
	}
	ptrecBin = filepath.Join(dir, "ptrec")
	out, err := exec.Command("go", "build", "-o", ptrecBin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goldenDir is a fixed directory so absolute paths in traces are the same on
// every machine.
const goldenDir = "/tmp/ptrec-golden"

var repoRoot = func() string { wd, _ := os.Getwd(); return filepath.Join(wd, "..", "..") }()

type runResult struct {
	stdout, stderr string
	code           int
}

// runIn runs a command in dir with a fixed environment and the given stdin.
func runIn(t *testing.T, dir, stdinPath string, name string, args ...string) runResult {
	t.Helper()
	return runInEnv(t, dir, stdinPath, []string{"PATH=/usr/bin:/bin", "LANG=C"}, name, args...)
}

// runInEnv runs a command in dir with the environment env.
func runInEnv(t *testing.T, dir, stdinPath string, env []string, name string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	if stdinPath != "" {
		f, err := os.Open(stdinPath)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return runResult{so.String(), se.String(), code}
}

// echoargsSetup copies the echoargs guest into the fixed golden directory.
func echoargsSetup(t *testing.T) (prog, stdin string) {
	t.Helper()
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "testdata/bin/echoargs.musl"))
	if err != nil {
		t.Fatal(err)
	}
	prog = filepath.Join(goldenDir, "echoargs")
	if err := os.WriteFile(prog, data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(goldenDir, "echoargs.out"))
	return prog, filepath.Join(repoRoot, "testdata/c/stdin/echoargs.in")
}

func nativeOK() bool { return runtime.GOOS == "linux" && runtime.GOARCH == "amd64" }

func TestRecordReplayEchoargsMatchesNative(t *testing.T) {
	prog, stdin := echoargsSetup(t)
	args := []string{"one", "two three", "exit=3"}
	trace := filepath.Join(t.TempDir(), "t.ptrec")
	rec := runIn(t, goldenDir, stdin, ptrecBin, append([]string{"record", "-o", trace, "--", prog}, args...)...)
	want, err := os.ReadFile(filepath.Join(repoRoot, "testdata/c/expected/echoargs.out"))
	if err != nil {
		t.Fatal(err)
	}
	if nativeOK() {
		os.Remove(filepath.Join(goldenDir, "echoargs.out"))
		nat := runIn(t, goldenDir, stdin, prog, args...)
		if nat.code != 3 {
			t.Fatalf("native echoargs exit = %d, want 3", nat.code)
		}
		if rec.stdout != nat.stdout {
			t.Errorf("record stdout differs from native:\n%s\nnative:\n%s", rec.stdout, nat.stdout)
		}
	}
	// The expected file was made with argv[0] "echoargs".
	got := strings.Replace(rec.stdout, prog, "echoargs", 1)
	if got != string(want) {
		t.Errorf("record stdout = %q, want %q", got, want)
	}
	if rec.code != 3 {
		t.Errorf("record exit = %d, want 3 (stderr %q)", rec.code, rec.stderr)
	}
	if !strings.Contains(rec.stderr, "trace written to") {
		t.Errorf("record stderr %q does not name the trace", rec.stderr)
	}
	// Replay must not touch the host's files: remove the file the guest
	// wrote and the program itself; replay still prints the same.
	os.Remove(filepath.Join(goldenDir, "echoargs.out"))
	os.Remove(prog)
	rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
	if rep.stdout != rec.stdout || rep.code != rec.code {
		t.Errorf("replay = (%q, %d), want (%q, %d); stderr %q", rep.stdout, rep.code, rec.stdout, rec.code, rep.stderr)
	}
	if _, err := os.Stat(filepath.Join(goldenDir, "echoargs.out")); err == nil {
		t.Errorf("replay wrote echoargs.out on the host")
	}
}

func TestGoldenTraceDiff(t *testing.T) {
	prog, stdin := echoargsSetup(t)
	golden := filepath.Join(repoRoot, "testdata/traces/echoargs.ptrec")
	fresh := filepath.Join(t.TempDir(), "fresh.ptrec")
	r := runIn(t, goldenDir, stdin, ptrecBin, "record", "--seed", "1", "-o", fresh, "--", prog, "one", "two three", "exit=3")
	if r.code != 3 {
		t.Fatalf("record exit = %d, stderr %q", r.code, r.stderr)
	}
	if *update {
		data, err := os.ReadFile(fresh)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d := runIn(t, goldenDir, "", ptrecBin, "diff", golden, fresh)
	if d.code != 0 {
		t.Errorf("diff golden fresh exit = %d, want 0:\n%s%s", d.code, d.stdout, d.stderr)
	}
	other := filepath.Join(t.TempDir(), "other.ptrec")
	os.Remove(filepath.Join(goldenDir, "echoargs.out"))
	r = runIn(t, goldenDir, stdin, ptrecBin, "record", "--seed", "1", "-o", other, "--", prog, "one", "exit=4")
	if r.code != 4 {
		t.Fatalf("record (other args) exit = %d, stderr %q", r.code, r.stderr)
	}
	d = runIn(t, goldenDir, "", ptrecBin, "diff", golden, other)
	if d.code != 1 || !strings.Contains(d.stdout, "first difference at event") {
		t.Errorf("diff golden other exit = %d, want 1 with a first difference:\n%s%s", d.code, d.stdout, d.stderr)
	}
}

func TestCorruptTraceIsOneLine(t *testing.T) {
	golden := filepath.Join(repoRoot, "testdata/traces/echoargs.ptrec")
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside the first chunk's payload.
	i := bytes.Index(data, []byte("PTCK"))
	if i < 0 {
		t.Fatal("no chunk in the golden trace")
	}
	bad := append([]byte(nil), data...)
	bad[i+100] ^= 0x40
	path := filepath.Join(t.TempDir(), "bad.ptrec")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"replay", path}, {"info", path}, {"dump", path}} {
		r := runIn(t, t.TempDir(), "", ptrecBin, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || len(lines) != 1 || !strings.Contains(r.stderr, "chunk") ||
			strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("ptrec %s on a corrupt trace: exit %d, stderr %q; want non-zero and one line naming the chunk", args[0], r.code, r.stderr)
		}
	}
}

func TestDumpJSON(t *testing.T) {
	golden := filepath.Join(repoRoot, "testdata/traces/echoargs.ptrec")
	r := runIn(t, t.TempDir(), "", ptrecBin, "dump", "--json", golden)
	if r.code != 0 {
		t.Fatalf("dump exit %d: %s", r.code, r.stderr)
	}
	kinds := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		kind, _ := m["kind"].(string)
		kinds[kind]++
		if _, ok := m["seq"]; !ok {
			t.Errorf("event without seq: %s", sc.Text())
		}
		var need []string
		switch kind {
		case "stop":
			need = []string{"pid", "tid", "signal", "lwp_flags", "syscall_code", "icount"}
		case "request":
			need = []string{"request", "target", "addr", "data", "result", "errno"}
		}
		for _, k := range need {
			if _, ok := m[k]; !ok {
				t.Errorf("%s event lacks %q: %s", kind, k, sc.Text())
			}
		}
	}
	for _, k := range []string{"request", "stop", "memdelta", "input", "exit"} {
		if kinds[k] == 0 {
			t.Errorf("dump has no %s events", k)
		}
	}
}

func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "notelf")
	os.WriteFile(notELF, []byte("\x7fELF garbage that is not an executable at all, padded to be long enough to parse......"), 0o755)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"not found", []string{"run", "--", filepath.Join(dir, "nope")}, 127},
		{"not an ELF", []string{"run", "--", notELF}, 126},
		{"directory", []string{"run", "--", dir}, 126},
		{"missing trace", []string{"info", filepath.Join(dir, "none.ptrec")}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, dir, "", ptrecBin, tc.args...)
			if r.code != tc.want {
				t.Errorf("ptrec %v exit = %d, want %d (stderr %q)", tc.args, r.code, tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") {
				t.Errorf("stderr has a panic: %s", r.stderr)
			}
		})
	}
}

// TestEarlyEndReplays records runs that ptrec ended early (an instruction
// limit, SIGINT) and replays them: the kill is part of the trace, so replay
// reproduces it instead of diverging.
func TestEarlyEndReplays(t *testing.T) {
	spin := filepath.Join(repoRoot, "testdata/bin/spin.musl")
	dir := t.TempDir()
	lim := filepath.Join(dir, "lim.ptrec")
	r := runIn(t, dir, "", ptrecBin, "record", "--seed", "1", "--max-insns", "200000", "-o", lim, "--", spin, "sys", "1000000")
	if r.code != 137 {
		t.Fatalf("record --max-insns: exit %d, want 137; stderr %s", r.code, r.stderr)
	}
	rep := runIn(t, dir, "", ptrecBin, "replay", lim)
	if rep.code != 137 || rep.stdout != r.stdout {
		t.Errorf("replay of a limited trace: exit %d, stderr %q; want 137 and the recorded output", rep.code, rep.stderr)
	}

	intr := filepath.Join(dir, "int.ptrec")
	cmd := exec.Command(ptrecBin, "record", "-o", intr, "--", spin, "forever")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the trace has some chunks, then interrupt.
	for i := 0; i < 200; i++ {
		if st, err := os.Stat(intr); err == nil && st.Size() > 4096 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("record interrupted: %v, want exit 130", err)
	}
	rep = runIn(t, dir, "", ptrecBin, "replay", "-q", intr)
	if rep.code != 137 {
		t.Errorf("replay of an interrupted trace: exit %d, stderr %q; want 137 (the guest was killed)", rep.code, rep.stderr)
	}
}

// TestStopPolicies records echoargs under every --stops policy: each replays
// with the recorded output, entry-and-exit stops twice per syscall where the
// default stops once, and an unknown policy is a usage error.
func TestStopPolicies(t *testing.T) {
	prog, stdin := echoargsSetup(t)
	stops, syscalls, logged := map[string]int{}, map[string]int{}, map[string]int{}
	for _, policy := range []string{"syscall-log", "syscall", "syscall-entry-exit", "signal", "step"} {
		t.Run(policy, func(t *testing.T) {
			trace := filepath.Join(t.TempDir(), "t.ptrec")
			rec := runIn(t, goldenDir, stdin, ptrecBin, "record", "--stops", policy, "-o", trace, "--", prog, "one", "exit=3")
			if rec.code != 3 {
				t.Fatalf("record exit = %d, want 3 (stderr %q)", rec.code, rec.stderr)
			}
			rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
			if rep.stdout != rec.stdout || rep.code != rec.code {
				t.Errorf("replay = (%q, %d), want (%q, %d); stderr %q", rep.stdout, rep.code, rec.stdout, rec.code, rep.stderr)
			}
			info := runIn(t, "", "", ptrecBin, "info", "--json", trace)
			var st struct {
				Stops    string         `json:"stops"`
				Kinds    map[string]int `json:"kinds"`
				Syscalls int            `json:"syscalls"`
			}
			if err := json.Unmarshal([]byte(info.stdout), &st); err != nil {
				t.Fatalf("info --json: %v\n%s", err, info.stdout)
			}
			if st.Stops != policy {
				t.Errorf("info says stops %q, want %q", st.Stops, policy)
			}
			stops[policy], syscalls[policy], logged[policy] = st.Kinds["stop"], st.Syscalls, st.Kinds["syscalls"]
		})
	}
	sc, both, sig, step, lg := stops["syscall"], stops["syscall-entry-exit"], stops["signal"], stops["step"], stops["syscall-log"]
	if !(sig < sc && sc < both && both < 2*sc+4 && both > 2*sc-8 && step > both && lg < sc/2) {
		t.Errorf("stop counts: syscall-log %d, signal %d, syscall %d, syscall-entry-exit %d, step %d", lg, sig, sc, both, step)
	}
	// The log has every syscall the entry stops saw, without their stops.
	if syscalls["syscall-log"] != syscalls["syscall"] || logged["syscall-log"] == 0 || logged["syscall"] != 0 {
		t.Errorf("syscalls: %d logged in %d events under syscall-log, %d entry stops under syscall (%d events)",
			syscalls["syscall-log"], logged["syscall-log"], syscalls["syscall"], logged["syscall"])
	}
	bad := runIn(t, "", "", ptrecBin, "record", "--stops", "bogus", "--", prog)
	if bad.code != 2 || !strings.Contains(bad.stderr, "--stops") {
		t.Errorf("--stops bogus: exit %d, stderr %q; want 2 and a line naming --stops", bad.code, bad.stderr)
	}
}
