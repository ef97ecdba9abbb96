// Package replay re-executes a trace deterministically: it rebuilds the
// kernel and machine from the trace header, answers every host call from the
// recorded inputs, re-issues the recorder's ptrace requests and checks each
// result, stop and memory delta against the recording. The first difference
// is a divergence.
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/record"
)

// ErrDivergence is wrapped by every *Divergence.
var ErrDivergence = errors.New("replay diverged")

// Divergence describes the first point where re-execution disagreed with
// the trace.
type Divergence struct {
	Seq    uint64 // event number in the trace
	Icount uint64 // instruction count of the replay at that point
	What   string // what differs
	Want   string // the recording
	Got    string // the replay
}

func (d *Divergence) Error() string {
	return fmt.Sprintf("replay diverged at event #%d (instruction %d): %s: recorded %s, replayed %s", d.Seq, d.Icount, d.What, d.Want, d.Got)
}

// Unwrap lets errors.Is(err, ErrDivergence) work.
func (d *Divergence) Unwrap() error { return ErrDivergence }

// Options configures a replay.
type Options struct {
	Stdout, Stderr io.Writer // where the guest's output is echoed (nil: discarded)
}

// Result is the end of a verified replay.
type Result struct {
	Status int32 // the recorded (and replayed) exit status
	Icount uint64
	Events uint64
}

// stream is the trace with one event of look-ahead.
type stream struct {
	r    *format.Reader
	next *format.Event
	err  error
}

func (s *stream) peek() (*format.Event, error) {
	if s.next == nil && s.err == nil {
		s.next, s.err = s.r.Next()
	}
	return s.next, s.err
}

func (s *stream) take() (*format.Event, error) {
	ev, err := s.peek()
	s.next = nil
	return ev, err
}

// Replayer re-executes one trace.
type Replayer struct {
	opts   Options
	s      *stream
	k      *kernel.Kernel
	tracer *kernel.Process
	child  *kernel.Process
	err    error // first divergence or read error seen inside a host call
	last   uint64
}

// replayHost answers the kernel's host calls from the trace.
type replayHost struct{ r *Replayer }

func (h replayHost) Call(c *kernel.HostCall) kernel.HostReply {
	r := h.r
	if r.err != nil {
		return kernel.HostReply{Errno: abi.EIO}
	}
	ev, err := r.s.peek()
	if err != nil {
		r.err = fmt.Errorf("replay: reading trace: %w", err)
		return kernel.HostReply{Errno: abi.EIO}
	}
	if ev.Kind != format.KindInput {
		r.diverge(ev, "host call", ev.Kind.String()+" event", describeCall(c))
		return kernel.HostReply{Errno: abi.EIO}
	}
	r.s.take()
	in := ev.Input
	if kernel.HostOp(in.Op) != c.Op || in.Path != c.Path || in.Handle != c.Handle || !equalArgs(in.Args, c.Args) || !bytes.Equal(in.In, c.In) {
		r.diverge(ev, "host call", describeInput(in), describeCall(c))
		return kernel.HostReply{Errno: abi.EIO}
	}
	if c.Op == kernel.HostWrite && in.Errno == 0 {
		var w io.Writer
		switch c.Handle {
		case 1:
			w = r.opts.Stdout
		case 2:
			w = r.opts.Stderr
		}
		if w != nil && in.Ret > 0 && in.Ret <= int64(len(c.In)) {
			w.Write(c.In[:in.Ret])
		}
	}
	return kernel.HostReply{Ret: in.Ret, Errno: abi.Errno(in.Errno), Out: in.Out}
}

func equalArgs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describeCall(c *kernel.HostCall) string {
	return fmt.Sprintf("%s(path=%q handle=%d args=%v in=%d bytes)", c.Op, c.Path, c.Handle, c.Args, len(c.In))
}

func describeInput(in *format.Input) string {
	return fmt.Sprintf("%s(path=%q handle=%d args=%v in=%d bytes)", kernel.HostOp(in.Op), in.Path, in.Handle, in.Args, len(in.In))
}

func (r *Replayer) diverge(ev *format.Event, what, want, got string) {
	if r.err != nil {
		return
	}
	seq := uint64(0)
	if ev != nil {
		seq = ev.Seq
	}
	ic := uint64(0)
	if r.k != nil {
		ic = r.k.Icount()
	}
	r.err = &Divergence{Seq: seq, Icount: ic, What: what, Want: want, Got: got}
}

// New prepares a replay of the trace read by rd.
func New(rd *format.Reader, o Options) (*Replayer, error) {
	r := &Replayer{opts: o, s: &stream{r: rd}}
	h := rd.Header()
	facts := record.FactsFromHeader(h)
	r.k = kernel.New(kernel.Config{Host: replayHost{r}, Facts: facts})
	r.tracer = r.k.NewTracerProcess("ptrec")
	child, err := r.k.Spawn(r.tracer, kernel.SpawnOptions{Path: h.Path, Argv: h.Argv, Envp: h.Envp, TraceMe: true})
	if r.err != nil {
		return nil, r.err
	}
	if err != nil {
		return nil, fmt.Errorf("replay: the recorded program does not load: %w", err)
	}
	r.child = child
	return r, nil
}

// Kernel returns the kernel being replayed.
func (r *Replayer) Kernel() *kernel.Kernel { return r.k }

// Run replays to the end, verifying every event.
func (r *Replayer) Run() (Result, error) {
	needWait := true
	var waited kernel.WaitResult
	var res Result
	var lastDelta []byte
	for {
		if r.err != nil {
			return res, r.err
		}
		ev, err := r.s.peek()
		if err == io.EOF {
			return res, fmt.Errorf("replay: trace ends without an exit event (truncated recording)")
		}
		if err != nil {
			return res, fmt.Errorf("replay: reading trace: %w", err)
		}
		if ev.Kind == format.KindInput {
			if !needWait {
				r.diverge(ev, "host call", describeInput(ev.Input), "no host call")
				continue
			}
		}
		if needWait && ev.Kind != format.KindExit {
			w, err := r.k.Wait4(r.tracer, -1, abi.WALL)
			if r.err != nil {
				return res, r.err
			}
			if err != nil {
				ev, _ := r.s.peek()
				r.diverge(ev, "wait4", "a stop", err.Error())
				return res, r.err
			}
			waited = w
			needWait = false
			continue
		}
		r.s.take()
		res.Events++
		switch ev.Kind {
		case format.KindRequest:
			q := ev.Request
			req := &kernel.PtraceRequest{Op: int(q.Op), Pid: q.Pid, Addr: q.Addr, Data: q.Data, In: q.In}
			got, err := r.k.Ptrace(kernel.PtraceCaller{P: r.tracer}, req)
			var errno abi.Errno
			if err != nil && !errors.As(err, &errno) {
				return res, err
			}
			out, ret := got.Out, got.Ret
			if q.Op == kernel.PT_PTREC_GETDELTA {
				lastDelta = got.Out
				out, ret = nil, int64(len(got.Out))
			}
			if int32(errno) != q.Errno || ret != q.Result || !bytes.Equal(out, q.Out) {
				r.diverge(ev, abi.PtraceRequestName(int(q.Op))+" result",
					fmt.Sprintf("ret=%d errno=%s out=%x", q.Result, abi.Errno(q.Errno).Name(), q.Out),
					fmt.Sprintf("ret=%d errno=%s out=%x", ret, errno.Name(), out))
				continue
			}
			switch int(q.Op) {
			case abi.PT_CONTINUE, abi.PT_SYSCALL, abi.PT_STEP, abi.PT_TO_SCE, abi.PT_TO_SCX, abi.PT_KILL, abi.PT_DETACH:
				needWait = true
			}
		case format.KindStop:
			if waited.Pid != ev.Pid || waited.Status != ev.Stop.Status {
				r.diverge(ev, "stop", fmt.Sprintf("pid %d status %#x", ev.Pid, ev.Stop.Status), fmt.Sprintf("pid %d status %#x", waited.Pid, waited.Status))
				continue
			}
			if !abi.WaitStatus(ev.Stop.Status).Stopped() {
				needWait = true
				if ev.Pid == r.child.Pid {
					res.Status = ev.Stop.Status
				}
			}
			if r.k.Icount() != ev.Icount {
				r.diverge(ev, "instruction count at stop", fmt.Sprint(ev.Icount), fmt.Sprint(r.k.Icount()))
			}
		case format.KindMemDelta:
			var want []byte
			for _, m := range ev.Mem.Ranges {
				want = appendRange(want, m.Addr, m.Data)
			}
			if !bytes.Equal(want, lastDelta) {
				r.diverge(ev, "memory delta", fmt.Sprintf("%d bytes", len(want)), fmt.Sprintf("%d bytes", len(lastDelta)))
			}
		case format.KindExit:
			if ev.Exit.Status != res.Status && ev.Exit.Reason != "interrupted" {
				r.diverge(ev, "exit status", fmt.Sprintf("%#x", ev.Exit.Status), fmt.Sprintf("%#x", res.Status))
				continue
			}
			res.Status = ev.Exit.Status
			res.Icount = r.k.Icount()
			return res, r.err
		case format.KindInput:
			r.diverge(ev, "host call", describeInput(ev.Input), "no host call")
		}
	}
}

func appendRange(b []byte, addr uint64, data []byte) []byte {
	for i := 0; i < 8; i++ {
		b = append(b, byte(addr>>(8*i)))
	}
	n := uint64(len(data))
	for i := 0; i < 8; i++ {
		b = append(b, byte(n>>(8*i)))
	}
	return append(b, data...)
}
