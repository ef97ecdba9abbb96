// Package diff compares two ptrec traces the way CI needs: it aligns the
// event streams per thread by their syscall and stop sequence (an edit
// script that survives insertions and deletions), reports the first
// divergence with context from both traces and a summary, and names the
// origin of a divergence when it is an input (a clock, random bytes, file
// content, the environment), symbolizing pcs with the executable stored in
// the trace. With Options.Deep it re-executes both traces and finds the
// first instruction after which registers or memory differ.
//
// In a trace recorded with the syscall log (docs/FORMAT.md, kind 6) every
// logged syscall is compared on its own, in the order it happened in its
// thread: its arguments and result, its pc and the caller it was made from.
//
// Comparison levels: an aligned pair of events is compared in full (every
// register, memory delta, host result) unless an ignored input class came
// first in either trace; from there on only what control flow shows is
// compared (stop kinds, syscalls and whether a logged one failed, pcs, host
// calls, exit status), since the data may legitimately derive from the
// ignored inputs.
package diff

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"ptrec/format"
	"ptrec/kernel/abi"
)

// Options configures a comparison.
type Options struct {
	Ignore  Ignore
	Context int // events of context on each side of the first divergence
	Deep    bool
	// Progress, if set, receives progress lines of --deep.
	Progress io.Writer
}

// Report is the result of a comparison; it is what `ptrec diff --json`
// prints.
type Report struct {
	A, B    string       `json:"-"`
	Same    bool         `json:"same"`
	Ignore  string       `json:"ignore,omitempty"`
	Header  []HeaderDiff `json:"header,omitempty"`
	First   *Divergence  `json:"first,omitempty"`
	Origin  *Origin      `json:"origin,omitempty"`
	Control *Divergence  `json:"control,omitempty"` // where control flow first differs
	Deep    *DeepResult  `json:"deep,omitempty"`
	Summary Summary      `json:"summary"`
}

// HeaderDiff is a difference in what was run.
type HeaderDiff struct {
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
	// Informational differences (host facts) do not make traces differ.
	Informational bool `json:"informational,omitempty"`
}

// Divergence is one point where the traces differ.
type Divergence struct {
	What   string `json:"what"` // "changed", "only in A", "only in B"
	Detail string `json:"detail"`
	SeqA   int64  `json:"seq_a"` // -1: none
	SeqB   int64  `json:"seq_b"`
	// RecordA and RecordB index the syscall record of event SeqA (SeqB)
	// when the divergence is a syscall of a syscall-log trace (the
	// records of a syscalls event count from 0).
	RecordA  *int      `json:"record_a,omitempty"`
	RecordB  *int      `json:"record_b,omitempty"`
	Icount   uint64    `json:"icount"`
	Thread   int       `json:"thread"` // thread in order of first appearance
	Syscall  string    `json:"syscall,omitempty"`
	Location *Location `json:"location,omitempty"`
	// Caller is the nearest caller with a source line when Location has
	// none (a syscall stop inside libc), found on the guest's stack.
	Caller   *Location `json:"caller,omitempty"`
	ContextA []string  `json:"context_a,omitempty"`
	ContextB []string  `json:"context_b,omitempty"`

	src *trace // the trace of the event, its seq and thread
	seq uint64
	tid int32
	rec bool // a syscall record: Icount is its entry, where callers goes
}

// Origin is the input a divergence began with.
type Origin struct {
	Class   string `json:"class"`
	SeqA    int64  `json:"seq_a"`
	SeqB    int64  `json:"seq_b"`
	Message string `json:"message"`
}

// SyscallDiff is an aligned syscall whose arguments or result differ.
type SyscallDiff struct {
	Name string `json:"name"`
	SeqA int64  `json:"seq_a"`
	SeqB int64  `json:"seq_b"`
	// RecordA and RecordB index the syscall's record in events SeqA and
	// SeqB (a syscall-log trace; see Divergence).
	RecordA *int   `json:"record_a,omitempty"`
	RecordB *int   `json:"record_b,omitempty"`
	What    string `json:"what"`
}

// OutputDiff compares what the guests wrote to a stream.
type OutputDiff struct {
	Stream    string `json:"stream"`
	BytesA    int64  `json:"bytes_a"`
	BytesB    int64  `json:"bytes_b"`
	FirstDiff int64  `json:"first_diff"` // offset of the first differing byte, -1 if none
}

// Summary counts the differences.
type Summary struct {
	EventsA        uint64        `json:"events_a"`
	EventsB        uint64        `json:"events_b"`
	Aligned        int           `json:"aligned"`
	Changed        int           `json:"changed"`
	OnlyA          int           `json:"only_a"`
	OnlyB          int           `json:"only_b"`
	SyscallsDiffer int           `json:"syscalls_differ"`
	Syscalls       []SyscallDiff `json:"syscalls,omitempty"` // the first maxListed
	Output         []OutputDiff  `json:"output,omitempty"`
	ExitA          string        `json:"exit_a"`
	ExitB          string        `json:"exit_b"`
	ExitDiffers    bool          `json:"exit_differs"`
}

const maxListed = 20

// Compare compares the traces at paths a and b.
func Compare(pa, pb string, o Options) (*Report, error) {
	ta, err := load(pa, o.Ignore)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pa, err)
	}
	tb, err := load(pb, o.Ignore)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pb, err)
	}
	rep := &Report{A: pa, B: pb, Ignore: o.Ignore.String()}
	c := &comparison{a: ta, b: tb, o: o, rep: rep}
	c.header()
	c.events()
	c.output()
	if err := c.explain(); err != nil {
		return nil, err
	}
	rep.Same = rep.First == nil && !rep.Summary.ExitDiffers && len(rep.Summary.Output) == 0
	for _, h := range rep.Header {
		if !h.Informational {
			rep.Same = false
		}
	}
	if o.Deep && !rep.Same {
		d, err := deep(c)
		if err != nil {
			return nil, err
		}
		rep.Deep = d
	}
	return rep, nil
}

type comparison struct {
	a, b *trace
	o    Options
	rep  *Report
	// pairs of the alignment that differ, in order of their position
	diffs []pair
	symA  *Symbols
	symB  *Symbols
}

// pair is one step of the alignment: indices into a.items and b.items (-1
// for none); ctl marks a pair whose control-level comparison differs too.
type pair struct {
	ia, ib int
	ctl    bool
	thread int
}

func (c *comparison) header() {
	ha, hb := c.a.hdr, c.b.hdr
	add := func(field, a, b string, info bool) {
		if a != b {
			c.rep.Header = append(c.rep.Header, HeaderDiff{field, a, b, info})
		}
	}
	add("argv", fmt.Sprintf("%q", ha.Argv), fmt.Sprintf("%q", hb.Argv), false)
	env := c.o.Ignore&IgnoreEnvironment != 0
	add("envp", fmt.Sprintf("%q", ha.Envp), fmt.Sprintf("%q", hb.Envp), env)
	add("cwd", ha.Cwd, hb.Cwd, env)
	add("stops", ha.Stops, hb.Stops, false)
	fa, fb := map[string]string{}, map[string]string{}
	for _, f := range ha.Facts {
		fa[f.Key] = f.Value
	}
	for _, f := range hb.Facts {
		fb[f.Key] = f.Value
	}
	keys := []string{}
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		add("host "+k, fa[k], fb[k], true)
	}
}

// events aligns the threads and classifies every aligned pair.
func (c *comparison) events() {
	s := &c.rep.Summary
	s.EventsA, s.EventsB = c.a.events, c.b.events
	n := max(len(c.a.threads), len(c.b.threads))
	for r := 0; r < n; r++ {
		var xa, xb []int
		if r < len(c.a.threads) {
			xa = c.a.threads[r]
		}
		if r < len(c.b.threads) {
			xb = c.b.threads[r]
		}
		if !c.a.syslog && !c.b.syslog {
			c.align(xa, xb, r)
			continue
		}
		// The stops the syscall log's batch makes (and their memory
		// deltas) align among themselves: an inserted syscall moves
		// every later one by a syscall, and aligned with the rest they
		// would make a deletion and an insertion each.
		ma, ba := c.a.splitBatch(xa)
		mb, bb := c.b.splitBatch(xb)
		c.align(ma, mb, r)
		c.align(ba, bb, r)
	}
	// Order the differences by where they happen (items are in that
	// order): an event only in B sorts at the A event it precedes, and the
	// reverse.
	pos := func(x int, t *trace) uint64 {
		if x >= 0 {
			return uint64(x)
		}
		if y := -x - 2; y >= 0 && y < len(t.items) {
			return uint64(y)
		}
		return ^uint64(0)
	}
	slices.SortStableFunc(c.diffs, func(p, q pair) int {
		pa, qa := pos(p.ia, c.a), pos(q.ia, c.a)
		if pa != qa {
			if pa < qa {
				return -1
			}
			return 1
		}
		pb, qb := pos(p.ib, c.b), pos(q.ib, c.b)
		if pb < qb {
			return -1
		}
		if pb > qb {
			return 1
		}
		return 0
	})
	exit := func(t *trace) string {
		if t.exit == nil {
			if t.trunc {
				return "none (truncated)"
			}
			return "none"
		}
		return abi.WaitStatus(t.exit.Status).String()
	}
	s.ExitA, s.ExitB = exit(c.a), exit(c.b)
	s.ExitDiffers = s.ExitA != s.ExitB
}

// align aligns the items xa of A and xb of B of thread r and classifies
// every aligned pair.
func (c *comparison) align(xa, xb []int, r int) {
	s := &c.rep.Summary
	sa, sb := make([]uint64, len(xa)), make([]uint64, len(xb))
	for i, x := range xa {
		sa[i] = c.a.items[x].sig
	}
	for j, x := range xb {
		sb[j] = c.b.items[x].sig
	}
	for _, e := range align(sa, sb) {
		switch e.op {
		case opSame:
			ia, ib := xa[e.i], xb[e.j]
			s.Aligned++
			if c.equal(ia, ib) {
				continue
			}
			s.Changed++
			ctl := c.a.items[ia].ctl != c.b.items[ib].ctl
			c.diffs = append(c.diffs, pair{ia, ib, ctl, r})
			c.syscall(ia, ib)
		case opDel:
			s.OnlyA++
			ib := -1
			if e.j < len(xb) {
				ib = xb[e.j]
			}
			c.diffs = append(c.diffs, pair{xa[e.i], -ib - 2, true, r})
		case opIns:
			s.OnlyB++
			ia := -1
			if e.i < len(xa) {
				ia = xa[e.i]
			}
			c.diffs = append(c.diffs, pair{-ia - 2, xb[e.j], true, r})
		}
	}
}

// splitBatch splits a thread's items into the batch items (item.batch)
// and the others.
func (t *trace) splitBatch(x []int) (main, batch []int) {
	main = make([]int, 0, len(x))
	for _, i := range x {
		if t.items[i].batch {
			batch = append(batch, i)
		} else {
			main = append(main, i)
		}
	}
	return main, batch
}

// equal compares two aligned items at the level their position calls for.
func (c *comparison) equal(ia, ib int) bool {
	x, y := &c.a.items[ia], &c.b.items[ib]
	if ia >= c.a.taint || ib >= c.b.taint {
		return x.ctl == y.ctl
	}
	return x.full == y.full
}

// syscall notes an aligned syscall whose arguments or result differ: a
// record of a syscall-log trace, or a syscall stop of a trace without the
// log (in one with it, a stop at a syscall is not the syscall: see
// trace.complete).
func (c *comparison) syscall(ia, ib int) {
	x, y := &c.a.items[ia], &c.b.items[ib]
	s := &c.rep.Summary
	if x.kind == format.KindSyscalls {
		if x.aux == y.aux && x.rax == y.rax && x.flags == y.flags && x.rip == y.rip {
			// The same call and result after another number of
			// instructions: a changed item, not a syscall that
			// differs.
			return
		}
		s.SyscallsDiffer++
		if len(s.Syscalls) < maxListed {
			s.Syscalls = append(s.Syscalls, SyscallDiff{Name: abi.SyscallName(int(x.sys)), SeqA: int64(x.seq), SeqB: int64(y.seq),
				RecordA: recIndex(x), RecordB: recIndex(y), What: syscallSummary(x, y)})
		}
		return
	}
	if x.kind != format.KindStop || x.flags&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) == 0 || c.a.syslog || c.b.syslog {
		return
	}
	s.SyscallsDiffer++
	if len(s.Syscalls) >= maxListed {
		return
	}
	what := "arguments or registers differ"
	if x.flags&abi.PL_FLAG_SCX != 0 {
		what = "registers at exit differ"
		if x.rax != y.rax {
			what = fmt.Sprintf("result %d vs %d", int64(x.rax), int64(y.rax))
		}
	}
	if x.rip != y.rip {
		what += fmt.Sprintf(", pc %#x vs %#x", x.rip, y.rip)
	}
	s.Syscalls = append(s.Syscalls, SyscallDiff{Name: abi.SyscallName(int(x.sys)), SeqA: int64(x.seq), SeqB: int64(y.seq), What: what})
}

func (c *comparison) output() {
	for fd, name := range []string{1: "stdout", 2: "stderr"} {
		if fd == 0 {
			continue
		}
		a, b := c.a.out[fd], c.b.out[fd]
		if c.a.outN[fd] == c.b.outN[fd] && bytes.Equal(a, b) {
			continue
		}
		if (c.a.taint < len(c.a.items) || c.b.taint < len(c.b.items)) && c.o.Ignore&(IgnoreTime|IgnoreRandom|IgnorePid|IgnoreAddresses|IgnoreEnvironment) != 0 {
			// Output derived from ignored inputs is data, not control.
			continue
		}
		first := int64(-1)
		n := min(len(a), len(b))
		for i := 0; i < n; i++ {
			if a[i] != b[i] {
				first = int64(i)
				break
			}
		}
		if first < 0 {
			first = int64(n)
		}
		c.rep.Summary.Output = append(c.rep.Summary.Output, OutputDiff{name, c.a.outN[fd], c.b.outN[fd], first})
	}
}

// explain fills in the first divergence, its origin and where control flow
// first differs.
func (c *comparison) explain() error {
	if len(c.diffs) == 0 {
		return nil
	}
	var err error
	c.symA, c.symB = symbolsOf(c.a), symbolsOf(c.b)
	first := c.diffs[0]
	if c.rep.First, err = c.divergence(first); err != nil {
		return err
	}
	for _, p := range c.diffs {
		if p.ctl && !(p.ia >= 0 && p.ib >= 0 && c.a.items[p.ia].kind == format.KindInput) {
			if c.rep.Control, err = c.divergence(p); err != nil {
				return err
			}
			break
		}
	}
	c.callers()
	c.origin(first)
	return nil
}

func symbolsOf(t *trace) *Symbols {
	if t.exe == nil {
		return nil
	}
	s, err := NewSymbols(t.exe)
	if err != nil {
		return nil
	}
	return s
}

func (c *comparison) origin(first pair) {
	// Header differences come first.
	for _, h := range c.rep.Header {
		if h.Informational {
			continue
		}
		switch h.Field {
		case "argv":
			c.rep.Origin = &Origin{Class: "arguments", SeqA: -1, SeqB: -1, Message: "the runs were given different arguments"}
		case "envp", "cwd":
			c.rep.Origin = &Origin{Class: "environment", SeqA: -1, SeqB: -1, Message: fmt.Sprintf("the runs had a different %s", map[string]string{"envp": "environment", "cwd": "working directory"}[h.Field])}
		}
		if c.rep.Origin != nil {
			c.addControl()
			return
		}
	}
	if first.ia < 0 || first.ib < 0 {
		return
	}
	x, y := &c.a.items[first.ia], &c.b.items[first.ib]
	if x.kind != format.KindInput || x.class == ClassOutput {
		return
	}
	class := x.class.String()
	if x.class == ClassProgram {
		class = "program"
	}
	c.rep.Origin = &Origin{Class: class, SeqA: int64(x.seq), SeqB: int64(y.seq),
		Message: fmt.Sprintf("the runs diverged because %s at event %d (B: %d) returned different data", describeInput(x), x.seq, y.seq)}
	if x.class == ClassProgram {
		c.rep.Origin.Message = fmt.Sprintf("the runs diverged because the executable %s differs (event %d)", x.path, x.seq)
	}
	c.addControl()
}

// addControl appends where control flow first differs to the origin.
func (c *comparison) addControl() {
	ct := c.rep.Control
	if ct == nil {
		c.rep.Origin.Message += "; control flow did not differ at the level of syscalls and stops"
		return
	}
	where := fmt.Sprintf("; control flow first differs at event %s (B: %s), before instruction %d", EventName(ct.SeqA, ct.RecordA), EventName(ct.SeqB, ct.RecordB), ct.Icount)
	if ct.Syscall != "" {
		where += " (" + ct.Syscall + ")"
	}
	if ct.Location != nil {
		where += " at pc " + ct.Location.String()
	}
	if ct.Caller != nil {
		where += ", called from " + ct.Caller.String()
	}
	c.rep.Origin.Message += where
}

// divergence describes one differing pair with context.
func (c *comparison) divergence(p pair) (*Divergence, error) {
	d := &Divergence{SeqA: -1, SeqB: -1, Thread: p.thread}
	var it *item
	var sym *Symbols
	switch {
	case p.ia >= 0 && p.ib >= 0:
		d.What = "changed"
		it, sym = &c.a.items[p.ia], c.symA
		d.SeqA, d.SeqB = int64(it.seq), int64(c.b.items[p.ib].seq)
		d.Detail = c.changed(&c.a.items[p.ia], &c.b.items[p.ib])
	case p.ia >= 0:
		d.What = "only in A"
		it, sym = &c.a.items[p.ia], c.symA
		d.SeqA = int64(it.seq)
		if y := -p.ib - 2; y >= 0 {
			d.SeqB, d.RecordB = int64(c.b.items[y].seq), recIndex(&c.b.items[y])
		}
		d.Detail = "A has " + brief(it) + " where B has none"
	default:
		d.What = "only in B"
		it, sym = &c.b.items[p.ib], c.symB
		d.SeqB = int64(it.seq)
		if x := -p.ia - 2; x >= 0 {
			d.SeqA, d.RecordA = int64(c.a.items[x].seq), recIndex(&c.a.items[x])
		}
		d.Detail = "B has " + brief(it) + " where A has none"
	}
	d.Icount = it.icount
	d.src, d.seq, d.tid = c.a, it.seq, it.tid
	if p.ia < 0 {
		d.src = c.b
	}
	if it.kind == format.KindStop && it.flags&(abi.PL_FLAG_SCE|abi.PL_FLAG_SCX) != 0 || it.kind == format.KindSyscalls {
		d.Syscall = abi.SyscallName(int(it.sys))
	}
	if (it.kind == format.KindStop || it.kind == format.KindSyscalls) && it.rip != 0 {
		l := sym.Locate(it.rip)
		d.Location = &l
	}
	subA, subB := int64(-1), int64(-1)
	if it.kind == format.KindSyscalls {
		d.rec = true
		if err := c.records(d, p); err != nil {
			return nil, err
		}
	}
	if d.RecordA != nil {
		subA = int64(*d.RecordA)
	}
	if d.RecordB != nil {
		subB = int64(*d.RecordB)
	}
	var err error
	if d.ContextA, err = context(c.a.path, d.SeqA, subA, c.o.Context); err != nil {
		return nil, err
	}
	if d.ContextB, err = context(c.b.path, d.SeqB, subB, c.o.Context); err != nil {
		return nil, err
	}
	return d, nil
}

// records completes the divergence of a syscall record: which records
// they are, and its detail with the arguments and results, read again from
// the traces (items keep only hashes of the arguments). The record a
// missing one sorts at is divergence's.
func (c *comparison) records(d *Divergence, p pair) error {
	var ra, rb *format.Syscall
	var err error
	if p.ia >= 0 {
		x := &c.a.items[p.ia]
		d.RecordA = recIndex(x)
		if ra, err = readRecord(c.a.path, x.seq, x.sub); err != nil {
			return fmt.Errorf("%s: %w", c.a.path, err)
		}
	}
	if p.ib >= 0 {
		y := &c.b.items[p.ib]
		d.RecordB = recIndex(y)
		if rb, err = readRecord(c.b.path, y.seq, y.sub); err != nil {
			return fmt.Errorf("%s: %w", c.b.path, err)
		}
	}
	switch {
	case ra != nil && rb != nil:
		d.Detail = syscallChanged(&c.a.items[p.ia], &c.b.items[p.ib], ra, rb)
	case ra != nil:
		d.Detail = "A has syscall " + syscallText(ra) + " where B has none"
	default:
		d.Detail = "B has syscall " + syscallText(rb) + " where A has none"
	}
	return nil
}

// recIndex is the record index of a syscall item (nil for other items).
func recIndex(it *item) *int {
	if it.kind != format.KindSyscalls {
		return nil
	}
	i := int(it.sub)
	return &i
}

// EventName names an event, or a record of a syscalls event: "22", "22[5]".
func EventName(seq int64, rec *int) string {
	if rec == nil {
		return strconv.FormatInt(seq, 10)
	}
	return fmt.Sprintf("%d[%d]", seq, *rec)
}

// changed says what differs between two aligned items.
func (c *comparison) changed(x, y *item) string {
	switch x.kind {
	case format.KindStop:
		var parts []string
		if x.rip != y.rip {
			parts = append(parts, fmt.Sprintf("pc %#x vs %#x", x.rip, y.rip))
		}
		if x.dIcount != y.dIcount {
			parts = append(parts, fmt.Sprintf("%d vs %d instructions since the thread's previous event", x.dIcount, y.dIcount))
		}
		if x.rax != y.rax {
			parts = append(parts, fmt.Sprintf("rax %#x vs %#x", x.rax, y.rax))
		}
		if len(parts) == 0 {
			parts = append(parts, "registers or signal details differ")
		}
		return brief(x) + ": " + strings.Join(parts, ", ")
	case format.KindInput:
		if x.class == ClassOutput {
			if x.aux == y.aux {
				return brief(x) + ": the host's result differs"
			}
			return brief(x) + ": the guest wrote different bytes"
		}
		return brief(x) + ": " + describeInput(x) + " returned different data"
	case format.KindMemDelta:
		return "memory written since the previous stop differs"
	case format.KindExit:
		return "exit status differs"
	}
	return brief(x) + " differs"
}

// brief names an item: "syscall entry write", "host clock".
func brief(it *item) string {
	switch it.kind {
	case format.KindStop:
		switch {
		case it.flags&abi.PL_FLAG_SCE != 0:
			return "syscall entry " + abi.SyscallName(int(it.sys))
		case it.flags&abi.PL_FLAG_SCX != 0:
			return "syscall exit " + abi.SyscallName(int(it.sys))
		case it.flags&abi.PL_FLAG_SI != 0:
			return "signal stop"
		}
		return "stop"
	case format.KindInput:
		s := "host " + it.op.String()
		if it.path != "" {
			s += " " + it.path
		}
		return s
	case format.KindMemDelta:
		return "memory delta"
	case format.KindExit:
		return "exit"
	case format.KindSyscalls:
		return "syscall " + abi.SyscallName(int(it.sys))
	}
	return it.kind.String()
}
