package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Real programs nobody here wrote — Debian's busybox-static and bash-static
// and gofmt built from the Go toolchain's source — must print byte-identical
// stdout and exit with the same status under `ptrec run`, under `ptrec
// record` and under `ptrec replay` as they do natively.

// realCase is one command line of a real program.
type realCase struct {
	name  string
	args  []string
	stdin string // content fed on stdin ("" for /dev/null)
}

// realEnv is the fixed environment of every run: PATH holds only the
// directory of busybox applet links (static programs), so no dynamically
// linked host tool is picked up.
func realEnv(work, bin string) []string {
	return []string{"PATH=" + bin, "HOME=" + work, "LANG=C", "LC_ALL=C", "TZ=UTC", "TERM=dumb"}
}

// realFixture (re)creates the files the commands work on, with fixed
// content and times, so the native and emulated runs see the same tree.
func realFixture(t *testing.T, work string) {
	t.Helper()
	if err := os.RemoveAll(work); err != nil {
		t.Fatal(err)
	}
	var big strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&big, "%05d the quick brown fox %d jumps over %x\n", i, i*i%977, i*7919)
	}
	files := map[string]string{
		"data.txt":     "pear:5:17\napple:3:2\nfig:12:5\nbanana:3:40\ncherry:7:1\n",
		"words.txt":    "alpha 10\nbeta 20\ngamma 30\nalpha 5\ndelta 7\nbeta 1\n",
		"big.txt":      big.String(),
		"d/a.txt":      "first file\n",
		"d/b.txt":      "second file\nwith two lines\n",
		"d/sub/c.txt":  "nested\n",
		"d/sub/x.dat":  "binary-ish \x00\x01\x02 data\n",
		"d/sub/deep/e": "deepest\n",
		"bad.go":       "package main\nimport \"fmt\"\nfunc main(){\nx:=[]int{1,2,3}\nfor i:=range x{fmt.Println(i,x[i])}\n}\n",
		"good.go":      "package main\n\nfunc main() {}\n",
		"src/ok.go":    "package p\n\n// F is fine.\nfunc F() int { return 1 }\n",
		"src/ugly.go":  "package p\nfunc  G( )int{return 2}\n",
	}
	stamp := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, content := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Times last, directories after their files.
	for _, name := range []string{"d/a.txt", "d/b.txt", "d/sub/c.txt", "d/sub/x.dat", "d/sub/deep/e", "d/sub/deep", "d/sub", "d"} {
		if err := os.Chtimes(filepath.Join(work, name), stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
}

// checkReal runs each case natively, under `ptrec run`, and under `ptrec
// record` then `ptrec replay`, each in a freshly made fixture directory at
// the same path, and compares stdout and exit status.
func checkReal(t *testing.T, prog string, cases []realCase) {
	if !nativeOK() {
		t.Skip("native reference runs need linux/amd64")
	}
	bin := t.TempDir()
	if _, err := os.Stat("/bin/busybox"); err == nil {
		for _, applet := range []string{"sh", "sort", "awk", "sed", "gzip", "gunzip", "tar", "sha256sum", "find", "factor",
			"seq", "head", "tail", "wc", "tr", "cat", "mkdir", "rm", "ls", "cut", "uniq", "xargs", "md5sum", "printf", "echo", "grep", "sleep", "true", "false"} {
			if err := os.Symlink("/bin/busybox", filepath.Join(bin, applet)); err != nil {
				t.Fatal(err)
			}
		}
	}
	work := filepath.Join(t.TempDir(), "work")
	env := realEnv(work, bin)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdin := ""
			if c.stdin != "" {
				stdin = filepath.Join(t.TempDir(), "stdin")
				if err := os.WriteFile(stdin, []byte(c.stdin), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			realFixture(t, work)
			native := runInEnv(t, work, stdin, env, prog, c.args...)

			realFixture(t, work)
			run := runInEnv(t, work, stdin, env, ptrecBin, append([]string{"run", "--", prog}, c.args...)...)
			if run.stdout != native.stdout || run.code != native.code {
				t.Errorf("ptrec run: exit %d, native %d\n%s\nstderr:\n%s", run.code, native.code, firstDiff(run.stdout, native.stdout), run.stderr)
			}

			realFixture(t, work)
			trace := filepath.Join(t.TempDir(), "t.ptrec")
			rec := runInEnv(t, work, stdin, env, ptrecBin, append([]string{"record", "-o", trace, "--", prog}, c.args...)...)
			if rec.stdout != native.stdout || rec.code != native.code {
				t.Errorf("ptrec record: exit %d, native %d\n%s\nstderr:\n%s", rec.code, native.code, firstDiff(rec.stdout, native.stdout), rec.stderr)
			}
			rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
			if rep.stdout != native.stdout || rep.code != native.code {
				t.Errorf("ptrec replay: exit %d, native %d\n%s\nstderr:\n%s", rep.code, native.code, firstDiff(rep.stdout, native.stdout), rep.stderr)
			}
		})
	}
}

// firstDiff shows where two outputs part.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	clip := func(s string) string {
		s = s[i:]
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return s
	}
	return fmt.Sprintf("outputs differ at byte %d (got %d bytes, want %d):\n got: %q\nwant: %q", i, len(got), len(want), clip(got), clip(want))
}

func needProgram(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is not installed (Debian package %s; .ci/run installs it)", path, pkg)
	}
}

func TestRealBusybox(t *testing.T) {
	needProgram(t, "/bin/busybox", "busybox-static")
	checkReal(t, "/bin/busybox", []realCase{
		{name: "sh-pipeline", args: []string{"sh", "-c", `seq 1 500 | sort -rn | head -3; echo "x y z" | awk '{print $3 $1, NF}'; (cd d && ls) | wc -l; v=$(echo hi | tr a-z A-Z); echo "v=$v"; exit 7`}},
		{name: "sort", args: []string{"sort", "-t:", "-k3,3n", "data.txt"}},
		{name: "sort-stdin", args: []string{"sort", "-r"}, stdin: "b\nc\na\nd\n"},
		{name: "awk", args: []string{"awk", `{s[$1]+=$2; n++} END {for (k in s) print k, s[k]; printf "%d rows %.6f mean %.3e\n", n, 65/n, 1/3}`, "words.txt"}},
		{name: "awk-math", args: []string{"awk", `BEGIN {for (i = 1; i <= 20; i++) h += 1/i; printf "%.12f %.6f %.6f %d\n", h, sqrt(2), exp(1), int(-3.7)}`}},
		{name: "sed", args: []string{"sed", "-n", `s/\([a-z]*\) \([0-9]*\)/\2=\1/p`, "words.txt"}},
		{name: "gzip", args: []string{"sh", "-c", "gzip -9 -c big.txt | sha256sum; gzip -9 < big.txt | gzip -d | sha256sum; sha256sum big.txt"}},
		{name: "tar", args: []string{"sh", "-c", "tar cf - d | tar tvf -; tar czf a.tgz d && mkdir x && tar xzf a.tgz -C x && find x | sort && cat x/d/b.txt"}},
		{name: "sha256sum", args: []string{"sha256sum", "data.txt", "words.txt", "d/sub/x.dat"}},
		{name: "find", args: []string{"find", "d", "-name", "*.txt"}},
		{name: "find-type", args: []string{"find", ".", "-type", "d"}},
		{name: "factor", args: []string{"factor", "1", "2", "360", "1000000007", "600851475143", "4294967297", "999999999989"}},
		{name: "xargs", args: []string{"sh", "-c", "ls d | xargs -n1 echo item; false || echo status $?"}},
	})
}

// bashScript exercises loops, subshells, pipes, arrays, functions, here
// documents, process substitution (/dev/fd) and background jobs, with bash
// builtins and busybox applets only.
const bashScript = `
set -u
arr=(one two three "four five")
for i in "${!arr[@]}"; do echo "$i=${arr[$i]}"; done
echo "count=${#arr[@]} slice=${arr[*]:1:2}"
declare -A m=([a]=1 [b]=2 [c]=3)
for k in $(printf '%s\n' "${!m[@]}" | sort); do echo "m[$k]=${m[$k]}"; done
x=$(echo sub | tr a-z A-Z); echo "got $x"
( cd d && pwd | sed 's|.*/||' )
for ((i = 0; i < 5; i++)); do echo $((i * i)); done | while read -r l; do echo "sq $l"; done
f() { local v=$1; echo "f:$v"; return 3; }
f z; echo "rc=$?"
n=0; while [ $n -lt 3 ]; do n=$((n + 1)); done; echo "n=$n"
cat <<EOF | wc -l
line 1
line 2 $n
EOF
while IFS=: read -r name a b; do echo "$name $((a * b))"; done < data.txt
diff_count=0; while read -r l; do diff_count=$((diff_count + 1)); done < <(seq 1 4)
echo "procsub=$diff_count"
s="Hello, World"; echo "${s,,} ${s^^} ${s/World/There} ${#s} ${s:7}"
sleep 0.01 & wait $!; echo "bg=$?"
case foo in f*) echo match;; esac
printf '%05d|%-4s|%x\n' 42 ab 255
trap 'echo trapped EXIT' EXIT
exit 4
`

func TestRealBash(t *testing.T) {
	needProgram(t, "/bin/bash-static", "bash-static")
	needProgram(t, "/bin/busybox", "busybox-static")
	script := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(script, []byte(bashScript), 0o644); err != nil {
		t.Fatal(err)
	}
	checkReal(t, "/bin/bash-static", []realCase{
		{name: "script", args: []string{script}},
		{name: "c-pipeline", args: []string{"-c", `for w in $(cat words.txt | cut -d' ' -f1 | sort -u); do echo -n "$w "; done; echo; echo $(( $(wc -l < big.txt) + 1 ))`}},
		{name: "stdin-script", stdin: "a=(3 1 2)\nIFS=$'\\n' sorted=($(sort <<<\"${a[*]}\"))\necho \"${sorted[@]}\"\nread -r line < data.txt; echo \"$line\"\n"},
	})
}

func TestRealGofmt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gofmt from the Go toolchain's source")
	}
	gofmt := filepath.Join(t.TempDir(), "gofmt")
	build := exec.Command("go", "build", "-o", gofmt, "cmd/gofmt")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build gofmt from the toolchain source: %v\n%s", err, out)
	}
	fmtSrc := filepath.Join(runtime.GOROOT(), "src", "fmt", "format.go")
	checkReal(t, gofmt, []realCase{
		{name: "list", args: []string{"-l", "."}},
		{name: "diff-simplify", args: []string{"-s", "-d", "bad.go", "src"}},
		{name: "stdin", args: nil, stdin: "package x\nvar  a=map[string]int{ \"k\":1 }\n"},
		{name: "toolchain-source", args: []string{fmtSrc}},
		{name: "syntax-error", args: []string{"-e"}, stdin: "package x\nfunc {\n"},
	})
}
