package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"ptrec/kernel"
	"ptrec/machine"
)

// Positions, checkpoints and reverse execution.
//
// A position is a global instruction count: "@N" is the state where N user
// instructions have retired and the kernel is about to run the next one
// (the kernel's canonical replay stop, see kernel/replaycontrol.go). Event
// positions "#E" are the tracer loop's state just before it takes event E.
//
// Reverse execution restores the nearest earlier checkpoint and re-executes
// forward: replay is deterministic, so the state reached is the state that
// was there. Checkpoints are kernel snapshots (copy-on-write memory) plus
// the stream position and the tracer loop's state; they are taken every
// Interval instructions as the replay moves forward and thinned as they
// accumulate, keeping more of them near the current position.

// Direction is the direction Step and Continue go.
type Direction int8

// Directions.
const (
	Forward Direction = iota
	Reverse
)

func (d Direction) String() string {
	if d == Reverse {
		return "reverse"
	}
	return "forward"
}

// ErrNoHistory is returned when a reverse operation is at the start of the trace.
var ErrNoHistory = errors.New("replay: at the start of the trace")

// ErrReadOnly is returned by operations that would change a replayed
// process (register or memory writes): a replay only re-executes.
var ErrReadOnly = errors.New("replay: the replayed processes are read-only")

// StopReason says why a step or continue stopped.
type StopReason uint8

// Stop reasons.
const (
	StopStep       StopReason = iota // the requested number of instructions ran
	StopBreakpoint                   // a breakpoint was hit
	StopWatchpoint                   // a watchpoint was hit
	StopEnd                          // the end of the trace
	StopStart                        // the start of the trace (reverse)
	StopEvent                        // an event position was reached
)

var stopNames = [...]string{"step", "breakpoint", "watchpoint", "end", "start", "event"}

func (s StopReason) String() string {
	if int(s) < len(stopNames) {
		return stopNames[s]
	}
	return fmt.Sprintf("StopReason(%d)", uint8(s))
}

// Stop is where a step or continue ended.
type Stop struct {
	Reason StopReason
	Break  int    // breakpoint or watchpoint id (StopBreakpoint, StopWatchpoint)
	Tid    int32  // thread that hit it
	Addr   uint64 // watched address that was accessed
}

// Breakpoint is a breakpoint or watchpoint.
type Breakpoint struct {
	ID   int
	Kind kernel.SlotKind
	Addr uint64
	Len  int
	Spec string // as given (address or symbol)
}

// Position describes where the replay is.
type Position struct {
	Icount uint64
	Event  uint64 // the next event to be taken
	Tid    int32  // current thread (0 if none)
	PC     uint64
	End    bool // the trace's end was reached
}

type checkpoint struct {
	icount uint64
	pos    uint64
	snap   *kernel.Snapshot
	loop   loopState
	counts map[int32]uint64 // each thread's own instruction count
}

// debugger is the Replayer's debugging state.
type debugger struct {
	r        *Replayer
	ckpts    []*checkpoint // by icount, then stream position
	interval uint64
	maxCk    int
	memCap   uint64
	ratio    float64            // cap on checkpoint memory as a multiple of the guest's peak resident memory
	ledger   *kernel.PageLedger // the guest pages the checkpoints hold
	peakRSS  int                // the guest's peak resident pages at a checkpoint
	breaks   []*Breakpoint
	nextID   int
	tid      int32 // selected thread, 0: the kernel's current thread
	dir      Direction
	syms     map[string]*symtab
	total    uint64 // instructions of the whole trace, if known
}

// Default checkpoint policy. Checkpoint memory is what the checkpoints
// hold beyond the live guest: guest pages no longer in the guest's address
// spaces (counted once however many checkpoints share them) plus each
// checkpoint's own copy of the kernel (objects, CPUs, page tables). It is
// capped by DefaultCheckpointMemory bytes (--checkpoint-memory) and by
// DefaultCheckpointRatio times the guest's peak resident memory, but never
// below minCheckpointMemory. The accounting counts pages, not Go heap
// statistics, so where checkpoints land is deterministic.
const (
	DefaultCheckpointInterval = 1 << 20
	DefaultCheckpointMemory   = 1 << 30
	DefaultCheckpointRatio    = 2.0
	minCheckpointMemory       = 4 << 20
	maxCheckpoints            = 256
	// A run to a position takes a checkpoint interval/nearStopDiv
	// instructions before it.
	nearStopDiv = 16
)

func (d *debugger) init(r *Replayer) {
	d.r = r
	d.interval = DefaultCheckpointInterval
	d.maxCk = maxCheckpoints
	d.memCap = DefaultCheckpointMemory
	d.ratio = DefaultCheckpointRatio
	d.ledger = kernel.NewPageLedger()
	d.nextID = 1
	d.syms = make(map[string]*symtab)
	d.checkpoint()
}

// SetCheckpointPolicy sets the instruction interval between checkpoints
// and the cap on the memory they hold (0 keeps a value).
func (r *Replayer) SetCheckpointPolicy(interval, memory uint64) {
	if interval != 0 {
		r.dbg.interval = interval
	}
	if memory != 0 {
		r.dbg.memCap = memory
	}
}

// SetCheckpointRatio sets the cap on checkpoint memory as a multiple of
// the guest's peak resident memory (0 keeps the value).
func (r *Replayer) SetCheckpointRatio(ratio float64) {
	if ratio > 0 {
		r.dbg.ratio = ratio
	}
}

// Checkpoints returns the instruction counts of the checkpoints held.
func (r *Replayer) Checkpoints() []uint64 {
	var out []uint64
	for _, c := range r.dbg.ckpts {
		out = append(out, c.icount)
	}
	return out
}

// SetDirection sets the direction of Step and Continue.
func (r *Replayer) SetDirection(d Direction) { r.dbg.dir = d }

// Direction returns the direction of Step and Continue.
func (r *Replayer) Direction() Direction { return r.dbg.dir }

func (d *debugger) checkpoint() {
	r := d.r
	ic := r.k.Icount()
	pos := r.s.taken
	i := sort.Search(len(d.ckpts), func(i int) bool {
		c := d.ckpts[i]
		return c.icount > ic || c.icount == ic && c.pos >= pos
	})
	if i < len(d.ckpts) && d.ckpts[i].icount == ic && d.ckpts[i].pos == pos {
		return
	}
	c := &checkpoint{icount: ic, pos: pos, snap: r.k.Snapshot(), loop: r.loop, counts: threadCounts(r.k)}
	c.loop.lastSyslog = bytes.Clone(c.loop.lastSyslog) // r.sysBuf is reused
	c.loop.lastDelta = bytes.Clone(c.loop.lastDelta)   // and r.deltaBuf
	d.ledger.Add(c.snap)
	d.ckpts = append(d.ckpts, nil)
	copy(d.ckpts[i+1:], d.ckpts[i:])
	d.ckpts[i] = c
	if n := r.k.ResidentPages(); n > d.peakRSS {
		d.peakRSS = n
	}
	d.thin()
}

// limit returns the cap on checkpoint memory in bytes.
func (d *debugger) limit() uint64 {
	l := uint64(d.ratio * float64(d.peakRSS) * machine.PageSize)
	if l < minCheckpointMemory {
		l = minCheckpointMemory
	}
	if d.memCap < l {
		l = d.memCap
	}
	return l
}

// cost returns the checkpoints' memory beyond the live guest's (live):
// pages in bytes, and their kernel copies' overhead.
func (d *debugger) cost(live kernel.PageSet) (pages, overhead uint64) {
	snaps := make([]*kernel.Snapshot, len(d.ckpts))
	for i, c := range d.ckpts {
		snaps[i] = c.snap
		overhead += c.snap.OverheadBytes() + uint64(cap(c.loop.lastDelta))
	}
	return uint64(d.ledger.Beyond(live, snaps)) * machine.PageSize, overhead
}

// CheckpointMemory reports the checkpoints' memory: guest pages they hold
// beyond the live guest's, in bytes, the overhead of their kernel copies in
// bytes, and the guest's resident memory now and at its peak, in bytes.
func (r *Replayer) CheckpointMemory() (pages, overhead, rss, peak uint64) {
	pages, overhead = r.dbg.cost(r.k.LivePages())
	return pages, overhead, uint64(r.k.ResidentPages()) * machine.PageSize, uint64(r.dbg.peakRSS) * machine.PageSize
}

func threadCounts(k *kernel.Kernel) map[int32]uint64 {
	m := make(map[int32]uint64)
	for _, p := range k.Processes() {
		for _, t := range p.Threads() {
			m[t.Tid] = t.CPU().Icount
		}
	}
	return m
}

// thin drops checkpoints while there are too many or they hold too much
// memory: the one whose removal leaves the smallest gap relative to its
// distance from the current position goes first, which spaces them
// logarithmically going back. The first checkpoint (the start) and the
// last one at or before the current position (the one a reverse step
// restores) are always kept.
func (d *debugger) thin() {
	cur := d.r.k.Icount()
	live := d.r.k.LivePages()
	pages, overhead := d.cost(live)
	limit := d.limit()
	for len(d.ckpts) > 2 && (len(d.ckpts) > d.maxCk || pages+overhead > limit) {
		recent := 0
		for i, c := range d.ckpts {
			if c.icount <= cur {
				recent = i
			}
		}
		best, bestScore := -1, 0.0
		for i := 1; i < len(d.ckpts); i++ {
			if i == recent {
				continue
			}
			var gap float64
			if i+1 < len(d.ckpts) {
				gap = float64(d.ckpts[i+1].icount - d.ckpts[i-1].icount)
			} else {
				gap = 2 * float64(d.ckpts[i].icount-d.ckpts[i-1].icount)
			}
			dist := float64(absDiff(cur, d.ckpts[i].icount)) + float64(d.interval)
			if s := gap / dist; best < 0 || s < bestScore {
				best, bestScore = i, s
			}
		}
		if best < 0 {
			break
		}
		c := d.ckpts[best]
		freed := uint64(d.ledger.Unique(c.snap, live)) * machine.PageSize
		d.ledger.Remove(c.snap)
		d.ckpts = append(d.ckpts[:best], d.ckpts[best+1:]...)
		pages -= min(pages, freed)
		overhead -= min(overhead, c.snap.OverheadBytes()+uint64(cap(c.loop.lastDelta)))
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}

// restore puts the replay back at checkpoint c.
func (d *debugger) restore(c *checkpoint) error {
	r := d.r
	tracer, child := r.tracer.Pid, r.child.Pid
	r.k = c.snap.Kernel()
	r.k.ResetReplayControl()
	r.tracer, r.child = r.k.Process(tracer), r.k.Process(child)
	r.loop = c.loop
	r.err = nil
	if err := r.s.seek(c.pos); err != nil {
		return fmt.Errorf("replay: seeking to event %d: %w", c.pos, err)
	}
	return nil
}

// latest returns the last checkpoint satisfying ok.
func (d *debugger) latest(ok func(*checkpoint) bool) *checkpoint {
	for i := len(d.ckpts) - 1; i >= 0; i-- {
		if ok(d.ckpts[i]) {
			return d.ckpts[i]
		}
	}
	return d.ckpts[0]
}

// run moves forward until stop holds, a slot fires (with slots), the
// stream reaches event stopEvent, or the trace ends, taking checkpoints on
// the way.
func (d *debugger) run(stop kernel.ReplayStop, slots bool, stopEvent uint64) (stopWhy, *kernel.SlotHit, error) {
	r := d.r
	if slots {
		if err := r.k.SetDebugSlots(d.slots()); err != nil {
			return 0, nil, err
		}
	} else {
		r.k.SetDebugSlots(nil)
	}
	defer r.k.SetDebugSlots(nil)
	for {
		ic := r.k.Icount()
		b := (ic/d.interval + 1) * d.interval
		// One checkpoint shortly before a target position, so that
		// reverse steps from there re-execute little.
		if near := d.interval / nearStopDiv; stop.At && stop.Icount > ic+near && stop.Icount-near < b {
			b = stop.Icount - near
		}
		s := stop
		seg := !s.At || b < s.Icount
		if seg {
			s.At, s.Icount = true, b
		}
		r.k.SetReplayStop(s)
		why, err := r.forward(stopEvent)
		if err != nil {
			return why, nil, err
		}
		if why != stoppedKernel {
			if why == stoppedEnd {
				// The guest's memory is gone: what the checkpoints
				// shared with it is theirs alone now.
				d.thin()
			}
			return why, nil, nil
		}
		if h := r.k.TakeHit(); h != nil {
			return why, h, nil
		}
		if d.userStop(stop) || !seg {
			if r.k.Icount() >= b {
				d.checkpoint()
			}
			return why, nil, nil
		}
		d.checkpoint()
		if p := r.opts.Progress; p != nil {
			p(r.k.Icount(), d.total)
		}
	}
}

func (d *debugger) userStop(s kernel.ReplayStop) bool {
	k := d.r.k
	if s.At && k.Icount() >= s.Icount {
		return true
	}
	if s.Tid != 0 {
		if t := k.Thread(s.Tid); t != nil && t.CPU().Icount >= s.ThreadAt {
			return true
		}
	}
	return false
}

func (d *debugger) slots() []kernel.DebugSlot {
	var s []kernel.DebugSlot
	for _, b := range d.breaks {
		s = append(s, kernel.DebugSlot{Kind: b.Kind, Addr: b.Addr, Len: b.Len})
	}
	return s
}

// GotoIcount moves to position @ic (forward or backward).
func (r *Replayer) GotoIcount(ic uint64) error {
	d := &r.dbg
	if r.k.Icount() > ic || r.loop.done && r.k.Icount() >= ic {
		if err := d.restore(d.latest(func(c *checkpoint) bool { return c.icount <= ic })); err != nil {
			return err
		}
	}
	_, _, err := d.run(kernel.ReplayStop{At: true, Icount: ic}, false, stopNone)
	return err
}

// GotoEvent moves to the point just before the tracer loop takes event e
// (the first such point after e if e is taken inside the kernel).
func (r *Replayer) GotoEvent(e uint64) error {
	d := &r.dbg
	if e > r.events {
		return fmt.Errorf("replay: event %d: the trace has %d events", e, r.events)
	}
	if r.s.taken > e || r.loop.done {
		if err := d.restore(d.latest(func(c *checkpoint) bool { return c.pos <= e })); err != nil {
			return err
		}
	}
	_, _, err := d.run(kernel.ReplayStop{}, false, e)
	return err
}

// Step executes n instructions (of all threads, in the recorded order) in
// the current direction.
func (r *Replayer) Step(n uint64) error {
	ic := r.k.Icount()
	if r.dbg.dir == Reverse {
		if n > ic {
			n = ic
		}
		return r.GotoIcount(ic - n)
	}
	return r.GotoIcount(ic + n)
}

// StepThread executes n instructions of thread tid in the current
// direction (other threads run as recorded in between).
func (r *Replayer) StepThread(tid int32, n uint64) (Stop, error) {
	d := &r.dbg
	t := r.k.Thread(tid)
	if t == nil {
		return Stop{}, fmt.Errorf("replay: no thread %d", tid)
	}
	c := t.CPU().Icount
	if d.dir == Reverse {
		if c == 0 {
			return Stop{Reason: StopStart, Tid: tid}, nil
		}
		if n > c {
			n = c
		}
		want := c - n
		ck := d.latest(func(ck *checkpoint) bool {
			tc, ok := ck.counts[tid]
			return !ok || tc <= want
		})
		if err := d.restore(ck); err != nil {
			return Stop{}, err
		}
		_, _, err := d.run(kernel.ReplayStop{Tid: tid, ThreadAt: want}, false, stopNone)
		return Stop{Reason: StopStep, Tid: tid}, err
	}
	why, _, err := d.run(kernel.ReplayStop{Tid: tid, ThreadAt: c + n}, false, stopNone)
	if why == stoppedEnd {
		return Stop{Reason: StopEnd}, err
	}
	return Stop{Reason: StopStep, Tid: tid}, err
}

// Continue runs in the current direction to the next (or previous)
// breakpoint or watchpoint hit, or to the end (or start) of the trace.
func (r *Replayer) Continue() (Stop, error) {
	if r.dbg.dir == Reverse {
		return r.dbg.reverseContinue()
	}
	d := &r.dbg
	r.k.SkipExecOnce()
	why, h, err := d.run(kernel.ReplayStop{}, len(d.breaks) > 0, stopNone)
	if err != nil {
		return Stop{}, err
	}
	if why == stoppedEnd {
		return Stop{Reason: StopEnd}, nil
	}
	return d.stopFor(h), nil
}

func (d *debugger) stopFor(h *kernel.SlotHit) Stop {
	if h == nil || h.Slot >= len(d.breaks) {
		return Stop{Reason: StopStep}
	}
	b := d.breaks[h.Slot]
	if b.Kind == kernel.SlotExec {
		return Stop{Reason: StopBreakpoint, Break: b.ID, Tid: h.Tid, Addr: b.Addr}
	}
	return Stop{Reason: StopWatchpoint, Break: b.ID, Tid: h.Tid, Addr: b.Addr}
}

type scanHit struct {
	hit    kernel.SlotHit
	n      int    // its index among the hits of the scan
	tcount uint64 // the hitting thread's own count after the hit
}

// reverseContinue finds the last hit before the current position: it
// re-executes each checkpoint interval going back, with the slots armed,
// and goes to the last hit found. An execution breakpoint stops before the
// instruction; a watchpoint stops before the instruction that accessed the
// memory (going backwards, that is where the access is crossed).
func (d *debugger) reverseContinue() (Stop, error) {
	r := d.r
	end := r.k.Icount()
	endEvent := r.s.taken
	if len(d.breaks) > 0 {
		hi := end
		for {
			ck := d.latest(func(c *checkpoint) bool { return c.icount < hi || c == d.ckpts[0] })
			hits, err := d.scan(ck, hi, end, endEvent)
			if err != nil {
				return Stop{}, err
			}
			if len(hits) > 0 {
				last := hits[len(hits)-1]
				if err := d.restore(ck); err != nil {
					return Stop{}, err
				}
				b := d.breaks[last.hit.Slot]
				if b.Kind == kernel.SlotExec {
					if err := d.toHit(last.n); err != nil {
						return Stop{}, err
					}
				} else if _, _, err := d.run(kernel.ReplayStop{Tid: last.hit.Tid, ThreadAt: last.tcount - 1}, false, stopNone); err != nil {
					return Stop{}, err
				}
				st := d.stopFor(&last.hit)
				d.tid = last.hit.Tid
				return st, nil
			}
			if ck == d.ckpts[0] {
				break
			}
			hi = ck.icount
		}
	}
	if err := d.restore(d.ckpts[0]); err != nil {
		return Stop{}, err
	}
	_, _, err := d.run(kernel.ReplayStop{At: true, Icount: 0}, false, stopNone)
	return Stop{Reason: StopStart}, err
}

// scan re-executes from ck to position hi with the slots armed and returns
// the hits strictly before the current position (end, endEvent).
func (d *debugger) scan(ck *checkpoint, hi, end, endEvent uint64) ([]scanHit, error) {
	r := d.r
	if err := d.restore(ck); err != nil {
		return nil, err
	}
	var hits []scanHit
	n := 0
	for {
		why, h, err := d.run(kernel.ReplayStop{At: true, Icount: hi}, true, stopNone)
		if err != nil {
			return nil, err
		}
		if h == nil || why == stoppedEnd {
			return hits, nil
		}
		b := d.breaks[h.Slot]
		before := h.Icount < end || (h.Icount == end && b.Kind != kernel.SlotExec)
		if h.Icount == end && r.loop.done {
			before = false
		}
		if before {
			var tc uint64
			if t := r.k.Thread(h.Tid); t != nil {
				tc = t.CPU().Icount
			}
			hits = append(hits, scanHit{hit: *h, n: n, tcount: tc})
		}
		n++
		r.k.SkipExecOnce()
	}
}

// toHit runs forward from a restored checkpoint to the nth slot hit.
func (d *debugger) toHit(n int) error {
	for i := 0; ; i++ {
		_, h, err := d.run(kernel.ReplayStop{}, true, stopNone)
		if err != nil {
			return err
		}
		if h == nil {
			return fmt.Errorf("replay: re-execution did not reach hit %d (nondeterminism)", n)
		}
		if i == n {
			return nil
		}
		d.r.k.SkipExecOnce()
	}
}

// AddBreakpoint adds an execution breakpoint at addr (any number of them).
func (r *Replayer) AddBreakpoint(addr uint64, spec string) (int, error) {
	return r.dbg.add(&Breakpoint{Kind: kernel.SlotExec, Addr: addr, Len: 1, Spec: spec})
}

// AddWatchpoint adds a watchpoint on [addr, addr+n) (kind SlotWrite or
// SlotAccess). A range that is not one aligned 1, 2, 4 or 8 byte unit takes
// several debug registers; the first id is returned.
func (r *Replayer) AddWatchpoint(addr uint64, n int, kind kernel.SlotKind, spec string) (int, error) {
	if n <= 0 || n > 32 {
		return 0, fmt.Errorf("replay: watch length %d: want 1 to 32 bytes", n)
	}
	var parts []*Breakpoint
	for a, end := addr, addr+uint64(n); a < end; {
		l := uint64(8)
		for l > 1 && (a%l != 0 || a+l > end) {
			l /= 2
		}
		parts = append(parts, &Breakpoint{Kind: kind, Addr: a, Len: int(l), Spec: spec})
		a += l
	}
	if r.dbg.watches()+len(parts) > 4 {
		return 0, kernel.ErrNoDebugSlot
	}
	id := 0
	for _, p := range parts {
		i, err := r.dbg.add(p)
		if err != nil {
			return 0, err
		}
		if id == 0 {
			id = i
		}
	}
	return id, nil
}

// watches returns the number of watchpoints (debug registers) in use;
// execution breakpoints are not limited.
func (d *debugger) watches() int {
	n := 0
	for _, b := range d.breaks {
		if b.Kind != kernel.SlotExec {
			n++
		}
	}
	return n
}

func (d *debugger) add(b *Breakpoint) (int, error) {
	if b.Kind != kernel.SlotExec && d.watches() >= 4 {
		return 0, kernel.ErrNoDebugSlot
	}
	b.ID = d.nextID
	d.nextID++
	d.breaks = append(d.breaks, b)
	return b.ID, nil
}

// Delete removes breakpoint or watchpoint id (0: all).
func (r *Replayer) Delete(id int) error {
	d := &r.dbg
	if id == 0 {
		d.breaks = nil
		return nil
	}
	for i, b := range d.breaks {
		if b.ID == id {
			d.breaks = append(d.breaks[:i], d.breaks[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("replay: no breakpoint %d", id)
}

// DeleteAt removes the breakpoints or watchpoints of kind at addr.
func (r *Replayer) DeleteAt(kind kernel.SlotKind, addr uint64) {
	d := &r.dbg
	keep := d.breaks[:0]
	for _, b := range d.breaks {
		if b.Kind != kind || b.Addr != addr {
			keep = append(keep, b)
		}
	}
	d.breaks = keep
}

// Breakpoints returns the breakpoints and watchpoints.
func (r *Replayer) Breakpoints() []*Breakpoint { return r.dbg.breaks }

// Thread returns the current thread: the selected one if it is alive,
// else the one the kernel is about to run (or ran last), else the first
// live thread of the recorded program.
func (r *Replayer) Thread() *kernel.Thread {
	if r.dbg.tid != 0 {
		if t := r.k.Thread(r.dbg.tid); t != nil {
			return t
		}
	}
	if t := r.k.CurrentThread(); t != nil {
		return t
	}
	for _, p := range r.k.Processes() {
		if p == r.tracer || p == r.k.Init() {
			continue
		}
		for _, t := range p.Threads() {
			return t
		}
	}
	return nil
}

// SelectThread makes tid the current thread (0: follow the kernel).
func (r *Replayer) SelectThread(tid int32) error {
	if tid != 0 && r.k.Thread(tid) == nil {
		return fmt.Errorf("replay: no thread %d", tid)
	}
	r.dbg.tid = tid
	return nil
}

// Threads returns every thread of the replayed processes, by process then
// creation order.
func (r *Replayer) Threads() []*kernel.Thread {
	var out []*kernel.Thread
	for _, p := range r.k.Processes() {
		if p == r.tracer || p == r.k.Init() || p.Exited() {
			continue
		}
		out = append(out, p.Threads()...)
	}
	return out
}

// Where returns the current position.
func (r *Replayer) Where() Position {
	p := Position{Icount: r.k.Icount(), Event: r.s.taken, End: r.loop.done}
	if t := r.Thread(); t != nil {
		p.Tid = t.Tid
		p.PC = t.CPU().RIP
	}
	return p
}

// Status returns the recorded exit status once the end was reached.
func (r *Replayer) Status() (int32, bool) { return r.loop.res.Status, r.loop.done }

// Hash returns a digest of the current thread's registers and its
// process's memory (mappings and contents).
func (r *Replayer) Hash() string {
	h := sha256.New()
	if t := r.Thread(); t != nil {
		t.CPU().Hash(h)
		t.Process().Memory().Hash(h)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ReadMemory reads the current process's memory, ignoring protections.
func (r *Replayer) ReadMemory(addr uint64, n int) ([]byte, error) {
	t := r.Thread()
	if t == nil {
		return nil, errors.New("replay: no process")
	}
	if n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("replay: read of %d bytes: at most 1 MiB", n)
	}
	b := make([]byte, n)
	got, err := t.Process().Memory().ReadForce(addr, b)
	if got == 0 && n > 0 {
		if err == nil {
			err = &machine.Fault{Addr: addr}
		}
		return nil, err
	}
	return b[:got], nil
}
