package diff

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"ptrec/format"
	"ptrec/machine"
	"ptrec/replay"
)

// DeepResult is what --deep found: the first instruction after which the
// two re-executions disagree.
type DeepResult struct {
	Icount   uint64    `json:"icount"` // global count before the instruction
	Location *Location `json:"location,omitempty"`
	Regs     []string  `json:"regs,omitempty"` // what differs after it, "rax 0x1 vs 0x2"
	// Memory lists the byte ranges of writable memory of the current
	// process that differ after it (the first maxMemDiffs).
	Memory  []MemDiff `json:"memory,omitempty"`
	Message string    `json:"message"`
	// Note says what was not compared (memory present in only one run,
	// differences present from the start and therefore masked).
	Note string `json:"note,omitempty"`
}

// MemDiff is a range of memory whose bytes differ between the runs.
type MemDiff struct {
	Addr   uint64 `json:"addr"`
	Len    int    `json:"len"`
	A      string `json:"a"` // hex, at most maxMemBytes bytes
	B      string `json:"b"`
	Symbol string `json:"symbol,omitempty"` // data symbol of the executable
	Offset uint64 `json:"offset,omitempty"`
}

func (m MemDiff) String() string {
	s := fmt.Sprintf("memory %#x", m.Addr)
	if m.Symbol != "" {
		s += " (" + m.Symbol
		if m.Offset != 0 {
			s += fmt.Sprintf("+%#x", m.Offset)
		}
		s += ")"
	}
	more := ""
	if m.Len > maxMemBytes {
		more = "…"
	}
	return s + fmt.Sprintf(" [%d bytes] %s%s vs %s%s", m.Len, m.A, more, m.B, more)
}

const (
	maxMemDiffs = 8
	maxMemBytes = 16
	// memGap merges differing bytes this close into one range.
	memGap = 8
	// memEvery is how often (in instructions) the stepping phase compares
	// memory; a difference found is then narrowed to the instruction.
	memEvery = 256
)

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

// prober compares the two re-executions at instruction counts: registers
// always, writable memory of the current process when asked, by per-page
// digests first and bytes only of the pages whose digests differ.
type prober struct {
	c      *comparison
	ra, rb *replay.Replayer
	seed   maphash.Seed
	mem    bool // memory is compared
	// base holds the pages that already differed where the search
	// started (different initial data of two builds): only bytes that
	// change from there count.
	base map[uint64]*basePage
	note string
}

type basePage struct {
	ha, hb uint64
	a, b   []byte
}

type probeResult struct {
	regs []string
	mem  []MemDiff
	sa   machineState
}

func (r probeResult) differs() bool { return r.regs != nil || r.mem != nil }

func (p *prober) probe(ic uint64, withMem bool) (probeResult, error) {
	var res probeResult
	sa, err := stateAt(p.ra, ic)
	if err != nil {
		return res, fmt.Errorf("%s: %w", p.c.a.path, err)
	}
	sb, err := stateAt(p.rb, ic)
	if err != nil {
		return res, fmt.Errorf("%s: %w", p.c.b.path, err)
	}
	res.sa, res.regs = sa, sa.differs(sb)
	if withMem && p.mem && !sa.ended && !sb.ended {
		var maps []string
		res.mem, maps = p.memDiff(false)
		res.regs = append(res.regs, maps...)
	}
	return res, nil
}

func writable(rs []replay.MemRegion) []replay.MemRegion {
	var out []replay.MemRegion
	for _, r := range rs {
		if r.Prot&machine.ProtWrite != 0 {
			out = append(out, r)
		}
	}
	return out
}

func inRegions(rs []replay.MemRegion, a uint64) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].End > a })
	return i < len(rs) && rs[i].Start <= a
}

// memDiff compares the writable memory of the current processes of both
// replayers where they stand. With setBase it records the differing pages
// as the baseline instead.
func (p *prober) memDiff(setBase bool) ([]MemDiff, []string) {
	ga, pa := p.ra.MemoryPages(p.seed)
	gb, pb := p.rb.MemoryPages(p.seed)
	wa, wb := writable(ga), writable(gb)
	if !slices.Equal(wa, wb) {
		for i := 0; ; i++ {
			if i >= len(wa) || i >= len(wb) || wa[i] != wb[i] {
				desc := func(w []replay.MemRegion) string {
					if i >= len(w) {
						return "none"
					}
					return fmt.Sprintf("[%#x,%#x)", w[i].Start, w[i].End)
				}
				return nil, []string{fmt.Sprintf("writable mapping %s vs %s", desc(wa), desc(wb))}
			}
		}
	}
	var addrs []uint64
	for a, ha := range pa {
		if hb, ok := pb[a]; (!ok || hb != ha) && inRegions(wa, a) {
			addrs = append(addrs, a)
		}
	}
	for a := range pb {
		if _, ok := pa[a]; !ok && inRegions(wa, a) {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	var out []MemDiff
	var cur *MemDiff
	var ca, cb []byte
	flush := func() {
		if cur != nil {
			cur.A, cur.B = hex.EncodeToString(ca), hex.EncodeToString(cb)
			cur.Symbol, cur.Offset = p.c.symA.Data(cur.Addr)
			out = append(out, *cur)
			cur = nil
		}
	}
	for _, a := range addrs {
		bp := p.base[a]
		if !setBase && bp != nil && bp.ha == pa[a] && bp.hb == pb[a] {
			continue
		}
		x, errA := p.ra.ReadMemory(a, machine.PageSize)
		y, errB := p.rb.ReadMemory(a, machine.PageSize)
		if errA != nil || errB != nil || len(x) != machine.PageSize || len(y) != machine.PageSize {
			continue
		}
		if setBase {
			p.base[a] = &basePage{pa[a], pb[a], x, y}
			continue
		}
		for i := range x {
			if x[i] == y[i] || bp != nil && x[i] == bp.a[i] && y[i] == bp.b[i] {
				continue
			}
			addr := a + uint64(i)
			// Merge with the previous range when close, within the page.
			if cur != nil && cur.Addr >= a && addr-(cur.Addr+uint64(cur.Len)) < memGap {
				for j := cur.Addr + uint64(cur.Len); j <= addr && len(ca) < maxMemBytes; j++ {
					ca, cb = append(ca, x[j-a]), append(cb, y[j-a])
				}
				cur.Len = int(addr - cur.Addr + 1)
				continue
			}
			flush()
			if len(out) >= maxMemDiffs {
				return out, nil
			}
			cur = &MemDiff{Addr: addr, Len: 1}
			ca, cb = []byte{x[i]}, []byte{y[i]}
		}
	}
	flush()
	return out, nil
}

// deep re-executes both traces and finds the first instruction after which
// their registers or writable memory differ (or whose bytes differ), in the
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
	pr := &prober{c: c, ra: ra, rb: rb, seed: maphash.MakeSeed(), mem: true, base: map[uint64]*basePage{}}
	res, err := pr.probe(lo, true)
	if err != nil {
		return nil, err
	}
	if res.differs() {
		lo = 0
		if res, err = pr.probe(0, false); err != nil {
			return nil, err
		}
		if res.regs != nil {
			return &DeepResult{Regs: res.regs, Message: "the runs differ from their first instruction: " + res.regs[0]}, nil
		}
		// Memory that differs before the first instruction (the initial
		// data of two builds, the arguments) is the baseline.
		if _, maps := pr.memDiff(false); maps != nil {
			pr.mem = false
			pr.note = "memory not compared: " + maps[0] + " from the start"
		} else {
			pr.memDiff(true)
			if len(pr.base) > 0 {
				pr.note = fmt.Sprintf("%d pages of writable memory differ from the start; only bytes that change afterwards are compared", len(pr.base))
			}
		}
	}
	result := func(r *DeepResult) *DeepResult { r.Note = pr.note; return r }
	// Invariant: the states agree at lo. Narrow [lo, hi] by bisection,
	// then step.
	for hi-lo > linearMax {
		mid := lo + (hi-lo)/2
		res, err := pr.probe(mid, true)
		if err != nil {
			return nil, err
		}
		if !res.differs() {
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
	// Registers are compared at every instruction, memory every memEvery
	// instructions; pcs holds the pc at every instruction since memory
	// last agreed (pcs[0] at memOK).
	memOK, pcs := lo, []uint64{prev.pc}
	for ic := lo + 1; ic <= hi; ic++ {
		res, err := pr.probe(ic, (ic-lo)%memEvery == 0 || ic == hi)
		if err != nil {
			return nil, err
		}
		if res.mem != nil && res.regs == nil && ic-memOK > 1 {
			// Memory began to differ somewhere in (memOK, ic]: step
			// again comparing it at every instruction.
			for j := memOK + 1; j <= ic; j++ {
				rj, err := pr.probe(j, true)
				if err != nil {
					return nil, err
				}
				if rj.differs() {
					return result(pr.found(j, pcs[j-1-memOK], rj)), nil
				}
			}
		}
		if res.differs() {
			return result(pr.found(ic, prev.pc, res)), nil
		}
		if res.mem == nil && ((ic-lo)%memEvery == 0 || ic == hi) {
			memOK, pcs = ic, pcs[:0]
		}
		pcs = append(pcs, res.sa.pc)
		if (ic-lo)%(1<<14) == 0 && c.o.Progress != nil {
			fmt.Fprintf(c.o.Progress, "ptrec diff --deep: instruction %d of %d\n", ic, hi)
		}
		prev = res.sa
	}
	what := "registers and writable memory agree"
	if !pr.mem {
		what = "registers agree"
	}
	return result(&DeepResult{Message: fmt.Sprintf("%s at every instruction from %d to %d; the traces differ in host data only", what, lo, hi)}), nil
}

// found builds the result for a difference first seen at ic: the
// instruction that ran from ic-1 (at prevPC) to ic, or, when the bytes of
// the instruction about to run differ, that one with what differs after it.
func (pr *prober) found(ic, prevPC uint64, res probeResult) *DeepResult {
	at, pc := ic-1, prevPC
	what := append([]string(nil), res.regs...)
	mem := res.mem
	if len(res.regs) > 0 && strings.HasPrefix(res.regs[0], "instruction bytes") {
		at, pc = ic, res.sa.pc
		if after, err := pr.probe(ic+1, true); err == nil && !after.sa.ended {
			effects := slices.DeleteFunc(after.regs, func(s string) bool { return strings.HasPrefix(s, "instruction bytes") || strings.HasPrefix(s, "pc ") })
			mem = after.mem
			if len(effects)+len(mem) > 0 {
				what = append(what[:1:1], effects...)
			}
		}
	}
	all := append([]string(nil), what...)
	for _, m := range mem {
		all = append(all, m.String())
	}
	loc := pr.c.symA.Locate(pc)
	return &DeepResult{Icount: at, Location: &loc, Regs: what, Memory: mem,
		Message: fmt.Sprintf("first differing instruction: #%d at pc %s: %s", at, loc, joinN(all, 4))}
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
