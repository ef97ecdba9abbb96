package kernel

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// Config configures a Kernel.
type Config struct {
	Host   Host
	Facts  HostFacts
	Logger *slog.Logger // KTR-style debug logging of ptrace; nil for none
	// Warn receives one line per unimplemented syscall (once per syscall).
	Warn io.Writer
	// Strict makes an unimplemented syscall fatal (Run returns an error).
	Strict bool
	// Quantum is the scheduler's time slice in instructions (0: default).
	Quantum uint64
	// MaxInsns stops the run when the global instruction count reaches it (0: no limit).
	MaxInsns uint64
	// Interrupt, if set, is asked between scheduling slices with the
	// global instruction count; when it says true, RunUntil returns
	// ErrInterrupted there (a recorder's Ctrl-C while the guest computes
	// without stops; replay ends at the same count).
	Interrupt func(icount uint64) bool
}

// Kernel is the emulated operating system: processes, threads, the
// scheduler, signals, wait, exec, files and ptrace.
//
// A Kernel is not safe for concurrent use.
type Kernel struct {
	cfg   Config
	host  Host
	facts HostFacts
	log   *slog.Logger

	procs   []*Process // every process not yet reaped, ordered by pid
	threads map[int32]*Thread
	pidMap  map[int32]*Process
	nextPid int32
	nextTid int32
	initp   *Process

	icount   uint64    // global retired-instruction count: the clock of determinism
	runq     []*Thread // runnable threads, FIFO
	sleepers []*Thread // threads with a wake deadline
	quantum  uint64

	pipeSeq  int64
	pollWait waitQueue // threads in poll, select and epoll_wait
	// slices counts the slices started on a freshly picked thread (a
	// continuation after a replay stop is not one): Thread.lastSlice
	// orders threads by when they last ran.
	slices    uint64
	resumeBuf []*Thread // resumeProcess's scratch list
	// sliceYielded: the slice advance just returned from ended with
	// sched_yield.
	sliceYielded bool
	futexes      map[futexKey]*futexQueue
	lockTable    *lockTable // flock, POSIX and OFD locks (sys_flock.go); nil until the first lock

	warned map[int]bool
	fatal  error // an emulator error that ends the run

	// Observer, if set, sees each ptrace request (the seed's KTR points).
	Observer func(PtraceTrace)

	rc replayCtl // replay stops and debugger slots (replaycontrol.go)
	// running is the thread runSlice is advancing (its user code or its
	// syscall), nil between slices: the thread a host call is made for.
	running *Thread
}

// Default scheduling quantum in instructions.
const defaultQuantum = 200_000

// ErrDeadlock is returned when every thread is blocked with nothing to wake it.
var ErrDeadlock = errors.New("kernel: deadlock: every thread is blocked and nothing can wake one")

// ErrInsnLimit is returned when the instruction limit is reached.
var ErrInsnLimit = errors.New("kernel: instruction limit reached")

// ErrInterrupted is returned when Config.Interrupt asked to end the run.
var ErrInterrupted = errors.New("kernel: interrupted")

// New returns a kernel with an init process (pid 1).
func New(cfg Config) *Kernel {
	k := &Kernel{
		cfg:     cfg,
		host:    cfg.Host,
		facts:   cfg.Facts,
		log:     cfg.Logger,
		threads: make(map[int32]*Thread),
		pidMap:  make(map[int32]*Process),
		nextPid: 1,
		nextTid: abi.PID_MAX + 1,
		warned:  make(map[int]bool),
		quantum: cfg.Quantum,
	}
	if k.quantum == 0 {
		k.quantum = defaultQuantum
	}
	k.initp = k.newProcess(nil)
	k.initp.system = true
	k.initp.flag |= P_SYSTEM
	k.initp.comm = "init"
	return k
}

// Icount returns the global retired-instruction count.
func (k *Kernel) Icount() uint64 { return k.icount }

// Init returns the init process (pid 1).
func (k *Kernel) Init() *Process { return k.initp }

// Facts returns the host facts the kernel was configured with.
func (k *Kernel) Facts() HostFacts { return k.facts }

// NewTracerProcess creates a process that stands for a debugger outside the
// emulated machine (the recorder, replay): it has no threads and never runs,
// but it can be a parent, make ptrace requests and wait4.
func (k *Kernel) NewTracerProcess(name string) *Process {
	p := k.newProcess(k.initp)
	p.system = true
	p.comm = name
	p.cred = k.hostCred()
	return p
}

func (k *Kernel) hostCred() Credentials {
	f := k.facts
	return Credentials{Ruid: f.Uid, Euid: f.Euid, Suid: f.Euid, Rgid: f.Gid, Egid: f.Egid, Sgid: f.Egid, Groups: append([]uint32(nil), f.Groups...)}
}

func (k *Kernel) newProcess(parent *Process) *Process {
	pid := k.allocPid()
	p := &Process{k: k, Pid: pid, pptr: parent, flag: P_INMEM, umask: 0o022, sigparent: int32(abi.SIGCHLD)}
	if parent != nil {
		parent.children = append(parent.children, p)
		p.cred = parent.cred
		p.cred.Groups = append([]uint32(nil), parent.cred.Groups...)
		p.cwd = parent.cwd
		p.pgid, p.sid = parent.pgid, parent.sid
		p.rlimits = parent.rlimits
	} else {
		p.cwd = k.facts.Cwd
		p.pgid, p.sid = pid, pid
		p.rlimits = defaultRlimits()
	}
	k.pidMap[pid] = p
	k.procs = append(k.procs, p)
	sort.Slice(k.procs, func(i, j int) bool { return k.procs[i].Pid < k.procs[j].Pid })
	return p
}

func (k *Kernel) allocPid() int32 {
	for {
		pid := k.nextPid
		k.nextPid++
		if k.nextPid > abi.PID_MAX {
			k.nextPid = 2
		}
		if _, used := k.pidMap[pid]; !used {
			return pid
		}
	}
}

func (k *Kernel) newThread(p *Process, cpu *machine.CPU) *Thread {
	tid := k.nextTid
	k.nextTid++
	t := &Thread{Tid: tid, p: p, cpu: cpu, name: p.comm}
	p.threads = append(p.threads, t)
	k.threads[tid] = t
	return t
}

// pfind finds a live (not zombie) process: FreeBSD's pfind.
func (k *Kernel) pfind(pid int32) *Process {
	p := k.pidMap[pid]
	if p == nil || p.zombie || p.reaped {
		return nil
	}
	return p
}

// tdfind finds a live thread by id.
func (k *Kernel) tdfind(tid int32) *Thread {
	t := k.threads[tid]
	if t == nil || t.exited || t.p.zombie {
		return nil
	}
	return t
}

// Process returns the process with the given pid, zombies included.
func (k *Kernel) Process(pid int32) *Process { return k.pidMap[pid] }

// Thread returns the thread with the given id.
func (k *Kernel) Thread(tid int32) *Thread { return k.threads[tid] }

// Processes returns every process not yet reaped, ordered by pid.
func (k *Kernel) Processes() []*Process { return k.procs }

// setRunnable puts t on the run queue.
func (k *Kernel) setRunnable(t *Thread) {
	for _, r := range k.runq {
		if r == t {
			return
		}
	}
	k.runq = append(k.runq, t)
}

func (k *Kernel) removeRunnable(t *Thread) {
	for i, r := range k.runq {
		if r == t {
			k.runq = append(k.runq[:i], k.runq[i+1:]...)
			return
		}
	}
}

// canRun reports whether t may execute now.
func (t *Thread) canRun() bool {
	p := t.p
	if t.exited || t.blocked != nil || p.zombie {
		return false
	}
	if p.flag&P_STOPPED != 0 || p.step {
		return false
	}
	if t.dbgflags&TDB_SUSPEND != 0 && p.traced() {
		return false
	}
	return true
}

// RunUntil runs the machine until done reports true, every thread is blocked
// (ErrDeadlock), the instruction limit is hit, or an emulator error occurs.
// done is checked between scheduling slices.
func (k *Kernel) RunUntil(done func() bool) error {
	for !done() {
		if k.fatal != nil {
			return k.fatal
		}
		if k.cfg.MaxInsns != 0 && k.icount >= k.cfg.MaxInsns {
			return ErrInsnLimit
		}
		t, budget := k.rc.takeCont()
		if t == nil && k.cfg.Interrupt != nil && k.cfg.Interrupt(k.icount) {
			return ErrInterrupted // between slices (not inside a replay stop's)
		}
		if t == nil {
			if len(k.sleepers) > 0 {
				k.wakeSleepers()
			}
			k.checkTimers()
			t = k.pickThread()
			if t == nil {
				if len(k.sleepers) > 0 || k.nextTimer() != 0 {
					k.idleUntilTimer()
					continue
				}
				return ErrDeadlock
			}
			budget = k.quantum
			k.slices++
			t.lastSlice = k.slices
		}
		if k.rc.stopping(k) {
			k.rc.cont, k.rc.contBudget = t, budget
			if err := k.rc.err; err != nil {
				k.rc.err = nil
				return err
			}
			return ErrReplayStop
		}
		k.runSlice(t, budget)
	}
	return k.fatal
}

// pickThread takes the first runnable thread off the run queue (round robin).
func (k *Kernel) pickThread() *Thread {
	for len(k.runq) > 0 {
		t := k.runq[0]
		// Shift down rather than slice off the front, so the queue's
		// array is reused and setRunnable does not allocate.
		n := copy(k.runq, k.runq[1:])
		k.runq[n] = nil
		k.runq = k.runq[:n]
		if t.canRun() {
			return t
		}
	}
	return nil
}

// Running returns the thread the kernel is running (user code or a syscall
// handler, which makes the host calls), or nil when none is (spawning, a
// debugger's request).
func (k *Kernel) Running() *Thread { return k.running }

// runSlice runs t for at most budget instructions (a quantum, or what a
// replay stop left of one) and requeues it if it can still run.
func (k *Kernel) runSlice(t *Thread, budget uint64) {
	if k.cfg.MaxInsns != 0 && k.cfg.MaxInsns-k.icount < budget {
		budget = k.cfg.MaxInsns - k.icount
	}
	k.running = t
	left := k.advance(t, budget)
	k.running = nil
	yielded := k.sliceYielded
	k.sliceYielded = false
	if left > 0 && !yielded && t.canRun() && k.rc.stopping(k) {
		// A replay stop cut the slice short: resume it later (replaycontrol.go).
		k.rc.cont, k.rc.contBudget = t, left
		return
	}
	if t.canRun() {
		k.setRunnable(t)
	}
}

// wake makes a blocked thread runnable again; its syscall is re-run.
func (k *Kernel) wake(t *Thread) {
	if t.blocked != nil {
		t.blocked.remove(t)
		t.blocked = nil
	}
	k.removeSleeper(t)
	if t.canRun() {
		k.setRunnable(t)
	}
}

// resumeProcess puts every runnable thread of p back on the run queue
// after a stop ends: the threads that ran longest ago first (those that
// never ran, in thread order, before all), so that a thread stopping more
// often than once a quantum cannot keep its siblings from running. A trace
// recorded before this rule (HostFacts.LegacyScheduler) replays with the
// old one: thread order.
func (k *Kernel) resumeProcess(p *Process) {
	if k.cfg.Facts.LegacyScheduler {
		for _, t := range p.threads {
			if t.canRun() {
				k.setRunnable(t)
			}
		}
		return
	}
	runnable := k.resumeBuf[:0]
	for _, t := range p.threads {
		if t.canRun() {
			runnable = append(runnable, t)
		}
	}
	slices.SortStableFunc(runnable, func(a, b *Thread) int { return cmp.Compare(a.lastSlice, b.lastSlice) })
	for i, t := range runnable {
		k.setRunnable(t)
		runnable[i] = nil
	}
	k.resumeBuf = runnable[:0]
}

// fail records an emulator error that ends the run.
func (k *Kernel) fail(format string, args ...any) {
	if k.fatal == nil {
		k.fatal = fmt.Errorf(format, args...)
	}
}

// waitQueue is a list of sleeping threads (a FreeBSD wait channel).
type waitQueue struct {
	waiters []*Thread
}

func (q *waitQueue) add(t *Thread) {
	q.waiters = append(q.waiters, t)
}

func (q *waitQueue) remove(t *Thread) {
	for i, w := range q.waiters {
		if w == t {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			return
		}
	}
}

// wakeAll wakes every sleeper on q, in the order they slept.
func (k *Kernel) wakeAll(q *waitQueue) {
	ws := q.waiters
	q.waiters = nil
	for _, t := range ws {
		t.blocked = nil
		k.removeSleeper(t)
		if t.canRun() {
			k.setRunnable(t)
		}
	}
}

// wakeN wakes up to n sleepers on q and returns how many it woke.
func (k *Kernel) wakeN(q *waitQueue, n int, match func(*Thread) bool) int {
	woken := 0
	var keep []*Thread
	for _, t := range q.waiters {
		if woken < n && (match == nil || match(t)) {
			t.blocked = nil
			k.removeSleeper(t)
			if t.canRun() {
				k.setRunnable(t)
			}
			woken++
			continue
		}
		keep = append(keep, t)
	}
	q.waiters = keep
	return woken
}

// sleepOn blocks t on q (optionally until deadline, host-clock ns; 0 = none).
func (k *Kernel) sleepOn(t *Thread, q *waitQueue, deadline int64) {
	t.blocked = q
	q.add(t)
	t.wakeAt = deadline
	if deadline != 0 {
		k.sleepers = append(k.sleepers, t)
	}
	k.removeRunnable(t)
}

func (k *Kernel) removeSleeper(t *Thread) {
	for i, s := range k.sleepers {
		if s == t {
			k.sleepers = append(k.sleepers[:i], k.sleepers[i+1:]...)
			break
		}
	}
}

// wakeSleepers wakes the threads whose deadline has passed. It only asks the
// host for the time when someone is sleeping.
func (k *Kernel) wakeSleepers() bool {
	if len(k.sleepers) == 0 {
		return false
	}
	now := k.clock(abi.CLOCK_MONOTONIC)
	woke := false
	for _, t := range append([]*Thread(nil), k.sleepers...) {
		if t.wakeAt != 0 && now >= t.wakeAt {
			t.timedOut = true
			k.wake(t)
			woke = true
		}
	}
	return woke
}

// idleUntilTimer asks the host to sleep until the earliest deadline.
func (k *Kernel) idleUntilTimer() {
	earliest := k.nextTimer()
	for _, t := range k.sleepers {
		if earliest == 0 || t.wakeAt < earliest {
			earliest = t.wakeAt
		}
	}
	now := k.clock(abi.CLOCK_MONOTONIC)
	if d := earliest - now; d > 0 {
		k.host.Call(&HostCall{Op: HostSleep, Args: []int64{d}})
	}
	k.wakeSleepers()
	k.checkTimers()
}

// clock reads a host clock in nanoseconds.
func (k *Kernel) clock(id int) int64 {
	r := k.host.Call(&HostCall{Op: HostClock, Args: []int64{int64(id)}})
	return r.Ret
}
