package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// recordDebugme records testdata/bin/debugme.musl (a guest with symbols).
func recordDebugme(t *testing.T, arg string) (dir, trace, prog string) {
	t.Helper()
	dir = t.TempDir()
	prog = filepath.Join(repoRoot, "testdata/bin/debugme.musl")
	trace = filepath.Join(dir, "d.ptrec")
	if r := runIn(t, dir, "", ptrecBin, "record", "-o", trace, "--", prog, arg); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	return dir, trace, prog
}

func TestReplayScript(t *testing.T) {
	dir, trace, _ := recordDebugme(t, "1000")
	script := filepath.Join(dir, "cmds")
	os.WriteFile(script, []byte("break bump\ncontinue\nmem counter 8\nstep 2\nrstep 2\nwhere\nwatch counter\ncontinue\nmem counter 8\nrcontinue\nmem counter 8\nhash\n"), 0o644)
	r := runIn(t, dir, "", ptrecBin, "replay", "--script", script, trace)
	if r.code != 0 {
		t.Fatalf("replay --script: exit %d: %s", r.code, r.stderr)
	}
	want := []string{
		"breakpoint 1 at 0x40116e <bump>",
		"breakpoint 1, @",
		"0x40f138: 00 00 00 00 00 00 00 00",
		"watchpoint 2 (0x40f138), @",
		"0x40f138: 01 00 00 00 00 00 00 00",
		"hash ",
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("replay --script output lacks %q:\n%s", w, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr is not a terminal, yet: %q", r.stderr)
	}
	again := runIn(t, dir, "", ptrecBin, "replay", "--script", script, trace)
	if again.stdout != r.stdout {
		t.Errorf("script output is not deterministic:\n%s\n---\n%s", r.stdout, again.stdout)
	}
	os.WriteFile(script, []byte("step\nfrobnicate\n"), 0o644)
	if r := runIn(t, dir, "", ptrecBin, "replay", "--script", script, trace); r.code != 125 || !strings.Contains(r.stderr, "line 2") {
		t.Errorf("failed command: exit %d, stderr %q; want 125 naming line 2", r.code, r.stderr)
	}
	stdin := filepath.Join(dir, "stdin")
	os.WriteFile(stdin, []byte("frobnicate\nwhere\nquit\n"), 0o644)
	if r := runIn(t, dir, stdin, ptrecBin, "replay", "-i", trace); r.code != 0 || !strings.Contains(r.stdout, "error: unknown command") || !strings.Contains(r.stdout, "@0 ") {
		t.Errorf("replay -i: exit %d, stdout %q", r.code, r.stdout)
	}
}

// TestReplayGDB drives the gdb server with the real gdb: breakpoints,
// stepi and reverse-stepi, reverse-continue to a breakpoint and to the last
// write of a watched global, registers, memory and threads.
func TestReplayGDB(t *testing.T) {
	gdb, err := exec.LookPath("gdb")
	if err != nil {
		t.Skip("gdb is not installed (.ci/run installs it)")
	}
	dir, trace, prog := recordDebugme(t, "1000")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, ptrecBin, "replay", "--gdb", "127.0.0.1:0", trace)
	srv.Dir = dir
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the server's address: %v", err)
	}
	m := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("server said %q", line)
	}
	cmds := []string{
		"set pagination off",
		"target remote " + m[1],
		"break worker_body",
		"continue",
		"info threads",
		"delete",
		"break bump",
		"continue",
		"echo ==before\\n",
		"info registers rip rsp rax",
		"stepi", "stepi", "stepi", "stepi",
		"echo ==stepped\\n",
		"info registers rip",
		"reverse-stepi", "reverse-stepi", "reverse-stepi", "reverse-stepi",
		"echo ==after\\n",
		"info registers rip rsp rax",
		"continue",
		"echo ==rc\\n",
		"reverse-continue",
		"info registers rip",
		"delete",
		"watch *(long *)&counter",
		"continue",
		"continue",
		"echo ==rcwatch\\n",
		"reverse-continue",
		"print *(long *)&counter",
		"info registers",
		"x/8gx $rsp",
		"kill",
	}
	args := []string{"-batch", "-nx"}
	for _, c := range cmds {
		args = append(args, "-ex", c)
	}
	args = append(args, prog)
	g := exec.CommandContext(ctx, gdb, args...)
	g.Dir = dir
	var out bytes.Buffer
	g.Stdout, g.Stderr = &out, &out
	if err := g.Run(); err != nil {
		t.Fatalf("gdb: %v\n%s", err, out.String())
	}
	o := out.String()
	section := func(name string) string {
		i := strings.Index(o, "=="+name+"\n")
		if i < 0 {
			t.Fatalf("gdb output lacks section %s:\n%s", name, o)
		}
		s := o[i+len(name)+3:]
		if j := strings.Index(s, "=="); j >= 0 {
			s = s[:j]
		}
		return s
	}
	regs := regexp.MustCompile(`(?m)^(rip|rsp|rax)\s+(0x[0-9a-f]+)`)
	before := regs.FindAllString(section("before"), -1)
	after := regs.FindAllString(section("after"), -1)
	if len(before) != 3 || strings.Join(before, "|") != strings.Join(after[:min(3, len(after))], "|") {
		t.Errorf("registers after stepi x4, reverse-stepi x4 = %q, want %q\n%s", after, before, o)
	}
	if !strings.Contains(section("before"), "<bump>") {
		t.Errorf("breakpoint at bump: rip not at bump:\n%s", o)
	}
	if strings.Contains(section("stepped"), "<bump>\n") {
		t.Errorf("stepi did not move:\n%s", o)
	}
	if s := section("rc"); !strings.Contains(s, "Breakpoint 2, 0x000000000040116e in bump") || !strings.Contains(s, "<bump>") {
		t.Errorf("reverse-continue did not reach the breakpoint:\n%s", s)
	}
	w := section("rcwatch")
	// From the first hit of bump (counter 0), two continues see 0->1 and
	// 1->3; reverse-continue goes back across the 1->3 write and stops
	// before it, at the writing instruction.
	for _, want := range []string{"Old value = 3", "New value = 1", "$1 = 1", "rip            0x401178", "eflags", "fs_base"} {
		if !strings.Contains(w, want) {
			t.Errorf("reverse-continue to the last write: output lacks %q:\n%s", want, w)
		}
	}
	if !regexp.MustCompile(`(?m)^0x7fff[0-9a-f]+:\s+0x[0-9a-f]{16}\s+0x[0-9a-f]{16}$`).MatchString(w) {
		t.Errorf("x/8gx $rsp: no stack words:\n%s", w)
	}
	for _, want := range []string{"hit Breakpoint 1, 0x0000000000401139 in worker_body", "Thread 100000", "* 2    Thread 100001"} {
		if !strings.Contains(o, want) {
			t.Errorf("gdb output lacks %q:\n%s", want, o)
		}
	}
	srv.Wait()
}
