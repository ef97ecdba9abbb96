package replay_test

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/hostos"
	"ptrec/record"
	"ptrec/replay"
)

// recordTrace records testdata/bin/<prog> with a fixed host into memory.
func recordTrace(t testing.TB, prog string, args ...string) []byte {
	t.Helper()
	return recordTraceOpts(t, record.Options{}, prog, args...)
}

// recordTraceOpts is recordTrace with recorder options (o's program,
// arguments, environment and host are set here).
func recordTraceOpts(t testing.TB, o record.Options, prog string, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	o.Path = filepath.Join("..", "testdata", "bin", prog)
	o.Argv = append([]string{prog}, args...)
	o.Envp = []string{"PATH=/bin", "LANG=C"}
	o.Host = hostos.NewFixed(hostos.New(devnull, out, out), 1)
	o.Facts = kernel.HostFacts{Sysname: "Linux", Machine: "x86_64", Cwd: "/", HostPid: 4242}
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, record.Header(o, prog))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := record.Record(o, w); err != nil {
		t.Fatalf("Record(%s): %v", prog, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newReplayer(t testing.TB, trace []byte) *replay.Replayer {
	t.Helper()
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := replay.New(rd, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReverseRoundTrip is the property test: at random points of several
// traces, goto @k; hash; step n; hash; rstep n; hash returns to the first
// hash, and the second equals goto @(k+n); hash (reached from elsewhere).
func TestReverseRoundTrip(t *testing.T) {
	guests := []struct {
		prog string
		args []string
	}{
		{"debugme.musl", []string{"200000"}},
		{"threads.musl", nil},
		{"signals.musl", nil},
		{"forkexec.musl", nil},
		{"timerand.musl", nil},
	}
	for _, g := range guests {
		t.Run(g.prog, func(t *testing.T) {
			trace := recordTrace(t, g.prog, g.args...)
			full := newReplayer(t, trace)
			res, err := full.Run()
			if err != nil {
				t.Fatal(err)
			}
			r := newReplayer(t, trace)
			r.SetCheckpointPolicy(50_000, 0)
			rng := rand.New(rand.NewSource(7))
			for i := 0; i < 12; i++ {
				k := uint64(rng.Int63n(int64(res.Icount)))
				n := uint64(1 + rng.Int63n(5000))
				if k+n >= res.Icount {
					continue
				}
				if err := r.GotoIcount(k); err != nil {
					t.Fatal(err)
				}
				h1 := r.Hash()
				if err := r.Step(n); err != nil {
					t.Fatal(err)
				}
				h2 := r.Hash()
				if got := r.Where().Icount; got != k+n {
					t.Fatalf("step %d from @%d: at @%d", n, k, got)
				}
				r.SetDirection(replay.Reverse)
				err := r.Step(n)
				r.SetDirection(replay.Forward)
				if err != nil {
					t.Fatal(err)
				}
				if h := r.Hash(); h != h1 {
					t.Fatalf("@%d: step %d; rstep %d: hash %s, want %s", k, n, n, h, h1)
				}
				// Reach k+n from the far side (a later point, going back).
				if err := r.GotoIcount(min(res.Icount-1, k+n+uint64(rng.Int63n(300_000)))); err != nil {
					t.Fatal(err)
				}
				if err := r.GotoIcount(k + n); err != nil {
					t.Fatal(err)
				}
				if h := r.Hash(); h != h2 {
					t.Fatalf("goto @%d: hash %s, want %s (step from @%d)", k+n, h, h2, k)
				}
			}
			// A fresh replay straight to the end agrees with the recording.
			if err := r.GotoIcount(res.Icount + 1); err != nil {
				t.Fatal(err)
			}
			if st, done := r.Status(); !done || st != res.Status {
				t.Fatalf("end status %#x (done %v), want %#x", st, done, res.Status)
			}
		})
	}
}

func script(t *testing.T, r *replay.Replayer, cmds string) string {
	t.Helper()
	var out bytes.Buffer
	if err := r.Script(strings.NewReader(cmds), &out, false, ""); err != nil {
		t.Fatalf("script: %v\n%s", err, out.String())
	}
	return out.String()
}

func memValue(t *testing.T, r *replay.Replayer, sym string) uint64 {
	t.Helper()
	a, err := r.Resolve(sym)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.ReadMemory(a, 8)
	if err != nil || len(b) != 8 {
		t.Fatalf("ReadMemory(%s) = %x, %v", sym, b, err)
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// TestReverseContinue: with a watchpoint, rcontinue stops at the
// instruction that last wrote the variable; with a breakpoint, at its most
// recent hit.
func TestReverseContinue(t *testing.T) {
	trace := recordTrace(t, "debugme.musl", "2000000")
	r := newReplayer(t, trace)
	r.SetCheckpointPolicy(100_000, 0)
	bump, err := r.Resolve("bump")
	if err != nil {
		t.Fatal(err)
	}
	// Find the forward hits of bump and the writes of counter.
	script(t, r, "break bump")
	var hits []uint64
	for {
		st, err := r.Continue()
		if err != nil {
			t.Fatal(err)
		}
		if st.Reason != replay.StopBreakpoint {
			break
		}
		if pc := r.Where().PC; pc != bump {
			t.Fatalf("breakpoint stop at pc %#x, want %#x", pc, bump)
		}
		hits = append(hits, r.Where().Icount)
	}
	if len(hits) != 5 {
		t.Fatalf("bump hit %d times, want 5", len(hits))
	}
	// From the end (well past the last call), rcontinue reaches the last hit, then each earlier one.
	for i := len(hits) - 1; i >= 0; i-- {
		r.SetDirection(replay.Reverse)
		st, err := r.Continue()
		r.SetDirection(replay.Forward)
		if err != nil {
			t.Fatal(err)
		}
		if st.Reason != replay.StopBreakpoint || r.Where().Icount != hits[i] || r.Where().PC != bump {
			t.Fatalf("rcontinue %d: %v at @%d pc %#x, want breakpoint at @%d", i, st.Reason, r.Where().Icount, r.Where().PC, hits[i])
		}
	}
	r.SetDirection(replay.Reverse)
	st, err := r.Continue()
	r.SetDirection(replay.Forward)
	if err != nil || st.Reason != replay.StopStart {
		t.Fatalf("rcontinue before the first hit = %v, %v; want start", st.Reason, err)
	}

	// Watchpoint: from the end, rcontinue stops before the last write
	// (counter goes 10 -> 15 across it); stepping that one instruction
	// performs the write.
	r.Delete(0)
	if err := r.GotoIcount(hits[4] + 100_000); err != nil {
		t.Fatal(err)
	}
	if v := memValue(t, r, "counter"); v != 15 {
		t.Fatalf("counter at the end = %d, want 15", v)
	}
	script(t, r, "watch counter")
	want := []uint64{10, 6, 3, 1, 0}
	for i, w := range want {
		r.SetDirection(replay.Reverse)
		st, err := r.Continue()
		r.SetDirection(replay.Forward)
		if err != nil {
			t.Fatal(err)
		}
		if st.Reason != replay.StopWatchpoint {
			t.Fatalf("rcontinue %d with a watchpoint: %v", i, st.Reason)
		}
		if v := memValue(t, r, "counter"); v != w {
			t.Fatalf("rcontinue %d: counter = %d, want %d (before the write)", i, v, w)
		}
		sym := r.Symbolize(r.Where().PC)
		if !strings.HasPrefix(sym, "bump") {
			t.Fatalf("rcontinue %d: stopped at %s, want in bump", i, sym)
		}
		here := r.Where()
		if _, err := r.StepThread(here.Tid, 1); err != nil {
			t.Fatal(err)
		}
		if v := memValue(t, r, "counter"); v == w {
			t.Fatalf("the instruction at %s did not write counter", sym)
		}
		r.SetDirection(replay.Reverse)
		r.StepThread(here.Tid, 1)
		r.SetDirection(replay.Forward)
		if r.Where() != here {
			t.Fatalf("stepi; reverse-stepi: at %+v, want %+v", r.Where(), here)
		}
	}
}

// TestScriptDeterministic: the same script gives the same output twice.
func TestScriptDeterministic(t *testing.T) {
	trace := recordTrace(t, "debugme.musl", "100000")
	cmds := "where\nbreak bump\ncontinue\nregs\nmem counter 8\nstep 3\nwhere\nrstep 2\nhash\nevents 3\ngoto #20\nwhere\nthreads\ndelete\ncontinue\nrcontinue\nquit\nstep\n"
	a := script(t, newReplayer(t, trace), cmds)
	b := script(t, newReplayer(t, trace), cmds)
	if a != b {
		t.Fatalf("script output differs between runs:\n%s\n---\n%s", a, b)
	}
	for _, want := range []string{"breakpoint 1, @", "<bump>", "end of trace, status 0", "start of trace"} {
		if !strings.Contains(a, want) {
			t.Errorf("script output lacks %q:\n%s", want, a)
		}
	}
	var out bytes.Buffer
	err := newReplayer(t, trace).Script(strings.NewReader("step\nbogus\nstep\n"), &out, false, "")
	if !errors.Is(err, replay.ErrCommand) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad command: err %v", err)
	}
}

// tamper rewrites trace with the first host input accepted by pick changed
// by edit, and returns the new trace and the event's number.
func tamper(t *testing.T, trace []byte, pick func(*format.Input) bool, edit func(*format.Input)) ([]byte, uint64) {
	t.Helper()
	return rewriteEvent(t, trace, func(ev *format.Event) bool {
		if ev.Kind != format.KindInput || !pick(ev.Input) {
			return false
		}
		edit(ev.Input)
		return true
	})
}

// rewriteEvent rewrites trace with the first event that edit changes (edit
// reports whether it did), and returns the new trace and the event's number.
func rewriteEvent(t *testing.T, trace []byte, edit func(*format.Event) bool) ([]byte, uint64) {
	t.Helper()
	rd, err := format.NewReader(bytes.NewReader(trace), int64(len(trace)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, rd.Header())
	if err != nil {
		t.Fatal(err)
	}
	seq, done := uint64(0), false
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		if !done && edit(ev) {
			seq, done = ev.Seq, true
		}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !done {
		t.Fatal("no event to tamper with")
	}
	return buf.Bytes(), seq
}

// TestDivergence tampers with one recorded host input in a copy of a trace;
// the replay reports a divergence naming that event (a changed request) or
// the first stop whose memory shows the changed answer.
func TestDivergence(t *testing.T) {
	trace := recordTrace(t, "files.musl")
	isData := func(in *format.Input) bool {
		op := kernel.HostOp(in.Op)
		return (op == kernel.HostRead || op == kernel.HostPread) && len(in.Out) > 0
	}
	// The request side: the replayed kernel asks for something else.
	bad, seq := tamper(t, trace, isData, func(in *format.Input) { in.Args = append([]int64(nil), in.Args...); in.Args[0]++ })
	_, err := newReplayer(t, bad).Run()
	var d *replay.Divergence
	if !errors.As(err, &d) || d.Seq != seq {
		t.Fatalf("replay with input #%d changed = %v, want a divergence at #%d", seq, err, seq)
	}
	// The report names where the guest was: thread and pc (and the symbol
	// when the executable has symbols).
	if d.Tid == 0 || d.PC == 0 || !strings.Contains(d.Error(), fmt.Sprintf("pc %#x", d.PC)) {
		t.Errorf("divergence %q lacks the thread or pc (tid %d pc %#x symbol %q)", d.Error(), d.Tid, d.PC, d.Symbol)
	}
	// The answer side: the guest reads other bytes; the next memory delta differs.
	bad, seq = tamper(t, trace, isData, func(in *format.Input) { in.Out = append([]byte(nil), in.Out...); in.Out[0] ^= 0xff })
	_, err = newReplayer(t, bad).Run()
	if !errors.As(err, &d) || d.Seq <= seq {
		t.Fatalf("replay with the answer of #%d changed = %v, want a divergence after it", seq, err)
	}
}

// TestManyBreakpoints: ten execution breakpoints (more than the four debug
// registers, several on one page) are all hit, forward in the order of
// the hits of each one set alone, and rcontinue visits the same hits in
// reverse order back to the start.
func TestManyBreakpoints(t *testing.T) {
	trace := recordTrace(t, "debugme.musl", "200000")
	r := newReplayer(t, trace)
	r.SetCheckpointPolicy(100_000, 0)
	syms := []string{"main", "sscanf", "vfscanf", "pthread_create", "worker_body",
		"pthread_join", "bump", "spin", "printf", "vfprintf"}
	type hit struct {
		icount, pc uint64
	}
	addr := make(map[uint64]string)
	forward := func() []hit {
		t.Helper()
		if err := r.GotoIcount(0); err != nil {
			t.Fatal(err)
		}
		var hits []hit
		for {
			st, err := r.Continue()
			if err != nil {
				t.Fatal(err)
			}
			if st.Reason != replay.StopBreakpoint {
				return hits
			}
			w := r.Where()
			if w.PC != st.Addr {
				t.Fatalf("breakpoint %d stop at pc %#x, want %#x", st.Break, w.PC, st.Addr)
			}
			hits = append(hits, hit{w.Icount, w.PC})
		}
	}
	// Each breakpoint alone.
	var want []hit
	for _, s := range syms {
		a, err := r.Resolve(s)
		if err != nil {
			t.Fatal(err)
		}
		addr[a] = s
		r.Delete(0)
		if _, err := r.AddBreakpoint(a, s); err != nil {
			t.Fatal(err)
		}
		h := forward()
		if len(h) == 0 {
			t.Fatalf("%s (%#x) is never hit", s, a)
		}
		want = append(want, h...)
	}
	slices.SortFunc(want, func(a, b hit) int { return cmp.Compare(a.icount, b.icount) })
	// All ten at once.
	r.Delete(0)
	for a, s := range addr {
		if _, err := r.AddBreakpoint(a, s); err != nil {
			t.Fatalf("breakpoint %d (%s): %v", len(r.Breakpoints())+1, s, err)
		}
	}
	got := forward()
	if !slices.Equal(got, want) {
		t.Fatalf("continue with %d breakpoints hits\n%v\nwant\n%v", len(addr), got, want)
	}
	// Backwards from the end.
	r.SetDirection(replay.Reverse)
	defer r.SetDirection(replay.Forward)
	for i := len(want) - 1; i >= 0; i-- {
		st, err := r.Continue()
		if err != nil {
			t.Fatal(err)
		}
		w := r.Where()
		if st.Reason != replay.StopBreakpoint || w.Icount != want[i].icount || w.PC != want[i].pc {
			t.Fatalf("rcontinue %d: %v at @%d pc %#x (%s), want %s at @%d", len(want)-1-i, st.Reason, w.Icount, w.PC,
				r.Symbolize(w.PC), addr[want[i].pc], want[i].icount)
		}
	}
	if st, err := r.Continue(); err != nil || st.Reason != replay.StopStart {
		t.Fatalf("rcontinue before the first hit = %v, %v; want start", st.Reason, err)
	}
	t.Logf("%d hits of %d breakpoints", len(want), len(addr))
}
