package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGuestDebuggers runs the FreeBSD ptrace_test.c scenarios (guest
// debuggers using ptrec's ptrace ABI, testdata/ptrace) under `ptrec run`, and
// records and replays each with fork-following off, so the guest can trace
// its own children while the recorder traces the guest.
func TestGuestDebuggers(t *testing.T) {
	bin := filepath.Join(repoRoot, "testdata/bin/ptrace_test.musl")
	list := runIn(t, t.TempDir(), "", ptrecBin, "run", "--", bin, "list")
	if list.code != 0 {
		t.Fatalf("ptrace_test list: exit %d, %s", list.code, list.stderr)
	}
	names := strings.Fields(list.stdout)
	if len(names) < 30 {
		t.Fatalf("only %d scenarios listed", len(names))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := runIn(t, t.TempDir(), "", ptrecBin, "run", "--", bin, name)
			if r.code != 0 || !strings.Contains(r.stdout, "ok "+name) {
				t.Fatalf("ptrec run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			trace := filepath.Join(t.TempDir(), "t.ptrec")
			rec := runIn(t, t.TempDir(), "", ptrecBin, "record", "--follow-fork=false", "--seed", "1", "-o", trace, "--", bin, name)
			if rec.code != 0 || rec.stdout != r.stdout {
				t.Fatalf("ptrec record: exit %d, stdout %q (run printed %q), stderr %q", rec.code, rec.stdout, r.stdout, rec.stderr)
			}
			rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
			if rep.code != 0 || rep.stdout != rec.stdout {
				t.Errorf("ptrec replay: exit %d, stdout %q, stderr %q", rep.code, rep.stdout, rep.stderr)
			}
		})
	}
}
