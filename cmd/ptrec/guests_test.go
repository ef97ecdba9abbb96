package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// guestCase is one line of testdata/c/cases.txt.
type guestCase struct {
	name, stdin string
	exit        int
	args        []string
}

func readCases(t *testing.T) []guestCase {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "testdata/c/cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []guestCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := splitCaseFields(line)
		if len(fields) < 3 {
			t.Fatalf("bad case line %q", line)
		}
		code, err := strconv.Atoi(fields[2])
		if err != nil {
			t.Fatalf("bad exit in %q", line)
		}
		out = append(out, guestCase{name: fields[0], stdin: fields[1], exit: code, args: fields[3:]})
	}
	return out
}

// splitCaseFields splits on blanks, honouring backslash-escaped spaces.
func splitCaseFields(s string) []string {
	var out []string
	var cur strings.Builder
	esc, in := false, false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc, in = false, true
		case r == '\\':
			esc = true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// TestGuestsRecordReplay records every deterministic C guest (musl and
// glibc builds) and replays it: both must print the expected native output
// and exit with the expected status.
func TestGuestsRecordReplay(t *testing.T) {
	for _, c := range readCases(t) {
		for _, libc := range []string{"musl", "glibc"} {
			t.Run(c.name+"."+libc, func(t *testing.T) {
				bin := filepath.Join(repoRoot, "testdata/bin", c.name+"."+libc)
				data, err := os.ReadFile(bin)
				if err != nil {
					t.Skipf("guest not built: %v", err)
				}
				dir := t.TempDir()
				// argv[0] is the bare name, found on PATH as a shell would.
				if err := os.WriteFile(filepath.Join(dir, c.name), data, 0o755); err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join(repoRoot, "testdata/c/expected", c.name+"."+libc+".out"))
				if err != nil {
					want, err = os.ReadFile(filepath.Join(repoRoot, "testdata/c/expected", c.name+".out"))
				}
				if err != nil {
					t.Fatal(err)
				}
				stdin := ""
				if c.stdin != "-" {
					stdin = filepath.Join(repoRoot, "testdata/c/stdin", c.stdin)
				}
				trace := filepath.Join(t.TempDir(), "t.ptrec")
				args := append([]string{"record", "--seed", "7", "-o", trace, "--", c.name}, c.args...)
				rec := runInPath(t, dir, stdin, args...)
				if rec.stdout != string(want) || rec.code != c.exit {
					t.Fatalf("record: exit %d, stdout:\n%s\nwant exit %d, stdout:\n%s\nstderr: %s", rec.code, rec.stdout, c.exit, want, rec.stderr)
				}
				rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
				if rep.stdout != rec.stdout || rep.code != rec.code {
					t.Errorf("replay: exit %d stdout %q; recorded exit %d; stderr %s", rep.code, rep.stdout, rec.code, rep.stderr)
				}
			})
		}
	}
}

// runInPath runs ptrec in dir with dir first on PATH.
func runInPath(t *testing.T, dir, stdin string, args ...string) runResult {
	t.Helper()
	return runInEnv(t, dir, stdin, []string{"PATH=" + dir + ":/usr/bin:/bin", "LANG=C"}, ptrecBin, args...)
}

// TestGoGuestRecordReplay builds the Go guest at test time and checks that
// record and replay print what the native binary prints.
func TestGoGuestRecordReplay(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-o", bin, "./testdata/go/hello")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the Go guest: %v\n%s", err, out)
	}
	stdin := filepath.Join(repoRoot, "testdata/c/stdin/echoargs.in")
	trace := filepath.Join(t.TempDir(), "go.ptrec")
	rec := runInPath(t, dir, stdin, "record", "--seed", "3", "-o", trace, "--", "hello", "x", "exit=4")
	if rec.code != 4 {
		t.Fatalf("record exit = %d, want 4; stderr %s", rec.code, rec.stderr)
	}
	if nativeOK() {
		os.RemoveAll(filepath.Join(dir, "hello.out"))
		cmd := exec.Command(bin, "x", "exit=4")
		cmd.Args[0] = "hello"
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "LANG=C"}
		in, err := os.Open(stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		cmd.Stdin = in
		out, _ := cmd.Output()
		if string(out) != rec.stdout || cmd.ProcessState.ExitCode() != rec.code {
			t.Errorf("record = (%q, %d), native = (%q, %d)", rec.stdout, rec.code, out, cmd.ProcessState.ExitCode())
		}
	}
	rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
	if rep.stdout != rec.stdout || rep.code != rec.code {
		t.Errorf("replay = (%q, %d), recorded (%q, %d); stderr %s", rep.stdout, rep.code, rec.stdout, rec.code, rep.stderr)
	}
}

// TestGoGuestsMore records and replays the other Go guests: goroutines and
// timers, a GC-heavy workload, and os/exec of another guest.
func TestGoGuestsMore(t *testing.T) {
	dir := t.TempDir()
	build := func(name string) string {
		bin := filepath.Join(dir, name)
		c := exec.Command("go", "build", "-o", bin, "./testdata/go/"+name)
		c.Dir = repoRoot
		c.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", name, err, out)
		}
		return bin
	}
	echo := filepath.Join(repoRoot, "testdata/bin/echoargs.musl")
	cases := []struct {
		name string
		args []string
	}{
		{"goroutines", nil},
		{"gcheavy", nil},
		{"spawner", []string{echo, "from", "go", "exit=5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "gcheavy" && testing.Short() {
				t.Skip("gcheavy takes about 10 s emulated; skipped with -short")
			}
			bin := build(tc.name)
			work := t.TempDir()
			env := []string{"PATH=/usr/bin:/bin", "LANG=C"}
			nat := exec.Command(bin, tc.args...)
			nat.Dir, nat.Env = work, env
			want, _ := nat.Output()
			wantCode := nat.ProcessState.ExitCode()
			trace := filepath.Join(t.TempDir(), "t.ptrec")
			rec := runInEnv(t, work, "", env, ptrecBin, append([]string{"record", "--seed", "2", "-o", trace, "--", bin}, tc.args...)...)
			if rec.stdout != string(want) || rec.code != wantCode {
				t.Fatalf("record = (%q, %d), native = (%q, %d); stderr %s", rec.stdout, rec.code, want, wantCode, rec.stderr)
			}
			rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
			if rep.stdout != rec.stdout || rep.code != rec.code {
				t.Errorf("replay = (%q, %d), recorded (%q, %d); stderr %s", rep.stdout, rep.code, rec.stdout, rec.code, rep.stderr)
			}
		})
	}
}

// TestTimeRandomReplay records the guest that reads every clock, getrandom,
// /dev/urandom and rdtsc with the real host's values (no --seed): its output
// differs on every run natively, and replay must print exactly what the
// recording printed.
func TestTimeRandomReplay(t *testing.T) {
	for _, libc := range []string{"musl", "glibc"} {
		t.Run(libc, func(t *testing.T) {
			bin := filepath.Join(repoRoot, "testdata/bin/timerand."+libc)
			trace := filepath.Join(t.TempDir(), "t.ptrec")
			rec := runIn(t, t.TempDir(), "", ptrecBin, "record", "-o", trace, "--", bin)
			if rec.code != 0 || !strings.HasSuffix(rec.stdout, "ok\n") {
				t.Fatalf("record: exit %d, stdout %q, stderr %s", rec.code, rec.stdout, rec.stderr)
			}
			rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
			if rep.stdout != rec.stdout || rep.code != 0 {
				t.Errorf("replay printed %q (exit %d), recording printed %q", rep.stdout, rep.code, rec.stdout)
			}
		})
	}
}
