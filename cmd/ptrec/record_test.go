package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// infoJSON runs `ptrec info --json` and decodes it.
func infoJSON(t *testing.T, trace string) map[string]any {
	t.Helper()
	r := runIn(t, t.TempDir(), "", ptrecBin, "info", "--json", trace)
	if r.code != 0 {
		t.Fatalf("info exit %d: %s", r.code, r.stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	return m
}

func countLines(s string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// TestRecordKilled SIGKILLs `ptrec record` in the middle of a run that would
// never end and reads what it left.
func TestRecordKilled(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "killed.ptrec")
	// One stop per syscall, so that events (and chunks) come quickly:
	// under the default syscall log this guest logs ~0.1 byte a syscall.
	cmd := exec.Command(ptrecBin, "record", "--stops", "syscall", "--seed", "1", "-o", trace, "--", filepath.Join(repoRoot, "testdata/bin/spin.musl"), "forever")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the recorder has flushed a few chunks (the guest makes a
	// syscall every few thousand instructions, the recorder flushes every
	// 4096 events), then kill it without warning.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		fi, err := os.Stat(trace)
		if err == nil && fi.Size() > 64<<10 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the trace did not grow past 64 KiB (err %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	m := infoJSON(t, trace)
	surv, _ := m["surviving_events"].(float64)
	if m["truncated"] != true || surv < 4096 || m["exit_status"] != nil {
		t.Errorf("info on a killed recording: truncated=%v surviving_events=%v exit_status=%v; want true, >= 4096, null", m["truncated"], m["surviving_events"], m["exit_status"])
	}
	text := runIn(t, dir, "", ptrecBin, "info", trace)
	if !strings.Contains(text.stdout, "truncated:    yes") {
		t.Errorf("info text does not say the trace is truncated:\n%s", text.stdout)
	}
	d := runIn(t, dir, "", ptrecBin, "dump", trace)
	if d.code != 0 || countLines(d.stdout) != int(surv) {
		t.Errorf("dump of the killed recording: exit %d, %d lines, want 0 and %v (stderr %q)", d.code, countLines(d.stdout), surv, d.stderr)
	}
	r := runIn(t, dir, "", ptrecBin, "replay", trace)
	if r.code != 125 || !strings.Contains(r.stderr, "truncated") {
		t.Errorf("replay of a killed recording: exit %d, stderr %q; want 125 naming the truncation", r.code, r.stderr)
	}
}

// TestTraceIsSelfContained records a program reading a file in one
// directory, deletes the directory, and replays elsewhere.
func TestTraceIsSelfContained(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox is not installed (.ci/run installs busybox-static)")
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o755)
	// busybox picks its applet from argv[0].
	if err := os.WriteFile(filepath.Join(work, "cat"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "input.txt"), []byte("only in the trace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "cat.ptrec")
	rec := runIn(t, work, "", ptrecBin, "record", "--seed", "1", "-o", trace, "--", "./cat", "input.txt")
	if rec.code != 0 || rec.stdout != "only in the trace\n" {
		t.Fatalf("record cat = (%q, %d), stderr %q", rec.stdout, rec.code, rec.stderr)
	}
	if err := os.RemoveAll(work); err != nil {
		t.Fatal(err)
	}
	rep := runIn(t, t.TempDir(), "", ptrecBin, "replay", trace)
	if rep.code != 0 || rep.stdout != rec.stdout {
		t.Errorf("replay after deleting program and input = (%q, %d), want (%q, 0); stderr %q", rep.stdout, rep.code, rec.stdout, rep.stderr)
	}
}

func TestInfoReportsEverything(t *testing.T) {
	golden := filepath.Join(repoRoot, "testdata/traces/echoargs.ptrec")
	m := infoJSON(t, golden)
	for _, k := range []string{"program", "instructions", "events", "kinds", "syscalls", "syscalls_by_name", "processes", "threads", "bytes", "raw_bytes", "compression_ratio", "exit_status", "truncated", "surviving_events"} {
		if _, ok := m[k]; !ok {
			t.Errorf("info --json lacks %q", k)
		}
	}
	if m["exit_status"] != float64(3<<8) || m["truncated"] != false || m["processes"] != float64(1) {
		t.Errorf("info: exit_status=%v truncated=%v processes=%v, want 768 false 1", m["exit_status"], m["truncated"], m["processes"])
	}
	names, _ := m["syscalls_by_name"].(map[string]any)
	if names["writev"] == nil || names["exit_group"] != float64(1) {
		t.Errorf("syscalls_by_name = %v, want writev and one exit_group", names)
	}
	text := runIn(t, t.TempDir(), "", ptrecBin, "info", golden)
	for _, want := range []string{"instructions:", "syscalls:", "compression", "exit:         exited 3"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("info text lacks %q:\n%s", want, text.stdout)
		}
	}
}

func TestDumpFilters(t *testing.T) {
	golden := filepath.Join(repoRoot, "testdata/traces/echoargs.ptrec")
	all := runIn(t, t.TempDir(), "", ptrecBin, "dump", "--json", golden)
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(all.stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, m)
	}
	if len(evs) < 20 {
		t.Fatalf("golden trace has %d events", len(evs))
	}
	ic := evs[10]["icount"].(float64)
	cases := []struct {
		name string
		args []string
		keep func(i int, m map[string]any) bool
	}{
		{"kind", []string{"--kind", "stop"}, func(i int, m map[string]any) bool { return m["kind"] == "stop" }},
		{"from-to", []string{"--from", "5", "--to", "12"}, func(i int, m map[string]any) bool { return i >= 5 && i <= 12 }},
		{"from-icount", []string{"--from", "@" + jsonNum(ic)}, func(i int, m map[string]any) bool { return m["icount"].(float64) >= ic }},
		{"pid-kind", []string{"--pid", "3", "--kind", "request"}, func(i int, m map[string]any) bool {
			return m["kind"] == "request" && (m["pid"] == float64(3) || m["tid"] == float64(3))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, t.TempDir(), "", ptrecBin, append(append([]string{"dump", "--json"}, tc.args...), golden)...)
			if r.code != 0 {
				t.Fatalf("dump %v: exit %d %s", tc.args, r.code, r.stderr)
			}
			want := 0
			for i, m := range evs {
				if tc.keep(i, m) {
					want++
				}
			}
			if got := countLines(r.stdout); got != want || want == 0 {
				t.Errorf("dump %v: %d events, want %d (> 0)", tc.args, got, want)
			}
		})
	}
	bad := runIn(t, t.TempDir(), "", ptrecBin, "dump", "--from", "x", golden)
	if bad.code != 2 {
		t.Errorf("dump --from x: exit %d, want 2", bad.code)
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
