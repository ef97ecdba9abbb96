package kernel

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptrec/kernel/abi"
)

// guestHost is fileHost plus captured standard output and error and a
// virtual clock that sleeping advances: guest debuggers run to completion
// deterministically and fast.
type guestHost struct {
	fileHost
	out, errb bytes.Buffer
	now       int64
}

func (h *guestHost) Call(c *HostCall) HostReply {
	switch c.Op {
	case HostWrite:
		switch c.Handle {
		case 1:
			h.out.Write(c.In)
		case 2:
			h.errb.Write(c.In)
		}
		return HostReply{Ret: int64(len(c.In))}
	case HostClock:
		h.now += 1000
		return HostReply{Ret: h.now}
	case HostSleep:
		h.now += c.Args[0]
		return HostReply{}
	}
	return h.fileHost.Call(c)
}

const ptraceGuest = "../testdata/bin/ptrace_test.musl"

// runGuest runs the program with argv under a fresh kernel as the child of
// an outside process that does not trace it, and returns its wait status
// and output.
func runGuest(t *testing.T, argv ...string) (int32, string, string) {
	t.Helper()
	h := &guestHost{}
	k := New(Config{Host: h, MaxInsns: 50_000_000})
	parent := k.NewTracerProcess("runner")
	child, err := k.Spawn(parent, SpawnOptions{Path: argv[0], Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	w, err := k.Wait4(parent, child.Pid, 0)
	if err != nil {
		t.Fatalf("Wait4: %v (stdout %q, stderr %q)", err, h.out.String(), h.errb.String())
	}
	return w.Status, h.out.String(), h.errb.String()
}

// TestFreeBSDPtraceSuite runs the scenarios of FreeBSD's
// tests/sys/kern/ptrace_test.c, each a guest debugger using syscall 101
// (testdata/ptrace/ptrace_test.c), under the kernel.
func TestFreeBSDPtraceSuite(t *testing.T) {
	prog, err := filepath.Abs(ptraceGuest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prog); err != nil {
		t.Skipf("no guest: %v", err)
	}
	st, out, errs := runGuest(t, prog, "list")
	if st != 0 {
		t.Fatalf("list: status %#x, stderr %q", st, errs)
	}
	names := strings.Fields(out)
	if len(names) < 30 {
		t.Fatalf("only %d tests listed", len(names))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			st, out, errs := runGuest(t, prog, name)
			ws := abi.WaitStatus(st)
			if !ws.Exited() || ws.ExitStatus() != 0 || out != "ok "+name+"\n" {
				t.Errorf("status %#x, stdout %q, stderr %q", st, out, errs)
			}
		})
	}
}
