package diff

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"ptrec/format"
	"ptrec/replay"
)

// DeepResult is what --deep found: the first instruction after which the
// two re-executions disagree.
type DeepResult struct {
	Icount   uint64    `json:"icount"` // global count before the instruction
	Location *Location `json:"location,omitempty"`
	Regs     []string  `json:"regs,omitempty"` // what differs after it, "rax 0x1 vs 0x2"
	Message  string    `json:"message"`
}

// linearMax is the widest window stepped one instruction at a time; wider
// windows are narrowed by bisection first.
const linearMax = 1 << 16

var regNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// machineState is what --deep compares at an instruction count: every
// thread's registers and the bytes of the instruction about to execute.
type machineState struct {
	pc    uint64
	code  []byte
	regs  [][16]uint64
	rips  []uint64
	fs    []uint64
	ended bool
}

func stateAt(r *replay.Replayer, ic uint64) (machineState, error) {
	var s machineState
	if err := r.GotoIcount(ic); err != nil {
		return s, err
	}
	w := r.Where()
	s.pc, s.ended = w.PC, w.End || w.Icount < ic
	s.code, _ = r.ReadMemory(w.PC, 15)
	// Only the bytes of the instruction itself: the window also holds
	// the following ones.
	if in, err := x86asm.Decode(s.code, 64); err == nil && in.Len > 0 && in.Len <= len(s.code) {
		s.code = s.code[:in.Len]
	}
	for _, t := range r.Threads() {
		c := t.CPU()
		s.regs = append(s.regs, c.Regs)
		s.rips = append(s.rips, c.RIP)
		s.fs = append(s.fs, c.FSBase)
	}
	return s, nil
}

// differs lists what differs between two states (nil: the same).
func (s machineState) differs(o machineState) []string {
	var out []string
	if s.ended != o.ended {
		out = append(out, "one run has ended")
	}
	if s.pc != o.pc {
		out = append(out, fmt.Sprintf("pc %#x vs %#x", s.pc, o.pc))
	} else if !bytes.Equal(s.code, o.code) {
		out = append(out, fmt.Sprintf("instruction bytes %x vs %x", s.code, o.code))
	}
	if len(s.regs) != len(o.regs) {
		return append(out, fmt.Sprintf("%d vs %d threads", len(s.regs), len(o.regs)))
	}
	for t := range s.regs {
		pre := ""
		if len(s.regs) > 1 {
			pre = fmt.Sprintf("thread %d ", t)
		}
		for i := range s.regs[t] {
			if s.regs[t][i] != o.regs[t][i] {
				out = append(out, fmt.Sprintf("%s%s %#x vs %#x", pre, regNames[i], s.regs[t][i], o.regs[t][i]))
			}
		}
		if s.rips[t] != o.rips[t] && (len(s.regs) > 1 || s.rips[t] != s.pc) {
			out = append(out, fmt.Sprintf("%srip %#x vs %#x", pre, s.rips[t], o.rips[t]))
		}
		if s.fs[t] != o.fs[t] {
			out = append(out, fmt.Sprintf("%sfs_base %#x vs %#x", pre, s.fs[t], o.fs[t]))
		}
	}
	return out
}

func openReplay(path string) (*replay.Replayer, func(), error) {
	rd, err := format.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := replay.New(rd, replay.Options{})
	if err != nil {
		rd.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, func() { rd.Close() }, nil
}

// deep re-executes both traces and finds the first instruction after which
// their registers (or the instruction bytes about to run) differ, in the
// window between the last event both traces agree on and the point where
// control flow differs.
func deep(c *comparison) (*DeepResult, error) {
	if len(c.diffs) == 0 {
		return &DeepResult{Message: "re-execution not needed: no event differs"}, nil
	}
	p := c.diffs[0]
	lo := uint64(0)
	if p.ia >= 0 {
		it := c.a.items[p.ia]
		lo = it.icount - min(it.dIcount, it.icount)
	} else if x := -p.ia - 2; x >= 0 {
		it := c.a.items[x]
		lo = it.icount - min(it.dIcount, it.icount)
	}
	hi := uint64(0)
	for _, t := range []*trace{c.a, c.b} {
		if n := len(t.items); n > 0 {
			hi = max(hi, t.items[n-1].icount)
		}
	}
	if ct := c.rep.Control; ct != nil {
		hi = ct.Icount + 1
	}
	ra, closeA, err := openReplay(c.a.path)
	if err != nil {
		return nil, err
	}
	defer closeA()
	rb, closeB, err := openReplay(c.b.path)
	if err != nil {
		return nil, err
	}
	defer closeB()
	probe := func(ic uint64) ([]string, machineState, error) {
		sa, err := stateAt(ra, ic)
		if err != nil {
			return nil, sa, fmt.Errorf("%s: %w", c.a.path, err)
		}
		sb, err := stateAt(rb, ic)
		if err != nil {
			return nil, sa, fmt.Errorf("%s: %w", c.b.path, err)
		}
		return sa.differs(sb), sa, nil
	}
	d, _, err := probe(lo)
	if err != nil {
		return nil, err
	}
	if d != nil {
		lo = 0
		if d, _, err = probe(0); err != nil {
			return nil, err
		}
		if d != nil {
			return &DeepResult{Regs: d, Message: "the runs differ from their first instruction: " + d[0]}, nil
		}
	}
	// Invariant: the states agree at lo. Narrow [lo, hi] by bisection,
	// then step.
	for hi-lo > linearMax {
		mid := lo + (hi-lo)/2
		d, _, err := probe(mid)
		if err != nil {
			return nil, err
		}
		if d == nil {
			lo = mid
		} else {
			hi = mid
		}
		if c.o.Progress != nil {
			fmt.Fprintf(c.o.Progress, "ptrec diff --deep: narrowing to instructions %d..%d\n", lo, hi)
		}
	}
	prev, err := stateAt(ra, lo)
	if err != nil {
		return nil, err
	}
	for ic := lo + 1; ic <= hi; ic++ {
		d, sa, err := probe(ic)
		if err != nil {
			return nil, err
		}
		if d != nil {
			// The instruction that ran from ic-1 to ic, or the one about
			// to run when its bytes differ.
			at, pc := ic-1, prev.pc
			if strings.HasPrefix(d[0], "instruction bytes") {
				at, pc = ic, sa.pc
			}
			loc := c.symA.Locate(pc)
			return &DeepResult{Icount: at, Location: &loc, Regs: d,
				Message: fmt.Sprintf("first differing instruction: #%d at pc %s: %s", at, loc, joinN(d, 4))}, nil
		}
		if (ic-lo)%(1<<14) == 0 && c.o.Progress != nil {
			fmt.Fprintf(c.o.Progress, "ptrec diff --deep: instruction %d of %d\n", ic, hi)
		}
		prev = sa
	}
	return &DeepResult{Message: fmt.Sprintf("registers agree at every instruction from %d to %d; the traces differ in memory or host data only", lo, hi)}, nil
}

func joinN(s []string, n int) string {
	out := ""
	for i, x := range s {
		if i == n {
			return out + fmt.Sprintf(", and %d more", len(s)-n)
		}
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
