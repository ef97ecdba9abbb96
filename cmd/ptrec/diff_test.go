package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffCLI records timerand twice with the real host's clock and
// randomness and checks diff's exit statuses, formats and the .ptrecdiff
// configuration file.
func TestDiffCLI(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(repoRoot, "testdata/bin/timerand.musl")
	a, b := filepath.Join(dir, "a.ptrec"), filepath.Join(dir, "b.ptrec")
	for _, tr := range []string{a, b} {
		if r := runIn(t, dir, "", ptrecBin, "record", "-o", tr, "--", prog); r.code != 0 {
			t.Fatalf("record timerand: exit %d %s", r.code, r.stderr)
		}
	}
	r := runIn(t, dir, "", ptrecBin, "diff", a, b)
	if r.code != 1 || !strings.Contains(r.stdout, "origin: the runs diverged because") || strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("diff a b: exit %d, want 1 with an origin and no colour:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runIn(t, dir, "", ptrecBin, "diff", "--json", a, b)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || r.code != 1 || m["same"] != false || m["origin"] == nil {
		t.Errorf("diff --json: exit %d, err %v:\n%s", r.code, err, r.stdout)
	}
	r = runIn(t, dir, "", ptrecBin, "diff", "--format", "github", a, b)
	if r.code != 1 || !strings.HasPrefix(r.stdout, "::error ") {
		t.Errorf("diff --format github: exit %d:\n%s", r.code, r.stdout)
	}
	if r = runIn(t, dir, "", ptrecBin, "diff", "--ignore", "time,random", a, b); r.code != 0 {
		t.Errorf("diff --ignore time,random: exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, ".ptrecdiff"), []byte("ignore = time, random\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = runIn(t, dir, "", ptrecBin, "diff", a, b); r.code != 0 {
		t.Errorf("diff with .ptrecdiff ignoring time,random: exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"diff", "--ignore", "colour", a, b}, {"diff", a, filepath.Join(dir, "none.ptrec")}} {
		if r = runIn(t, dir, "", ptrecBin, args...); r.code != 2 {
			t.Errorf("ptrec %v: exit %d, want 2", args, r.code)
		}
	}
}

// copyGuest installs a guest at goldenDir/name, so absolute paths in the
// traces are the same on every machine.
func copyGuest(t *testing.T, src, name string) string {
	t.Helper()
	if err := os.MkdirAll(goldenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, src))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(goldenDir, name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGoldenTraces re-records guests and diffs them against the golden
// traces in testdata/traces (-update rewrites them), then diffs a changed
// program against its golden trace and checks the reported divergence.
func TestGoldenTraces(t *testing.T) {
	cases := []struct {
		name, src string
		args      []string
		diffArgs  []string
	}{
		// spin prints the sum of getppid(), the host pid of ptrec.
		{"spin", "testdata/bin/spin.musl", []string{"sys", "20"}, []string{"--ignore", "pid"}},
		{"pick", "testdata/diff/pick-v1", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog := copyGuest(t, tc.src, tc.name)
			golden := filepath.Join(repoRoot, "testdata/traces", tc.name+".ptrec")
			fresh := filepath.Join(t.TempDir(), "fresh.ptrec")
			r := runIn(t, goldenDir, "", ptrecBin, append([]string{"record", "--seed", "1", "-o", fresh, "--", prog}, tc.args...)...)
			if r.code == 125 || r.code >= 126 {
				t.Fatalf("record: exit %d %s", r.code, r.stderr)
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
			if d := runIn(t, goldenDir, "", ptrecBin, append(append([]string{"diff"}, tc.diffArgs...), golden, fresh)...); d.code != 0 {
				t.Errorf("diff golden fresh: exit %d, want 0:\n%s%s", d.code, d.stdout, d.stderr)
			}
		})
	}
	// The one-line change of pick-v2, recorded at the golden path.
	prog := copyGuest(t, "testdata/diff/pick-v2", "pick")
	changed := filepath.Join(t.TempDir(), "changed.ptrec")
	runIn(t, goldenDir, "", ptrecBin, "record", "--seed", "1", "-o", changed, "--", prog)
	d := runIn(t, goldenDir, "", ptrecBin, "diff", "--json", "--deep", filepath.Join(repoRoot, "testdata/traces/pick.ptrec"), changed)
	var rep struct {
		Origin  struct{ Class string }
		Control struct{ Syscall string }
		Deep    struct {
			Location struct {
				Func, File string
				Line       int
			}
		}
	}
	if err := json.Unmarshal([]byte(d.stdout), &rep); err != nil || d.code != 1 {
		t.Fatalf("diff --deep pick golden vs v2: exit %d, %v\n%s%s", d.code, err, d.stdout, d.stderr)
	}
	if rep.Origin.Class != "program" || rep.Control.Syscall != "exit_group" || rep.Deep.Location.Func != "weight" || rep.Deep.Location.File != "pick.c" || rep.Deep.Location.Line != 11 {
		t.Errorf("diff of the changed program = %+v, want origin program, control at exit_group, deep at weight pick.c:11", rep)
	}
}
