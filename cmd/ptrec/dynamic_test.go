package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The host's own dynamically linked userland — coreutils, python3, git,
// perl, awk, gcc — under ptrec: ld.so loads libc and friends through the
// emulated mmap, glibc picks its string functions by the virtual CPU's
// CPUID. Each case runs natively, under `ptrec record` and under `ptrec
// replay`, each in a freshly made work directory at the same path, and
// stdout and exit status must agree. A case whose program is not installed
// is skipped with the reason; -short keeps only the quick ones. The log
// gives each program's instruction count and ptrec/native time ratio.

// dynCase is one command line of a host program.
type dynCase struct {
	name  string
	prog  string   // looked up on dynPath; the case is skipped if absent
	args  []string // after the program name
	stdin string   // file in the work directory fed on stdin ("" none)
	// sameAsNative is false when stdout legitimately differs from a
	// native run made moments earlier (the time); then only record and
	// replay are compared, and check (if set) judges the recording.
	sameAsNative bool
	check        func(t *testing.T, native, recorded string)
	// output names a file the program writes into the work directory
	// that must be identical to the native run's.
	output string
	short  bool // cheap enough for -short
}

const dynPath = "/usr/bin:/bin"

// dynFixture (re)creates the work directory with fixed content.
func dynFixture(t *testing.T, work string) {
	t.Helper()
	if err := os.RemoveAll(work); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for i := 0; i < 2000; i++ {
		lines.WriteString(strconv.Itoa(i*7919%10007) + " line " + strconv.Itoa(i) + "\n")
	}
	files := map[string]string{
		"lines.txt": lines.String(),
		"hello.c":   "#include <stdio.h>\n\nint main(void) {\n\tprintf(\"hello, %d\\n\", 6 * 7);\n\treturn 0;\n}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func dynEnv(work string) []string {
	return []string{"PATH=" + dynPath, "HOME=" + work, "LANG=C", "LC_ALL=C", "TZ=UTC", "TERM=dumb",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=ptrec", "GIT_AUTHOR_EMAIL=ptrec@example.com",
		"GIT_COMMITTER_NAME=ptrec", "GIT_COMMITTER_EMAIL=ptrec@example.com",
		"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z"}
}

func dynCases() []dynCase {
	py := func(name, src string, short bool) dynCase {
		// /usr/bin/python3 by absolute path: a python3 earlier on a
		// user's PATH is often a pyenv shell shim.
		return dynCase{name: name, prog: "/usr/bin/python3", args: []string{"-c", src}, sameAsNative: true, short: short}
	}
	return []dynCase{
		{name: "ls", prog: "ls", args: []string{"-la", "/usr/bin"}, sameAsNative: true, short: true},
		{name: "sort", prog: "sort", args: []string{"-n"}, stdin: "lines.txt", sameAsNative: true, short: true},
		{name: "sha256sum", prog: "sha256sum", args: []string{"lines.txt"}, sameAsNative: true, short: true},
		{name: "wc", prog: "wc", args: []string{"lines.txt"}, sameAsNative: true, short: true},
		{name: "date", prog: "date", args: []string{"+%s.%N"}, check: checkDate, short: true},
		// /proc/PID/exe is the file itself, symlinks resolved (/bin/sh is
		// a link to dash): ld.so finds $ORIGIN-relative libraries by it.
		{name: "proc-exe", prog: "sh", args: []string{"-c", "readlink /proc/$$/exe"}, sameAsNative: true, short: true},
		{name: "seq-tail", prog: "sh", args: []string{"-c", "seq 1 100000 | tail -n 3"}, sameAsNative: true, short: true},
		py("python-arith-json-hashlib-re", `import json, hashlib, re
print(sum(i*i for i in range(10000)), 2**200 % 1000003, 7/3, divmod(-7, 2), 1e300*1e10)
d = {"k": [1, 2.5, None, "s"], "n": {"x": True}}
print(json.dumps(d, sort_keys=True), json.loads('{"a": [1, 2]}'))
print(hashlib.sha256(b"ptrec").hexdigest(), hashlib.md5(b"x" * 1000).hexdigest())
print(re.findall(r"(\w+)=(\d+)", "a=1 bb=22 ccc=333"), re.sub(r"\s+", "-", "a  b   c"))`, true),
		py("python-threading", `import threading
out = [0] * 4
def work(i):
    out[i] = sum(range(i * 20000))
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(out)`, false),
		py("python-subprocess", `import subprocess
p = subprocess.run(["sh", "-c", "echo from child; exit 3"], capture_output=True, text=True)
print(p.returncode, repr(p.stdout))`, false),
		// A file mapping larger than one host read (16 MiB) is filled to
		// its end, as ld.so's mapping of a big library must be.
		py("python-mmap-large", `import mmap
with open("big.bin", "wb") as f:
    for i in range(20):
        f.write(bytes([i]) * (1 << 20))
with open("big.bin", "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    print(len(m), m[-1], [m[(i << 20) + 4095] for i in range(20)])`, true),
		{name: "git-version", prog: "git", args: []string{"--version"}, sameAsNative: true, short: true},
		{name: "git-init-commit-log", prog: "sh", args: []string{"-c",
			"git init -q repo && cd repo && echo hello > f && git add f && git commit -q -m first && git log --format='%H %an %s'"},
			sameAsNative: true},
		{name: "perl", prog: "perl", args: []string{"-e", `my %h; $h{$_ % 7}++ for 1..1000; print join(",", map {"$_=$h{$_}"} sort keys %h), "\n"; printf("%.6f\n", atan2(1,1)*4)`},
			sameAsNative: true, short: true},
		{name: "awk", prog: "awk", args: []string{"{ s += $1; n++ } END { printf \"%d %d %.3f\\n\", n, s, s/n }", "lines.txt"},
			sameAsNative: true, short: true},
		{name: "gcc-c", prog: "gcc", args: []string{"-c", "hello.c", "-o", "hello.o"}, sameAsNative: true, output: "hello.o"},
	}
}

// checkDate: the recorded date is the host's time at recording (within
// a minute of the native run), and replay (compared by the caller) shows
// that recorded time to the nanosecond, not the time of the replay.
func checkDate(t *testing.T, native, recorded string) {
	n, err1 := strconv.ParseFloat(strings.TrimSpace(native), 64)
	r, err2 := strconv.ParseFloat(strings.TrimSpace(recorded), 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("date output not a number: native %q, recorded %q", native, recorded)
	}
	if r < n || r-n > 60 {
		t.Errorf("recorded date %f is not just after the native run's %f", r, n)
	}
}

func TestDynamicPrograms(t *testing.T) {
	if !nativeOK() {
		t.Skip("needs an x86-64 Linux host to compare against")
	}
	if _, err := os.Stat("/lib64/ld-linux-x86-64.so.2"); err != nil {
		t.Skip("no glibc dynamic loader on this host")
	}
	for _, tc := range dynCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if testing.Short() && !tc.short {
				t.Skip("slow under emulation; skipped with -short")
			}
			prog := tc.prog
			if !filepath.IsAbs(prog) {
				p, err := exec.LookPath(filepath.Join("/usr/bin", prog))
				if err != nil {
					t.Skipf("%s is not installed", prog)
				}
				prog = p
			} else if _, err := os.Stat(prog); err != nil {
				t.Skipf("%s is not installed", prog)
			}
			checkDynamic(t, prog, tc)
		})
	}
}

func checkDynamic(t *testing.T, prog string, tc dynCase) {
	// A fixed path so native and emulated runs see the same names.
	work := filepath.Join(os.TempDir(), "ptrec-dyn-"+tc.name)
	defer os.RemoveAll(work)
	env := dynEnv(work)
	stdin := func() string {
		if tc.stdin == "" {
			return ""
		}
		return filepath.Join(work, tc.stdin)
	}
	readOutput := func() []byte {
		if tc.output == "" {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(work, tc.output))
		if err != nil {
			t.Fatalf("%s not written: %v", tc.output, err)
		}
		return b
	}
	argv := append([]string{prog}, tc.args...)

	dynFixture(t, work)
	start := time.Now()
	native := runInEnv(t, work, stdin(), env, argv[0], argv[1:]...)
	nativeDur := time.Since(start)
	nativeOut := readOutput()
	if native.code != 0 {
		t.Fatalf("native run exits %d: %s", native.code, native.stderr)
	}

	trace := filepath.Join(t.TempDir(), "t.ptrec")
	dynFixture(t, work)
	start = time.Now()
	// `ptrec record NAME` finds NAME on PATH as a shell would.
	recArgv := append([]string{tc.prog}, tc.args...)
	rec := runInEnv(t, work, stdin(), env, ptrecBin, append([]string{"record", "-o", trace, "--"}, recArgv...)...)
	recDur := time.Since(start)
	if rec.code != native.code {
		t.Fatalf("record exit %d, native %d\nstderr: %s", rec.code, native.code, rec.stderr)
	}
	if tc.sameAsNative && rec.stdout != native.stdout {
		t.Fatalf("record stdout differs from native: %s", firstLineDiff(rec.stdout, native.stdout))
	}
	if tc.check != nil {
		tc.check(t, native.stdout, rec.stdout)
	}
	if out := readOutput(); !bytes.Equal(out, nativeOut) {
		t.Errorf("%s written under record differs from native (%d vs %d bytes)", tc.output, len(out), len(nativeOut))
	}

	// Replay in an empty directory: the trace must not need the fixture.
	if err := os.RemoveAll(work); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	rep := runInEnv(t, work, "", env, ptrecBin, "replay", trace)
	if rep.code != rec.code {
		t.Fatalf("replay exit %d, record %d\nstderr: %s", rep.code, rec.code, rep.stderr)
	}
	if rep.stdout != rec.stdout {
		t.Fatalf("replay stdout differs from record: %s", firstLineDiff(rep.stdout, rec.stdout))
	}
	info := infoJSON(t, trace)
	t.Logf("%s: %.0f instructions, %v processes; record %.2fs, native %.3fs (ratio %.0fx)",
		tc.name, info["instructions"], info["processes"], recDur.Seconds(), nativeDur.Seconds(), recDur.Seconds()/max(nativeDur.Seconds(), 1e-3))
}

// firstLineDiff shows the first line where got and want differ.
func firstLineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ": got " + strconv.Quote(a) + ", want " + strconv.Quote(b)
		}
	}
	return "lengths differ"
}
