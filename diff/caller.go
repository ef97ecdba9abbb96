package diff

import (
	"encoding/binary"

	"ptrec/replay"
)

// maxStackScan bounds the bytes of stack scanned for return addresses.
const maxStackScan = 64 << 10

// callers names, for the first divergence and the control divergence whose
// pc is in code without source lines (a syscall stop or a logged syscall
// inside libc), the nearest caller that has them: the trace is replayed to
// the stop (to a logged syscall's entry instruction count) and the guest
// stack walked, by the frame-pointer chain when it leads into code
// with lines, else by scanning the stack for return addresses that follow a
// call in such code. One replay per trace, only when needed.
func (c *comparison) callers() {
	reps := map[*trace]*replay.Replayer{}
	var closers []func()
	defer func() {
		for _, f := range closers {
			f()
		}
	}()
	for _, d := range []*Divergence{c.rep.First, c.rep.Control} {
		if d == nil || d.Location == nil || d.Location.Line != 0 || d.src == nil {
			continue
		}
		sym := c.symA
		if d.src == c.b {
			sym = c.symB
		}
		if !sym.HasLines() {
			continue
		}
		r := reps[d.src]
		if r == nil {
			var closeR func()
			var err error
			if r, closeR, err = openReplay(d.src.path); err != nil {
				continue
			}
			reps[d.src], closers = r, append(closers, closeR)
		}
		// A syscall record happened between events: go to its entry.
		goTo := func() error { return r.GotoEvent(d.seq) }
		if d.rec {
			goTo = func() error { return r.GotoIcount(d.Icount) }
		}
		if err := goTo(); err != nil {
			continue
		}
		if r.SelectThread(d.tid) != nil {
			_ = r.SelectThread(0)
		}
		d.Caller = callerOf(r, sym)
		_ = r.SelectThread(0)
	}
}

// callerOf walks the current thread's stack for the nearest return address
// into code with source lines.
func callerOf(r *replay.Replayer, sym *Symbols) *Location {
	t := r.Thread()
	if t == nil {
		return nil
	}
	cpu := t.CPU()
	rsp, rbp := cpu.Regs[4], cpu.Regs[5]
	stack, err := r.ReadMemory(rsp, maxStackScan)
	if err != nil {
		return nil
	}
	word := func(a uint64) (uint64, bool) {
		if a < rsp || a-rsp+8 > uint64(len(stack)) {
			return 0, false
		}
		return binary.LittleEndian.Uint64(stack[a-rsp:]), true
	}
	at := func(ret uint64, how string) *Location {
		if _, line := sym.Line(ret - 1); line == 0 || !calls(r, ret) {
			return nil
		}
		l := sym.Locate(ret)
		l.File, l.Line = sym.Line(ret - 1)
		l.Unwound = how
		return &l
	}
	// The frame-pointer chain: only frames that keep it (code built with
	// frame pointers, as -O0 is) and only while it stays on the stack.
	for i, fp := 0, rbp; i < 64; i++ {
		ret, ok := word(fp + 8)
		if !ok {
			break
		}
		if l := at(ret, "frame chain"); l != nil {
			return l
		}
		next, ok := word(fp)
		if !ok || next <= fp {
			break
		}
		fp = next
	}
	for a := rsp; ; a += 8 {
		ret, ok := word(a)
		if !ok {
			return nil
		}
		if l := at(ret, "stack scan"); l != nil {
			return l
		}
	}
}

// calls reports whether the bytes before ret end with a call instruction:
// e8 rel32, or ff /2 (indirect) of 2, 3, 6 or 7 bytes.
func calls(r *replay.Replayer, ret uint64) bool {
	if ret < 7 {
		return false
	}
	b, err := r.ReadMemory(ret-7, 7)
	if err != nil || len(b) != 7 {
		return false
	}
	if b[2] == 0xe8 {
		return true
	}
	for _, n := range []int{2, 3, 6, 7} {
		if i := 7 - n; b[i] == 0xff && b[i+1]>>3&7 == 2 || n == 3 && b[i+1] == 0xff && b[i+2]>>3&7 == 2 {
			return true
		}
	}
	return false
}
