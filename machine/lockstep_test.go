package machine

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// Lockstep differential test (issue 3, "Proof"; STYLE.md rule 39): each
// guest program — C (musl and glibc static) and assembly from testdata/bin,
// Go from testdata/go built at test time — runs natively under the host's
// ptrace and on the machine side by side. Both start from the same state —
// the ELF's PT_LOAD segments are loaded into the machine by a small loader
// here, and the native process's initial stack (argv, envp, auxv, AT_RANDOM
// bytes) and registers are copied into it at the first instruction after
// execve — and are single-stepped together. After every instruction the
// GPRs, rip, rflags (minus the flags the manual leaves undefined for that
// instruction, see undefinedFlags), fs/gs base, x87 state, MXCSR, XMM0-15
// and the upper halves of YMM0-15 must be equal. At every syscall the
// writable memory of both must be equal too (see syncWritable for which
// pages are compared).
//
// What only a kernel or the host decides is copied from the native side into
// the machine: a syscall is executed natively only, then its result
// registers, fs_base (arch_prctl), the memory it wrote and the mappings it
// made or changed (read from /proc/PID/maps and /proc/PID/mem) are copied;
// rdtsc/rdtscp/rdrand/rdseed complete with the native values; a signal's
// frame and handler entry registers, and rt_sigreturn's registers, are
// copied whole. In the other direction, after a native cpuid or xgetbv the
// native registers are overwritten with the machine's results, so both
// sides take the same code paths although the host CPU has more features
// than the machine advertises. (A guest's own XSAVE with a feature mask
// beyond the machine's XCR0 would still store the host's extra components
// natively; no guest here does.) The vDSO is hidden (AT_SYSINFO_EHDR is turned into
// AT_IGNORE in the native auxv before the first instruction) so time calls
// are real syscalls on both sides. Threads and signals: see
// lockstep_native_test.go.
//
// Speed: almost all the time is the host's single-step round trip
// (PTRACE_SINGLESTEP + wait4, 25-45 us on the CI host, a VM, of which the
// #DB trap alone is about 15 us: a TF-driven SIGTRAP handler in-process
// steps at 14-16 us). Each program's tracer thread and native process are
// pinned to one CPU (a cross-CPU wake-up per step costs 50-85 us there),
// and programs run in parallel, one per CPU. Per instruction the rest is
// one PTRACE_GETREGS (~3 us), PTRACE_GETREGSET(NT_X86_XSTATE) only for
// instructions that may touch FP state (lsTouchesFP), the machine's step
// (~1 us) and an allocation-free comparison (<1 us). -lockstep.profile
// prints the split.
//
// The default run compares a fixed budget per program (lockstepProgs; about
// 20 million instructions in all, which the test logs); -short 2500 per
// program; -lockstep.long runs every program to its end with larger work
// sizes. Programs with known mismatches are listed in lockstepKnown: they
// run only in the long run, where their mismatches are printed and fail the
// test.

var (
	lockstepLong = flag.Bool("lockstep.long", false, "run the lockstep test over whole programs (slow)")
	lockstepOnly = flag.String("lockstep.prog", "", "run the lockstep test only for programs whose name contains this")
	lockstepMax  = flag.Uint64("lockstep.max", 0, "instructions per program in the lockstep test (0: default for the mode)")
	lockstepProf = flag.Bool("lockstep.profile", false, "log where the lockstep test's time goes, per program")
	// lockstepVerbose prints thread switches, blocked syscalls and signal
	// stops to stderr.
	lockstepVerbose = flag.Bool("lockstep.v", false, "trace the lockstep test's thread and signal events on stderr")
)

type lockstepProg struct {
	bin   string   // under testdata/bin, or go/NAME: testdata/go/NAME built at test time
	args  []string // after argv[0]
	long  []string // args in the long run, if different
	stdin string   // file under testdata/c/stdin, or "" for /dev/null
	ci    uint64   // instructions compared in the default run; 0: the whole program
}

// lockstepProgs are the programs compared, the longest first (they run two
// at a time, one per host CPU). The default run compares about 20
// million instructions: the short programs whole, the long ones (whole
// runs of 1.3 to over 20 million instructions) up to their budget ci. On
// the 2-core CI host (an AMD EPYC VM) the host's single-step round trip
// costs 25-45 us, so this takes 8-9 minutes; -lockstep.long runs every
// program to its end (about 10 minutes and more).
var lockstepProgs = []lockstepProg{
	{bin: "fp.musl", ci: 2000000},
	{bin: "fp.glibc", ci: 2000000},
	{bin: "sysio.glibc", ci: 1500000},
	{bin: "idioms.musl", long: []string{"4"}},  // 1.42M
	{bin: "idioms.glibc", long: []string{"4"}}, // 1.19M
	{bin: "sysio.musl"},                        // 1.28M
	{bin: "threads.musl", ci: 1400000},
	{bin: "threads.glibc", ci: 1400000},
	{bin: "go/goroutines", ci: 1000000},
	{bin: "go/gcheavy", ci: 1000000},
	{bin: "bench_hash.musl", args: []string{"20"}, ci: 1800000},
	{bin: "bench_fp.musl", args: []string{"20"}, ci: 1500000},
	{bin: "bench_mem.musl", args: []string{"1"}, ci: 1500000},
	{bin: "go/hello", args: []string{"one", "exit=3"}, stdin: "echoargs.in"}, // 0.4M
	{bin: "go/spawner"},                                                      // 0.33M
	{bin: "bench_sys.musl", args: []string{"1"}},                             // the rest: 10-110k each
	{bin: "files.musl", args: []string{"files.tmp"}},
	{bin: "files.glibc", args: []string{"files.tmp"}},
	{bin: "timerand.musl"},
	{bin: "timerand.glibc"},
	{bin: "signals.musl"},
	{bin: "signals.glibc"},
	{bin: "smc.musl"},
	{bin: "smc.glibc"},
	{bin: "echoargs.musl", args: []string{"one", "two three", "exit=3"}, stdin: "echoargs.in"},
	{bin: "echoargs.glibc", args: []string{"one", "two three", "exit=3"}, stdin: "echoargs.in"},
	{bin: "forkexec.musl"},
	{bin: "strops.asm"},
	{bin: "x87.asm"},
	{bin: "bitops.asm"},
	{bin: "atomics.asm"},
	{bin: "sse42.asm"},
}

// lockstepKnown lists the mismatches the long run found that are not fixed
// yet, by program. Those programs are left out of the default run (and
// their mismatches are printed and fail the long run), so CI covers what
// passes and nothing is skipped silently.
//
// Found so far (AMD EPYC host), all in the x87 status word's C1 bit, and
// fixed: fistp/frndint now set C1 when they round up; for fucomip the AMD
// host differs from the SDM and the comparison allows it (vendorC1).
// The history:
//
//	fistpll m64 (df 3d ..)  after an inexact conversion that rounded up the
//	                        host sets C1 (SDM FIST/FISTP: "C1 ... indicates
//	                        rounding direction if #P"), the machine clears it.
//	                        fsw before 0x3020: host 0x3a20, machine 0x3820.
//	frndint (d9 fc)         same: rounded up, host C1=1, machine C1=0
//	                        (fsw before 0x3020: host 0x3220, machine 0x3020).
//	fucomip st(1) (df e9)   C1 set before: the host leaves C1 set, the machine
//	                        clears it (the SDM says "C1 set to 0"; AMD keeps
//	                        it). fsw before 0x3220: host 0x3a20, machine 0x3820.
var lockstepKnown = map[string]string{}

// vendorC1 reports the instructions whose C1 result differs between Intel
// (the SDM, which the machine follows) and AMD hosts.
func vendorC1(op x86asm.Op) bool {
	switch op {
	case x86asm.FCOMI, x86asm.FCOMIP, x86asm.FUCOMI, x86asm.FUCOMIP:
		return true
	}
	return false
}

// lockstepShortInsns is the budget per program with -short.
const lockstepShortInsns = 2500

func TestLockstep(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("lockstep needs an x86-64 Linux host (host ptrace and the host CPU)")
	}
	var total, vex atomic.Uint64
	start := time.Now()
	lsInitCPUs()
	t.Run("prog", func(t *testing.T) {
		for _, p := range lockstepProgs {
			if *lockstepOnly != "" && !strings.Contains(p.bin, *lockstepOnly) {
				continue
			}
			t.Run(p.bin, func(t *testing.T) {
				t.Parallel()
				if why, ok := lockstepKnown[p.bin]; ok && !*lockstepLong {
					t.Skipf("known mismatches (lockstepKnown: %s); run with -lockstep.long", why)
				}
				max, args := p.ci, p.args
				if testing.Short() {
					max = lockstepShortInsns
				}
				if *lockstepLong {
					max = 0
					if p.long != nil {
						args = p.long
					}
				}
				if *lockstepMax != 0 {
					max = *lockstepMax
				}
				n, v := runLockstep(t, p, args, max)
				total.Add(n)
				vex.Add(v)
			})
		}
	})
	t.Logf("lockstep: %d instructions compared (%d VEX-encoded) in %v", total.Load(), vex.Load(), time.Since(start).Round(time.Millisecond))
}

// lsState is the comparable architectural state of one side.
type lsState struct {
	regs   [16]uint64
	rip    uint64
	flags  uint64
	fsBase uint64
	gsBase uint64
	fx     [512]byte
	ymmh   [256]byte // YMM0-15 bits 128-255
}

func (s *lsState) fromNative(r *unix.PtraceRegs, fx *[512]byte) {
	s.regs = [16]uint64{r.Rax, r.Rcx, r.Rdx, r.Rbx, r.Rsp, r.Rbp, r.Rsi, r.Rdi,
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15}
	s.rip = r.Rip
	s.flags = r.Eflags
	s.fsBase = r.Fs_base
	s.gsBase = r.Gs_base
	s.fx = *fx
}

func (s *lsState) fromCPU(c *CPU) {
	s.regs = c.Regs
	s.rip = c.RIP
	s.flags = c.Flags()
	s.fsBase = c.FSBase
	s.gsBase = c.GSBase
	c.FXSave(&s.fx)
	machineYMM(c, &s.ymmh)
}

// flagsCompared are the RFLAGS bits compared: the arithmetic flags, DF, and
// AC/ID. TF is the tracer's, RF is set by the host's debug-trap handling.
const flagsCompared = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagOF | FlagDF | FlagAC | FlagID

// diff lists the differences between native state n and machine state m,
// ignoring undef flags. FIP/FDP/FOP are not compared: AMD's FXSAVE stores
// them only while an x87 exception is pending (AMD APM vol. 2, FXSAVE), and
// the bytes 10-15 of each ST slot are reserved.
func (n *lsState) diff(m *lsState, undef uint64) []string {
	var d []string
	for i := range n.regs {
		if n.regs[i] != m.regs[i] {
			d = append(d, fmt.Sprintf("%s native %#x machine %#x", lsRegName[i], n.regs[i], m.regs[i]))
		}
	}
	if n.rip != m.rip {
		d = append(d, fmt.Sprintf("rip native %#x machine %#x", n.rip, m.rip))
	}
	mask := uint64(flagsCompared) &^ undef
	if n.flags&mask != m.flags&mask {
		d = append(d, fmt.Sprintf("rflags native %#x machine %#x (compared %#x, differ %#x)", n.flags, m.flags, mask, (n.flags^m.flags)&mask))
	}
	if n.fsBase != m.fsBase {
		d = append(d, fmt.Sprintf("fs_base native %#x machine %#x", n.fsBase, m.fsBase))
	}
	if n.gsBase != m.gsBase {
		d = append(d, fmt.Sprintf("gs_base native %#x machine %#x", n.gsBase, m.gsBase))
	}
	le := binary.LittleEndian
	if a, b := le.Uint16(n.fx[0:]), le.Uint16(m.fx[0:]); a != b {
		d = append(d, fmt.Sprintf("fcw native %#x machine %#x", a, b))
	}
	if a, b := le.Uint16(n.fx[2:]), le.Uint16(m.fx[2:]); a != b {
		d = append(d, fmt.Sprintf("fsw native %#x machine %#x", a, b))
	}
	if n.fx[4] != m.fx[4] {
		d = append(d, fmt.Sprintf("ftag native %#x machine %#x", n.fx[4], m.fx[4]))
	}
	if a, b := le.Uint32(n.fx[24:]), le.Uint32(m.fx[24:]); a != b {
		d = append(d, fmt.Sprintf("mxcsr native %#x machine %#x", a, b))
	}
	for i := 0; i < 8; i++ {
		o := 32 + 16*i
		if !bytes.Equal(n.fx[o:o+10], m.fx[o:o+10]) {
			d = append(d, fmt.Sprintf("st%d native %04x_%016x machine %04x_%016x", i,
				le.Uint16(n.fx[o+8:]), le.Uint64(n.fx[o:]), le.Uint16(m.fx[o+8:]), le.Uint64(m.fx[o:])))
		}
	}
	for i := 0; i < 16; i++ {
		o := 160 + 16*i
		if !bytes.Equal(n.fx[o:o+16], m.fx[o:o+16]) {
			d = append(d, fmt.Sprintf("xmm%d native %x machine %x", i, n.fx[o:o+16], m.fx[o:o+16]))
		}
		if !bytes.Equal(n.ymmh[16*i:16*i+16], m.ymmh[16*i:16*i+16]) {
			d = append(d, fmt.Sprintf("ymm%d[255:128] native %x machine %x", i, n.ymmh[16*i:16*i+16], m.ymmh[16*i:16*i+16]))
		}
	}
	return d
}

var lsRegName = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// undefinedFlags returns the RFLAGS bits the Intel SDM vol. 2 leaves
// undefined after inst, given the state before it (for shift counts).
func undefinedFlags(inst *x86asm.Inst, before *lsState) uint64 {
	const (
		cf, pf, af, zf, sf, of = FlagCF, FlagPF, FlagAF, FlagZF, FlagSF, FlagOF
	)
	count := func(width int) (uint64, bool) {
		// Shift/rotate count: masked to 5 bits (6 with REX.W).
		var c uint64
		switch a := inst.Args[1].(type) {
		case nil:
			c = 1
		case x86asm.Imm:
			c = uint64(a)
		case x86asm.Reg:
			c = before.regs[RCX] & 0xff
		default:
			return 0, false
		}
		if width == 64 {
			return c & 63, true
		}
		return c & 31, true
	}
	switch inst.Op {
	case x86asm.MUL, x86asm.IMUL:
		return sf | zf | af | pf // SDM MUL/IMUL: SF ZF AF PF undefined
	case x86asm.DIV, x86asm.IDIV:
		return cf | of | sf | zf | af | pf // SDM DIV/IDIV: all undefined
	case x86asm.BSF, x86asm.BSR:
		return cf | of | sf | af | pf // SDM BSF/BSR: only ZF defined
	case x86asm.BT, x86asm.BTS, x86asm.BTR, x86asm.BTC:
		return of | sf | af | pf // SDM BT*: only CF defined
	case x86asm.AND, x86asm.OR, x86asm.XOR, x86asm.TEST:
		return af // SDM AND/OR/XOR/TEST: AF undefined
	case x86asm.LZCNT, x86asm.TZCNT:
		return of | sf | af | pf // SDM LZCNT/TZCNT: CF, ZF defined
	case x86asm.SHL, x86asm.SHR, x86asm.SAR:
		// SDM SAL/SAR/SHL/SHR: AF undefined for a non-zero count, OF
		// undefined for counts other than 1; CF undefined for SHL/SHR when
		// the count is at least the operand width.
		c, ok := count(inst.DataSize)
		if !ok {
			return af | of | cf
		}
		switch {
		case c == 0:
			return 0
		case c == 1:
			return af
		case int(c) >= inst.DataSize:
			return af | of | cf
		}
		return af | of
	case x86asm.ROL, x86asm.ROR, x86asm.RCL, x86asm.RCR:
		// SDM RCL/RCR/ROL/ROR: OF undefined for counts other than 1.
		c, ok := count(inst.DataSize)
		if !ok || c != 1 {
			return of
		}
		return 0
	case x86asm.SHLD, x86asm.SHRD:
		// SDM SHLD/SHRD: AF undefined; OF undefined for counts > 1; all
		// flags undefined when the count exceeds the operand size.
		var c uint64
		switch a := inst.Args[2].(type) {
		case x86asm.Imm:
			c = uint64(a)
		default:
			c = before.regs[RCX] & 0xff
		}
		if inst.DataSize == 64 {
			c &= 63
		} else {
			c &= 31
		}
		switch {
		case c == 0:
			return 0
		case int(c) > inst.DataSize:
			return cf | of | sf | zf | af | pf
		case c == 1:
			return af
		}
		return af | of
	}
	return 0
}

// lsMismatch is one instruction whose results differ.
type lsMismatch struct {
	icount uint64
	rip    uint64
	bytes  []byte
	asm    string
	diffs  []string
	before []string
}

func (m *lsMismatch) String() string {
	return fmt.Sprintf("insn %d at %#x: % x  %s\n    differs: %s\n    before: %s", m.icount, m.rip, m.bytes, m.asm,
		strings.Join(m.diffs, "; "), strings.Join(m.before, " "))
}

// lsRegion is one line of /proc/PID/maps.
type lsRegion struct {
	start, end uint64
	prot       Prot
	name       string
}

func readMaps(pid int) ([]lsRegion, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	var rs []lsRegion
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		se := strings.SplitN(f[0], "-", 2)
		s, _ := strconv.ParseUint(se[0], 16, 64)
		e, _ := strconv.ParseUint(se[1], 16, 64)
		var p Prot
		if f[1][0] == 'r' {
			p |= ProtRead
		}
		if f[1][1] == 'w' {
			p |= ProtWrite
		}
		if f[1][2] == 'x' {
			p |= ProtExec
		}
		name := ""
		if len(f) > 5 {
			name = f[5]
		}
		switch name {
		case "[vvar]", "[vdso]", "[vsyscall]", "[vvar_vclock]":
			continue // hidden from the guest (no AT_SYSINFO_EHDR)
		}
		rs = append(rs, lsRegion{s, e, p, name})
	}
	return rs, nil
}

func findRegion(rs []lsRegion, a uint64) (lsRegion, bool) {
	for _, r := range rs {
		if a >= r.start && a < r.end {
			return r, true
		}
	}
	return lsRegion{}, false
}

// lsProf accumulates where the loop's time goes (-lockstep.profile).
type lsProf struct {
	on   bool
	last time.Time
	d    [lsNPhase]time.Duration
	n    [lsNPhase]int
}

const (
	phStep    = iota // PTRACE_SINGLESTEP + wait4
	phRegs           // PTRACE_GETREGS (and SETREGS)
	phFP             // PTRACE_GETREGSET(NT_X86_XSTATE)
	phMachine        // the machine's Run(1)
	phCompare        // state comparison
	phMem            // memory comparison and copies at syscalls
	phOther          // the rest of the loop
	lsNPhase
)

var lsPhaseName = [lsNPhase]string{"singlestep+wait4", "getregs", "getxstate", "machine", "compare", "syscall memory", "other"}

// pt charges the time since the previous mark to phase ph.
func (p *lsProf) pt(ph int) {
	if !p.on {
		return
	}
	now := time.Now()
	p.d[ph] += now.Sub(p.last)
	p.n[ph]++
	p.last = now
}

func (p *lsProf) String() string {
	var tot time.Duration
	for _, d := range p.d {
		tot += d
	}
	var b strings.Builder
	for i, d := range p.d {
		if p.n[i] == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s %v (%.0f%%, %d x %.2f us); ", lsPhaseName[i], d.Round(time.Millisecond),
			100*d.Seconds()/tot.Seconds(), p.n[i], float64(d.Nanoseconds())/float64(p.n[i])/1e3)
	}
	return b.String()
}

const lsStackReserve = 8 << 20 // the machine maps this much stack below the top

// lsCPUs hands out the host CPUs this test may use, one per running
// program. A program's tracer thread and its native process are pinned to
// the same CPU: a single-step is a round trip between the two, and when they
// sit on different CPUs every wake-up is a cross-CPU interrupt (on this VM
// host: 50-85 us per step unpinned, 27-35 us pinned).
var lsCPUs chan int

func lsInitCPUs() {
	if lsCPUs != nil {
		return
	}
	var set unix.CPUSet
	n := runtime.GOMAXPROCS(0)
	if unix.SchedGetaffinity(0, &set) != nil {
		set.Zero()
		for i := 0; i < n; i++ {
			set.Set(i)
		}
	}
	lsCPUs = make(chan int, set.Count())
	for i := 0; i < 1024 && len(lsCPUs) < cap(lsCPUs); i++ {
		if set.IsSet(i) {
			lsCPUs <- i
		}
	}
}

// runLockstep compares program p for at most max instructions (0: to its
// end) and returns the instructions compared and how many were VEX-encoded.
func runLockstep(t *testing.T, p lockstepProg, args []string, max uint64) (uint64, uint64) {
	dir := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	var bin string
	if pkg, ok := strings.CutPrefix(p.bin, "go/"); ok {
		bin = filepath.Join(dir, pkg)
		build := exec.Command("go", "build", "-o", bin, "./testdata/go/"+pkg)
		build.Dir = ".."
		build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the Go guest: %v\n%s", err, out)
		}
		// No asynchronous preemption: its SIGURGs would be sent by the
		// host's timing.
		env = append(env, "GODEBUG=asyncpreemptoff=1")
	} else {
		var err error
		if bin, err = filepath.Abs(filepath.Join("..", "testdata", "bin", p.bin)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("guest binary: %v", err)
		}
	}
	// All ptrace requests must come from the tracer thread, which starts
	// the process. The thread is pinned (after the Go build, whose
	// processes would inherit it) and never unlocked: it ends with this
	// goroutine, so no other goroutine inherits its CPU affinity.
	runtime.LockOSThread()
	cpu := <-lsCPUs
	defer func() { lsCPUs <- cpu }()
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		t.Logf("pinning to CPU %d: %v", cpu, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Args[0] = strings.SplitN(filepath.Base(p.bin), ".", 2)[0]
	cmd.Dir = dir
	cmd.Env = env
	in, err := os.Open(os.DevNull)
	if p.stdin != "" {
		in, err = os.Open(filepath.Join("..", "testdata", "c", "stdin", p.stdin))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Setpgid: true}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("host ptrace not permitted: %v", err)
		}
		t.Fatal(err)
	}
	ls := &lockstep{t: t, pid: cmd.Process.Pid, buf: make([]byte, 1<<16), ebuf: make([]byte, 1<<16), pmbuf: make([]byte, 1<<16),
		udCache: map[uint64]*lsDecoded{}}
	ls.threads = []*lsThread{{tid: ls.pid}}
	ls.nthr = 1
	defer ls.kill()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(ls.pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		t.Fatalf("native start: %v %v", err, ws)
	}
	if err := unix.PtraceSetOptions(ls.pid, unix.PTRACE_O_TRACECLONE|unix.PTRACE_O_EXITKILL); err != nil {
		t.Fatal(err)
	}
	if err := ls.setup(bin); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ls.prof.on, ls.prof.last = *lockstepProf, start
	ls.loop(max)
	el := time.Since(start)
	if ls.prof.on {
		t.Logf("%s: profile: %v", p.bin, &ls.prof)
	}
	switch {
	case ls.exited:
		t.Logf("%s: %d instructions compared (%d VEX; %d threads, %d signal deliveries), native exit %v, %v (%.0f insns/s)", p.bin, ls.icount, ls.nvex, ls.nthr, ls.events, ls.status, el.Round(time.Millisecond), float64(ls.icount)/el.Seconds())
	case ls.note != "":
		t.Logf("%s: %d instructions compared (%d VEX; %d threads, %d signal deliveries), stopped: %s, %v", p.bin, ls.icount, ls.nvex, ls.nthr, ls.events, ls.note, el.Round(time.Millisecond))
	default:
		t.Logf("%s: %d instructions compared (%d VEX; %d threads, %d signal deliveries, budget), %v (%.0f insns/s)", p.bin, ls.icount, ls.nvex, ls.nthr, ls.events, el.Round(time.Millisecond), float64(ls.icount)/el.Seconds())
	}
	for _, m := range ls.mism {
		t.Errorf("%s: mismatch %v", p.bin, m)
	}
	if ls.nmism > len(ls.mism) {
		t.Errorf("%s: %d mismatching instructions in all (first %d shown)", p.bin, ls.nmism, len(ls.mism))
	}
	for _, m := range ls.memMism {
		t.Errorf("%s: memory mismatch %s", p.bin, m)
	}
	return ls.icount, ls.nvex
}

// setup loads the ELF into a new machine and copies the native initial
// stack and registers into it.
func (ls *lockstep) setup(bin string) error {
	var err error
	if ls.mem, err = os.Open(fmt.Sprintf("/proc/%d/mem", ls.pid)); err != nil {
		return err
	}
	if ls.pagemap, err = os.Open(fmt.Sprintf("/proc/%d/pagemap", ls.pid)); err != nil {
		return err
	}
	th := ls.threads[0]
	ls.getNative(th)
	if ls.maps, err = readMaps(ls.pid); err != nil {
		return err
	}
	stack, ok := findRegion(ls.maps, th.nregs.Rsp)
	if !ok {
		return fmt.Errorf("no native stack mapping at %#x", th.nregs.Rsp)
	}
	// Hide the vDSO: AT_SYSINFO_EHDR (33) becomes AT_IGNORE (1).
	var w [8]byte
	rd := func(a uint64) uint64 {
		ls.mem.ReadAt(w[:], int64(a))
		return binary.LittleEndian.Uint64(w[:])
	}
	sp := th.nregs.Rsp
	argc := rd(sp)
	a := sp + 8*(argc+2)
	for rd(a) != 0 {
		a += 8
	}
	var atEntry uint64
	for a += 8; rd(a) != 0; a += 16 {
		switch rd(a) {
		case 33:
			binary.LittleEndian.PutUint64(w[:], 1)
			if _, err := unix.PtracePokeData(ls.pid, uintptr(a), w[:]); err != nil {
				return err
			}
		case 9:
			atEntry = rd(a + 8)
		}
	}

	file, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer file.Close()
	f, err := elf.NewFile(file)
	if err != nil {
		return err
	}
	var base uint64
	if f.Type == elf.ET_DYN {
		base = atEntry - f.Entry
	}
	m := NewMemory()
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		lo := (base + p.Vaddr) &^ (PageSize - 1)
		hi := (base + p.Vaddr + p.Memsz + PageSize - 1) &^ (PageSize - 1)
		var prot Prot
		if p.Flags&elf.PF_R != 0 {
			prot |= ProtRead
		}
		if p.Flags&elf.PF_W != 0 {
			prot |= ProtWrite
		}
		if p.Flags&elf.PF_X != 0 {
			prot |= ProtExec
		}
		m.Map(lo, hi-lo, prot)
		// Like the kernel, map whole file pages (bytes around the segment
		// included), then clear the page tail past the file part if the
		// segment has a bss.
		fileEnd := (p.Off + p.Filesz + PageSize - 1) &^ (PageSize - 1)
		data := make([]byte, fileEnd-p.Off&^(PageSize-1))
		k, err := file.ReadAt(data, int64(p.Off&^(PageSize-1)))
		if err != nil && k == 0 {
			return err
		}
		data = data[:k]
		if p.Memsz > p.Filesz {
			for i := p.Vaddr&(PageSize-1) + p.Filesz; i < uint64(len(data)); i++ {
				data[i] = 0
			}
		}
		if _, err := m.WriteForce(lo, data); err != nil {
			return err
		}
	}
	ls.stackHi = stack.end
	ls.stackLo = stack.end - lsStackReserve
	m.Map(ls.stackLo, lsStackReserve, ProtRead|ProtWrite)
	st := make([]byte, stack.end-stack.start)
	if _, err := ls.mem.ReadAt(st, int64(stack.start)); err != nil {
		return fmt.Errorf("native stack: %v", err)
	}
	m.WriteForce(stack.start, st)

	ls.m = m
	th.cpu = NewCPU(m)
	ls.syncRegsFromNative(th)
	// The loader must agree with the kernel's: compare every readable
	// native mapping with the machine's memory.
	for _, r := range ls.maps {
		if r.prot&ProtRead == 0 {
			continue
		}
		if d := ls.compareRegion(r.start, r.end, false); d != "" {
			return fmt.Errorf("loader: initial memory differs from the native process: %s", d)
		}
	}
	return nil
}

// compareRegion compares [lo, hi) of both sides page by page. With fix it
// copies the native pages that differ into the machine and returns "";
// without, it returns a description of the first difference.
func (ls *lockstep) compareRegion(lo, hi uint64, fix bool) string {
	for a := lo; a < hi; {
		n := min(hi-a, uint64(len(ls.buf)))
		nb, eb := ls.buf[:n], ls.ebuf[:n]
		k, _ := ls.mem.ReadAt(nb, int64(a))
		if k == 0 {
			a += PageSize
			continue
		}
		nb, eb = nb[:k], eb[:k]
		clear(eb)
		ls.m.ReadForce(a, eb)
		if !bytes.Equal(nb, eb) {
			for off := 0; off < k; off += PageSize {
				e := min(off+PageSize, k)
				if bytes.Equal(nb[off:e], eb[off:e]) {
					continue
				}
				if fix {
					ls.m.WriteForce(a+uint64(off), nb[off:e])
					continue
				}
				i := off
				for nb[i] == eb[i] {
					i++
				}
				j := min(i+16, e)
				return fmt.Sprintf("at %#x: native % x machine % x", a+uint64(i), nb[i:j], eb[i:j])
			}
		}
		a += uint64(k)
	}
	return ""
}

// syncWritable compares the writable memory of both sides where it can
// differ and copies the native pages that do into the machine. Compared
// are the pages present in the native process (/proc/PID/pagemap: a page
// neither the process nor its kernel ever wrote is not present, and reads
// as zero or as its file's bytes, as the machine's must since it loaded
// them) and every page the machine wrote since the previous call
// (Memory.CollectDelta), present natively or not. With report, the
// differences found are returned, first per run of pages; below is where
// the main thread's stack is dead (its rsp minus the red zone and 64 KiB),
// or 0.
func (ls *lockstep) syncWritable(report bool, below uint64) []string {
	ls.mdirty = ls.mdirty[:0]
	ls.m.CollectDelta(0, func(addr uint64, data []byte) {
		for pn := addr / PageSize; pn <= (addr+uint64(len(data))-1)/PageSize; pn++ {
			if n := len(ls.mdirty); n == 0 || ls.mdirty[n-1] != pn {
				ls.mdirty = append(ls.mdirty, pn)
			}
		}
	})
	var diffs []string
	for _, r := range ls.maps {
		if r.prot&ProtWrite == 0 {
			continue
		}
		lo, hi := r.start, r.end
		if below != 0 && lo >= ls.stackLo && hi <= ls.stackHi {
			lo = max(lo, below&^(PageSize-1))
		}
		for lo < hi {
			// A pagemap chunk: one entry per page.
			n := min((hi-lo)/PageSize, uint64(len(ls.pmbuf)/8))
			pm := ls.pmbuf[:8*n]
			if k, _ := ls.pagemap.ReadAt(pm, int64(lo/PageSize*8)); k < len(pm) {
				clear(pm[k:]) // unreadable: compare nothing there
			}
			want := func(i uint64) bool {
				if binary.LittleEndian.Uint64(pm[8*i:])>>62 != 0 { // present or swapped
					return true
				}
				_, ok := slices.BinarySearch(ls.mdirty, lo/PageSize+i)
				return ok
			}
			for i := uint64(0); i < n; {
				if !want(i) {
					i++
					continue
				}
				j := i + 1
				for j < n && j-i < uint64(len(ls.buf))/PageSize && want(j) {
					j++
				}
				a, b := lo+i*PageSize, lo+j*PageSize
				if !report {
					ls.compareRegion(a, b, true)
				} else if d := ls.compareRegion(a, b, false); d != "" {
					diffs = append(diffs, d)
					ls.compareRegion(a, b, true)
				}
				i = j
			}
			lo += n * PageSize
		}
	}
	return diffs
}

// syncMaps mirrors mapping changes of the native process into the machine.
func (ls *lockstep) syncMaps() {
	nm, err := readMaps(ls.pid)
	if err != nil {
		ls.t.Fatal(err)
	}
	var pts []uint64
	for _, r := range ls.maps {
		pts = append(pts, r.start, r.end)
	}
	for _, r := range nm {
		pts = append(pts, r.start, r.end)
	}
	sortU64(pts)
	mem := ls.m
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		if a == b {
			continue
		}
		if a >= ls.stackLo && b <= ls.stackHi {
			continue // the machine's stack reserve covers the growth
		}
		o, okO := findRegion(ls.maps, a)
		n, okN := findRegion(nm, a)
		switch {
		case okO && !okN:
			mem.Unmap(a, b-a)
		case !okO && okN:
			mem.Map(a, b-a, n.prot)
			if n.prot&ProtRead != 0 && n.name != "" {
				ls.compareRegion(a, b, true) // file contents
			}
		case okO && okN && o.prot != n.prot:
			mem.Protect(a, b-a, n.prot)
		}
	}
	ls.maps = nm
}

func sortU64(s []uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
