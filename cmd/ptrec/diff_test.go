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
