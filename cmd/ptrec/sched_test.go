package main

import (
	"path/filepath"
	"testing"
)

// TestThreadsNotStarvedByStops: yieldloop's main thread loops on getppid
// and sched_yield while a second thread prints and ends the process. Under
// every stop policy the recorder stops the main thread more often than once
// a time slice; the second thread must still run (it starved before: the
// threads of a resumed process went back on the run queue in thread order,
// and sched_yield did not yield). Each trace replays.
func TestThreadsNotStarvedByStops(t *testing.T) {
	bin := filepath.Join(repoRoot, "testdata/bin/yieldloop.musl")
	const want = "line 0\nline 1\nline 2\n"
	r := runIn(t, t.TempDir(), "", ptrecBin, "run", "--max-insns", "100000000", "--", bin, "3")
	if r.code != 0 || r.stdout != want {
		t.Fatalf("run: exit %d, stdout %q, want 0 and %q\n%s", r.code, r.stdout, want, r.stderr)
	}
	for _, stops := range []string{"syscall-log", "syscall", "syscall-entry-exit", "signal"} {
		t.Run(stops, func(t *testing.T) {
			dir := t.TempDir()
			trace := filepath.Join(dir, "t.ptrec")
			r := runIn(t, dir, "", ptrecBin, "record", "--stops", stops, "--max-insns", "100000000", "-o", trace, "--", bin, "3")
			if r.code != 0 || r.stdout != want {
				t.Fatalf("record: exit %d, stdout %q, want 0 and %q\n%s", r.code, r.stdout, want, r.stderr)
			}
			if rp := runIn(t, dir, "", ptrecBin, "replay", trace); rp.code != 0 || rp.stdout != want {
				t.Errorf("replay: exit %d, stdout %q\n%s", rp.code, rp.stdout, rp.stderr)
			}
		})
	}
}
