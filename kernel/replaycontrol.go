package kernel

import (
	"errors"
	"fmt"

	"ptrec/machine"
)

// Replay control: what a replay needs from the scheduler to stop at an
// exact instruction and to watch the guest without the guest noticing.
//
// A stop happens between two user instructions. RunUntil checks the stop
// conditions after it has picked the next thread to run, so the state at a
// stop is canonical: "thread T is about to execute the instruction that
// will bring the global count to Icount()+1", whatever the way the stop was
// reached (a position, a breakpoint, a watchpoint). The picked thread and
// what is left of its time slice are kept, and the next RunUntil resumes
// exactly there: stopping never changes the schedule.

// ErrReplayStop is returned by RunUntil (and so by Wait4) when a replay stop
// condition set with SetReplayStop or a debugger slot is met.
var ErrReplayStop = errors.New("kernel: stopped for the replay")

// SlotKind is what a debugger slot watches.
type SlotKind uint8

// Slot kinds.
const (
	SlotExec   SlotKind = iota // execution of the instruction at Addr
	SlotWrite                  // a write to [Addr, Addr+Len)
	SlotAccess                 // a read or write of [Addr, Addr+Len)
)

func (s SlotKind) String() string {
	switch s {
	case SlotExec:
		return "exec"
	case SlotWrite:
		return "write"
	case SlotAccess:
		return "access"
	}
	return fmt.Sprintf("SlotKind(%d)", uint8(s))
}

// DebugSlot is a breakpoint or watchpoint of the replay's debugger.
// Execution breakpoints, any number of them, are a machine.BreakSet the
// CPU consults as it enters code pages. A watchpoint lives in a hardware
// debug register the guest does not use, only while a thread runs; the
// guest's own debug registers are unchanged.
type DebugSlot struct {
	Kind SlotKind
	Addr uint64 // aligned to Len for watchpoints
	Len  int    // 1, 2, 4 or 8 for watchpoints
}

// SlotHit is a debugger slot that fired.
type SlotHit struct {
	Slot   int // index in the slots given to SetDebugSlots
	Tid    int32
	Icount uint64 // global count: before an exec hit's instruction, after a watch hit's
}

// ErrNoDebugSlot is returned when the debugger's watchpoints do not fit in
// the debug registers left free by the guest (execution breakpoints are
// not limited).
var ErrNoDebugSlot = errors.New("kernel: more watchpoints than free debug registers (4)")

// replayCtl is the kernel side of replay control. The stop conditions and
// slots are set by the replay before each run; cont, contBudget and last
// are scheduler state (copied by snapshots).
type replayCtl struct {
	stopOn  bool
	stopAt  uint64 // stop when the global count reaches it (if stopOn)
	stopTid int32  // stop when this thread's count reaches stopTAt (0: never)
	stopTAt uint64
	slots   []DebugSlot
	bps     *machine.BreakSet // the exec slots' addresses (nil: none)
	watches int               // the number of watch slots
	hit     *SlotHit
	skipTid int32 // the next instruction of skipTid at skipPC ignores exec slots
	skipPC  uint64
	err     error
	base    uint64 // global count minus the running CPU's count (valid in runCPU)

	cont       *Thread // the picked thread a stop interrupted
	contBudget uint64  // what is left of its slice
	last       *Thread // the thread that ran last
}

// ReplayStop is where RunUntil stops for a replay.
type ReplayStop struct {
	At       bool   // stop when the global count reaches Icount
	Icount   uint64 //
	Tid      int32  // if not 0, stop when this thread's own count reaches ThreadIcount
	ThreadAt uint64
}

// SetReplayStop sets the stop conditions of the next runs.
func (k *Kernel) SetReplayStop(s ReplayStop) {
	k.rc.stopOn, k.rc.stopAt, k.rc.stopTid, k.rc.stopTAt = s.At, s.Icount, s.Tid, s.ThreadAt
}

// ResetReplayControl clears the stop conditions, slots, and any pending
// hit or skip (after a restore); the interrupted slice is kept.
func (k *Kernel) ResetReplayControl() {
	cont, budget, last := k.rc.cont, k.rc.contBudget, k.rc.last
	k.rc = replayCtl{cont: cont, contBudget: budget, last: last}
}

// SetDebugSlots sets the debugger's breakpoints and watchpoints.
// Any number of execution slots; at most 4 watch slots (fewer if the guest
// uses debug registers: ErrNoDebugSlot when a thread runs).
func (k *Kernel) SetDebugSlots(s []DebugSlot) error {
	var addrs []uint64
	watches := 0
	for _, d := range s {
		if d.Kind == SlotExec {
			addrs = append(addrs, d.Addr)
			continue
		}
		if d.Len != 1 && d.Len != 2 && d.Len != 4 && d.Len != 8 || d.Addr%uint64(d.Len) != 0 {
			return fmt.Errorf("kernel: watchpoint %#x length %d: want 1, 2, 4 or 8 bytes, aligned", d.Addr, d.Len)
		}
		watches++
	}
	if watches > 4 {
		return ErrNoDebugSlot
	}
	k.rc.slots = append([]DebugSlot(nil), s...)
	k.rc.bps = machine.NewBreakSet(addrs)
	k.rc.watches = watches
	return nil
}

// TakeHit returns the slot hit that caused the last stop, if any, and
// clears it.
func (k *Kernel) TakeHit() *SlotHit {
	h := k.rc.hit
	k.rc.hit = nil
	return h
}

// SkipExecOnce makes the next instruction of the current thread ignore
// execution slots at its address (resuming from a breakpoint hit executes
// the instruction, like the x86 resume flag).
func (k *Kernel) SkipExecOnce() {
	if t := k.CurrentThread(); t != nil {
		k.rc.skipTid, k.rc.skipPC = t.Tid, t.cpu.RIP
	}
}

// CurrentThread returns the thread a stop interrupted (the one about to
// run), else the thread that ran last, else nil.
func (k *Kernel) CurrentThread() *Thread {
	if t := k.rc.cont; t != nil && !t.exited {
		return t
	}
	if t := k.rc.last; t != nil && !t.exited {
		return t
	}
	return nil
}

// stopping reports whether a replay stop condition holds.
func (rc *replayCtl) stopping(k *Kernel) bool {
	if rc.hit != nil || rc.err != nil {
		return true
	}
	if rc.stopOn && k.icount >= rc.stopAt {
		return true
	}
	if rc.stopTid != 0 {
		if t := k.threads[rc.stopTid]; t != nil && t.cpu.Icount >= rc.stopTAt {
			return true
		}
	}
	return false
}

// takeCont returns the thread a stop interrupted and what is left of its
// slice, if it can still run.
func (rc *replayCtl) takeCont() (*Thread, uint64) {
	t, b := rc.cont, rc.contBudget
	rc.cont, rc.contBudget = nil, 0
	if t == nil || !t.canRun() || b == 0 {
		return nil, 0
	}
	return t, b
}

// runCPU runs t's CPU for at most budget instructions, stopping early at a
// replay stop position or a debugger slot hit (reported as ExitBudget).
func (k *Kernel) runCPU(t *Thread, budget uint64) machine.Exit {
	rc := &k.rc
	rc.last = t
	c := t.cpu
	rc.base = k.icount - c.Icount
	n := budget
	if rc.stopOn {
		if k.icount >= rc.stopAt {
			n = 0
		} else if d := rc.stopAt - k.icount; d < n {
			n = d
		}
	}
	if rc.stopTid == t.Tid {
		if c.Icount >= rc.stopTAt {
			n = 0
		} else if d := rc.stopTAt - c.Icount; d < n {
			n = d
		}
	}
	if n == 0 || rc.hit != nil {
		return machine.Exit{Reason: machine.ExitBudget}
	}
	skip := rc.skipTid == t.Tid && rc.skipPC == c.RIP
	rc.skipTid = 0
	if len(rc.slots) == 0 {
		return c.Run(n)
	}
	if rc.bps == nil {
		return k.runSlots(t, n)
	}
	c.SetBreakpoints(rc.bps, skip)
	ex := k.runSlots(t, n)
	hit := c.BreakHit()
	c.SetBreakpoints(nil, false)
	if !hit || ex.Reason != machine.ExitDebug {
		return ex
	}
	for si, s := range rc.slots {
		if s.Kind == SlotExec && s.Addr == c.RIP {
			rc.hit = &SlotHit{Slot: si, Tid: t.Tid, Icount: rc.base + c.Icount}
			break
		}
	}
	return machine.Exit{Reason: machine.ExitBudget}
}

// runSlots runs c with the debugger's watch slots in the debug registers
// the guest leaves free, and puts the guest's back afterwards. An exec
// slot hit (the CPU's BreakHit) is returned as is, ExitDebug.
func (k *Kernel) runSlots(t *Thread, n uint64) machine.Exit {
	rc := &k.rc
	c := t.cpu
	if rc.watches == 0 {
		return c.Run(n)
	}
	guest := c.DR
	dr := guest
	var owner [4]int // hardware slot -> debugger slot + 1
	var ours uint64
	next := 0
	for si, s := range rc.slots {
		if s.Kind == SlotExec {
			continue
		}
		for next < 4 && guest[7]>>(2*next)&3 != 0 {
			next++
		}
		if next == 4 {
			rc.err = ErrNoDebugSlot
			return machine.Exit{Reason: machine.ExitBudget}
		}
		i := next
		next++
		dr[i] = s.Addr
		rw, ln := uint64(1), uint64(0)
		if s.Kind == SlotAccess {
			rw = 3
		}
		switch s.Len {
		case 2:
			ln = 1
		case 8:
			ln = 2
		case 4:
			ln = 3
		}
		dr[7] |= 1<<(2*i) | rw<<(16+4*i) | ln<<(18+4*i)
		owner[i] = si + 1
		ours |= 1 << i
	}
	c.DR = dr
	ex := c.Run(n)
	after := c.DR[6]
	c.DR = guest
	if c.BreakHit() {
		return ex
	}
	if ex.Reason != machine.ExitDebug && ex.Reason != machine.ExitSingleStep {
		return ex
	}
	c.DR[6] = after &^ ours
	mine := after & ours
	if ex.Reason != machine.ExitDebug || mine == 0 {
		return ex
	}
	for i := 0; i < 4; i++ {
		if mine>>i&1 != 0 {
			rc.hit = &SlotHit{Slot: owner[i] - 1, Tid: t.Tid, Icount: rc.base + c.Icount}
			break
		}
	}
	if after&0xf&^ours != 0 {
		return ex // the guest's own debug registers fired too
	}
	if c.Flags()&machine.FlagTF != 0 {
		return machine.Exit{Reason: machine.ExitSingleStep}
	}
	c.DR[6] = guest[6]
	return machine.Exit{Reason: machine.ExitBudget}
}

// ExePath returns the path of the process's executable (/proc/self/exe).
func (p *Process) ExePath() string { return p.exe }

// VM returns the process's vm map.
func (p *Process) VM() *VMMap { return p.vm }
