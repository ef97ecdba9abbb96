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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
	"golang.org/x/sys/unix"
)

// Lockstep differential test (issue 3, "Proof"; STYLE.md rule 39): each
// guest program of testdata/bin runs natively under the host's ptrace and
// on the machine side by side. Both start from the same state — the ELF's
// PT_LOAD segments are loaded into the machine by a small loader here, and
// the native process's initial stack (argv, envp, auxv, AT_RANDOM bytes) and
// registers are copied into it at the first instruction after execve — and
// are single-stepped together. After every instruction the GPRs, rip,
// rflags (minus the flags the manual leaves undefined for that instruction,
// see undefinedFlags), fs/gs base, x87 state and MXCSR and XMM0-15 must be
// equal. At every syscall the writable memory of both must be equal too.
//
// What only a kernel or the host decides is copied from the native side into
// the machine: a syscall is executed natively only, then its result
// registers, fs_base (arch_prctl), the memory it wrote and the mappings it
// made or changed (read from /proc/PID/maps and /proc/PID/mem) are copied;
// rdtsc/rdtscp/rdrand/rdseed complete with the native values. In the other
// direction, after a native cpuid the native registers are overwritten with
// the machine's results, so both sides take the same code paths although
// the host CPU has more features than the machine advertises. The vDSO is
// hidden (AT_SYSINFO_EHDR is turned into AT_IGNORE in the native auxv before
// the first instruction) so time calls are real syscalls on both sides.
//
// By default every program runs for a bounded number of instructions (a few
// seconds in all). -lockstep.long runs every program to its end with larger
// work sizes (tens of millions of instructions; minutes). Programs with
// known mismatches are listed in lockstepKnown: they run only in the long run,
// where their mismatches are printed and fail the test.

var (
	lockstepLong = flag.Bool("lockstep.long", false, "run the lockstep test over whole programs (slow)")
	lockstepOnly = flag.String("lockstep.prog", "", "run the lockstep test only for programs whose name contains this")
	lockstepMax  = flag.Uint64("lockstep.max", 0, "instructions per program in the lockstep test (0: default for the mode)")
)

type lockstepProg struct {
	bin   string   // under testdata/bin
	args  []string // after argv[0]
	long  []string // args in the long run, if different
	stdin string   // file under testdata/c/stdin, or "" for /dev/null
}

var lockstepProgs = []lockstepProg{
	{bin: "echoargs.musl", args: []string{"one", "two three", "exit=3"}, stdin: "echoargs.in"},
	{bin: "echoargs.glibc", args: []string{"one", "two three", "exit=3"}, stdin: "echoargs.in"},
	{bin: "fp.musl"},
	{bin: "fp.glibc"},
	{bin: "smc.musl"},
	{bin: "smc.glibc"},
	{bin: "files.musl", args: []string{"files.tmp"}},
	{bin: "files.glibc", args: []string{"files.tmp"}},
	{bin: "sysio.musl"},
	{bin: "sysio.glibc"},
	{bin: "timerand.musl"},
	{bin: "timerand.glibc"},
	{bin: "forkexec.musl"},
	{bin: "bench_hash.musl", args: []string{"1"}, long: []string{"20"}},
	{bin: "bench_fp.musl", args: []string{"1"}, long: []string{"20"}},
	{bin: "bench_mem.musl", args: []string{"1"}},
	{bin: "bench_sys.musl", args: []string{"1"}},
	{bin: "strops.asm"},
	{bin: "x87.asm"},
	{bin: "bitops.asm"},
	{bin: "atomics.asm"},
	{bin: "sse42.asm"},
	// Not followed: threads.* (clone: the other threads would run untraced
	// and write the shared memory behind the machine's back), signals.*
	// (handlers: the machine has no kernel to deliver signals).
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

// Default-run budget per program (about 0.2 s each on this host: the
// native side costs three or four ptrace syscalls per instruction).
const lockstepShortInsns = 2500

func TestLockstep(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("lockstep needs an x86-64 Linux host (host ptrace and the host CPU)")
	}
	total := uint64(0)
	start := time.Now()
	for _, p := range lockstepProgs {
		if *lockstepOnly != "" && !strings.Contains(p.bin, *lockstepOnly) {
			continue
		}
		t.Run(p.bin, func(t *testing.T) {
			if why, ok := lockstepKnown[p.bin]; ok && !*lockstepLong {
				t.Skipf("known mismatches (lockstepKnown: %s); run with -lockstep.long", why)
			}
			max := uint64(lockstepShortInsns)
			args := p.args
			if *lockstepLong {
				max = 0
				if p.long != nil {
					args = p.long
				}
			}
			if *lockstepMax != 0 {
				max = *lockstepMax
			}
			n := runLockstep(t, p, args, max)
			total += n
		})
	}
	t.Logf("lockstep: %d instructions compared in %v", total, time.Since(start).Round(time.Millisecond))
}

// lsState is the comparable architectural state of one side.
type lsState struct {
	regs   [16]uint64
	rip    uint64
	flags  uint64
	fsBase uint64
	gsBase uint64
	fx     [512]byte
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
}

func setNativeRegs(r *unix.PtraceRegs, g *[16]uint64) {
	r.Rax, r.Rcx, r.Rdx, r.Rbx, r.Rsp, r.Rbp, r.Rsi, r.Rdi = g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]
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

// lockstep is one program run on both sides.
type lockstep struct {
	t       *testing.T
	pid     int
	mem     *os.File // /proc/PID/mem
	cpu     *CPU
	maps    []lsRegion
	stackLo uint64 // the machine's stack mapping starts here (below native [stack])
	stackHi uint64
	nregs   unix.PtraceRegs
	nfx     [512]byte
	icount  uint64
	mism    []*lsMismatch
	nmism   int
	memMism []string
	exited  bool
	status  syscall.WaitStatus
	note    string // why the comparison ended early
	buf     []byte
	ebuf    []byte
}

const lsStackReserve = 8 << 20 // the machine maps this much stack below the top

func ptraceFpRegs(pid int, req uintptr, fx *[512]byte) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, req, uintptr(pid), 0, uintptr(unsafe.Pointer(fx)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func ptraceStepSig(pid int, sig int) error {
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SINGLESTEP, uintptr(pid), 0, uintptr(sig), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func runLockstep(t *testing.T, p lockstepProg, args []string, max uint64) uint64 {
	runtime.LockOSThread() // all ptrace requests must come from the tracer thread
	defer runtime.UnlockOSThread()
	bin, err := filepath.Abs(filepath.Join("..", "testdata", "bin", p.bin))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("guest binary: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Args[0] = strings.SplitN(p.bin, ".", 2)[0]
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
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
	ls := &lockstep{t: t, pid: cmd.Process.Pid, buf: make([]byte, 1<<16), ebuf: make([]byte, 1<<16)}
	defer func() {
		if !ls.exited {
			unix.Kill(ls.pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(ls.pid, &ws, 0, nil)
		}
		if ls.mem != nil {
			ls.mem.Close()
		}
	}()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(ls.pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		t.Fatalf("native start: %v %v", err, ws)
	}
	if err := ls.setup(bin); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ls.loop(max)
	el := time.Since(start)
	switch {
	case ls.exited:
		t.Logf("%s: %d instructions compared, native exit %v, %v (%.0f insns/s)", p.bin, ls.icount, ls.status, el.Round(time.Millisecond), float64(ls.icount)/el.Seconds())
	case ls.note != "":
		t.Logf("%s: %d instructions compared, stopped: %s, %v", p.bin, ls.icount, ls.note, el.Round(time.Millisecond))
	default:
		t.Logf("%s: %d instructions compared (budget), %v (%.0f insns/s)", p.bin, ls.icount, el.Round(time.Millisecond), float64(ls.icount)/el.Seconds())
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
	return ls.icount
}

// setup loads the ELF into a new machine and copies the native initial
// stack and registers into it.
func (ls *lockstep) setup(bin string) error {
	var err error
	if ls.mem, err = os.Open(fmt.Sprintf("/proc/%d/mem", ls.pid)); err != nil {
		return err
	}
	if err := unix.PtraceGetRegs(ls.pid, &ls.nregs); err != nil {
		return err
	}
	if err := ptraceFpRegs(ls.pid, unix.PTRACE_GETFPREGS, &ls.nfx); err != nil {
		return err
	}
	if ls.maps, err = readMaps(ls.pid); err != nil {
		return err
	}
	stack, ok := findRegion(ls.maps, ls.nregs.Rsp)
	if !ok {
		return fmt.Errorf("no native stack mapping at %#x", ls.nregs.Rsp)
	}
	// Hide the vDSO: AT_SYSINFO_EHDR (33) becomes AT_IGNORE (1).
	var w [8]byte
	rd := func(a uint64) uint64 {
		ls.mem.ReadAt(w[:], int64(a))
		return binary.LittleEndian.Uint64(w[:])
	}
	sp := ls.nregs.Rsp
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

	c := NewCPU(m)
	ls.cpu = c
	ls.syncRegsFromNative()
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

func (ls *lockstep) syncRegsFromNative() {
	c, r := ls.cpu, &ls.nregs
	var s lsState
	s.fromNative(r, &ls.nfx)
	c.Regs = s.regs
	c.RIP = r.Rip
	c.SetFlags(r.Eflags &^ (FlagTF | FlagRF))
	c.FSBase, c.GSBase = r.Fs_base, r.Gs_base
	if err := c.FXRstor(&ls.nfx); err != nil {
		ls.t.Fatal(err)
	}
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
		ls.cpu.Mem.ReadForce(a, eb)
		if !bytes.Equal(nb, eb) {
			for off := 0; off < k; off += PageSize {
				e := min(off+PageSize, k)
				if bytes.Equal(nb[off:e], eb[off:e]) {
					continue
				}
				if fix {
					ls.cpu.Mem.WriteForce(a+uint64(off), nb[off:e])
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

// writable reports the regions whose contents can change.
func (ls *lockstep) eachWritable(fn func(lo, hi uint64)) {
	for _, r := range ls.maps {
		if r.prot&ProtWrite != 0 {
			fn(r.start, r.end)
		}
	}
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
	mem := ls.cpu.Mem
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

// step single-steps the native process once. It reports false when the
// process is gone (exited or killed).
func (ls *lockstep) step() bool {
	sig := 0
	for {
		if err := ptraceStepSig(ls.pid, sig); err != nil {
			ls.t.Fatalf("PTRACE_SINGLESTEP: %v", err)
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(ls.pid, &ws, 0, nil); err != nil {
			ls.t.Fatalf("wait4: %v", err)
		}
		if ws.Exited() || ws.Signaled() {
			ls.exited = true
			ls.status = syscall.WaitStatus(ws)
			return false
		}
		if ws.StopSignal() == unix.SIGTRAP {
			return true
		}
		// A signal (SIGCHLD from a child, ...) stopped it before the step:
		// deliver it with the step.
		sig = int(ws.StopSignal())
		if sig == int(unix.SIGCHLD) || sig == int(unix.SIGPIPE) || sig == int(unix.SIGURG) || sig == int(unix.SIGWINCH) {
			continue
		}
		ls.note = fmt.Sprintf("native signal %v (the machine has no kernel to deliver it)", ws.StopSignal())
		return false
	}
}

func (ls *lockstep) getNativeGPRs() {
	if err := unix.PtraceGetRegs(ls.pid, &ls.nregs); err != nil {
		ls.t.Fatal(err)
	}
}

// lsTouchesFP reports whether the instruction with opcode bytes op (after
// prefixes) may read or write x87/MMX/SSE state: x87 escapes and every
// 0F opcode outside the integer ones below.
func lsTouchesFP(op []byte) bool {
	if len(op) == 0 {
		return true
	}
	if op[0] >= 0xd8 && op[0] <= 0xdf {
		return true
	}
	if op[0] != 0x0f || len(op) < 2 {
		return false
	}
	b := op[1]
	switch {
	case b == 0x05, b == 0x0b, b == 0x0d, b >= 0x18 && b <= 0x1f, b == 0x31,
		b >= 0x40 && b <= 0x4f, b >= 0x80 && b <= 0x9f, b >= 0xa0 && b <= 0xa5,
		b >= 0xa8 && b <= 0xad, b == 0xaf, b >= 0xb0 && b <= 0xbf && b != 0xb9,
		b == 0xc0, b == 0xc1, b == 0xc7, b >= 0xc8 && b <= 0xcf:
		return false
	}
	return true
}

func (ls *lockstep) getNative() {
	if err := unix.PtraceGetRegs(ls.pid, &ls.nregs); err != nil {
		ls.t.Fatal(err)
	}
	if err := ptraceFpRegs(ls.pid, unix.PTRACE_GETFPREGS, &ls.nfx); err != nil {
		ls.t.Fatal(err)
	}
}

// insn skips prefixes: it returns the opcode bytes and whether a rep prefix
// was seen.
func lsOpcode(b []byte) (op []byte, rep bool) {
	for i, x := range b {
		switch {
		case x == 0xf2 || x == 0xf3:
			rep = true
		case x == 0x66 || x == 0x67 || x == 0x2e || x == 0x3e || x == 0x26 || x == 0x36 || x == 0x64 || x == 0x65 || x == 0xf0:
		case x >= 0x40 && x <= 0x4f:
		default:
			return b[i:], rep
		}
	}
	return nil, rep
}

const lsMaxReports = 20

func (ls *lockstep) loop(max uint64) {
	c := ls.cpu
	var before lsState
	var code [16]byte
	syscalls := 0
	for max == 0 || ls.icount < max {
		before.fromNative(&ls.nregs, &ls.nfx)
		k, _ := c.Mem.ReadForce(c.RIP, code[:])
		op, rep := lsOpcode(code[:k])
		ex := c.Run(1)
		switch ex.Reason {
		case ExitBudget:
			if !ls.step() {
				ls.endEarly("native process ended at a non-syscall instruction")
				return
			}
			if rep && len(op) > 0 && (op[0] >= 0xa4 && op[0] <= 0xa7 || op[0] >= 0xaa && op[0] <= 0xaf || op[0] >= 0x6c && op[0] <= 0x6f) {
				// The host traps after every iteration of a rep string
				// instruction; the machine retires it whole.
				for {
					ls.getNative()
					if ls.nregs.Rip != before.rip {
						break
					}
					if !ls.step() {
						return
					}
				}
			} else if lsTouchesFP(op) {
				ls.getNative()
			} else {
				// An integer instruction leaves the host's x87/SSE state
				// alone; the machine's must be unchanged too.
				ls.getNativeGPRs()
				var fx [512]byte
				c.FXSave(&fx)
				if fx != before.fx {
					ls.getNative()
				}
			}
			if len(op) > 0 && op[0] == 0x9c {
				// pushf: the host pushed the tracer's TF; clear it.
				var w [8]byte
				ls.mem.ReadAt(w[:], int64(ls.nregs.Rsp))
				if w[1]&1 != 0 {
					w[1] &^= 1
					if _, err := unix.PtracePokeData(ls.pid, uintptr(ls.nregs.Rsp), w[:]); err != nil {
						ls.t.Fatal(err)
					}
				}
			}
			if len(op) > 1 && op[0] == 0x0f && op[1] == 0xa2 {
				// cpuid: the machine advertises its own features.
				r := ls.nregs
				r.Rax, r.Rbx, r.Rcx, r.Rdx = c.Regs[RAX], c.Regs[RBX], c.Regs[RCX], c.Regs[RDX]
				if err := unix.PtraceSetRegs(ls.pid, &r); err != nil {
					ls.t.Fatal(err)
				}
				ls.nregs = r
			}
		case ExitSyscall:
			syscalls++
			nr := before.regs[RAX]
			// Before the syscall both memories must be equal.
			ls.eachWritable(func(lo, hi uint64) {
				if lo >= ls.stackLo && hi <= ls.stackHi {
					lo = max64(lo, ls.nregs.Rsp-128-(1<<16)) // below the red zone is dead
					lo &^= PageSize - 1
				}
				if d := ls.compareRegion(lo, hi, false); d != "" && len(ls.memMism) < lsMaxReports {
					ls.memMism = append(ls.memMism, fmt.Sprintf("before syscall %d (insn %d): %s", nr, ls.icount, d))
					ls.compareRegion(lo, hi, true)
				}
			})
			if nr == 334 {
				// rseq: the host kernel would write the rseq area at any
				// return to user mode; make the native call fail with
				// ENOSYS as the machine's kernel's does.
				r := ls.nregs
				r.Rax = ^uint64(0)
				if err := unix.PtraceSetRegs(ls.pid, &r); err != nil {
					ls.t.Fatal(err)
				}
			}
			if !ls.step() {
				if nr == 60 || nr == 231 {
					ls.icount++
				} else {
					ls.note = fmt.Sprintf("native process ended in syscall %d", nr)
				}
				return
			}
			ls.getNative()
			c.Regs[RAX] = ls.nregs.Rax
			c.FSBase = ls.nregs.Fs_base // arch_prctl
			switch nr {
			case 9, 10, 11, 12, 25: // mmap mprotect munmap brk mremap
				ls.syncMaps()
			}
			switch nr {
			case 1, 3, 8, 9, 10, 11, 12, 20, 24, 25, 39, 60, 186, 231:
				// write close lseek mmap mprotect munmap brk writev
				// sched_yield mremap getpid exit gettid exit_group: no
				// memory written (a new anonymous mapping is zero).
			default:
				ls.eachWritable(func(lo, hi uint64) { ls.compareRegion(lo, hi, true) })
			}
		case ExitRdtsc:
			if !ls.step() {
				return
			}
			ls.getNative()
			c.CompleteRdtsc(ls.nregs.Rdx<<32|ls.nregs.Rax&0xffffffff, uint32(ls.nregs.Rcx))
		case ExitRdrand:
			if !ls.step() {
				return
			}
			ls.getNative()
			var s lsState
			s.fromNative(&ls.nregs, &ls.nfx)
			v := s.regs[ex.Reg]
			if ex.Size < 8 {
				v &= 1<<(8*ex.Size) - 1
			}
			c.CompleteRdrand(v, ls.nregs.Eflags&FlagCF != 0)
		default:
			// The machine faulted: the host must fault too (a signal stop).
			ok := ls.step()
			ls.getNative()
			if ok && ls.nregs.Rip != before.rip {
				ls.report(&before, code[:k], []string{fmt.Sprintf("machine exit %d (addr %#x) where the host retired the instruction", ex.Reason, ex.Addr)})
				ls.note = "machine fault"
				return
			}
			ls.note = fmt.Sprintf("both faulted (machine exit %d); the machine has no kernel", ex.Reason)
			return
		}
		ls.icount++
		var ns, ms lsState
		ns.fromNative(&ls.nregs, &ls.nfx)
		ms.fromCPU(c)
		d := ns.diff(&ms, 0)
		if len(d) != 0 {
			var undef uint64
			if inst, err := x86asm.Decode(code[:k], 64); err == nil {
				undef = undefinedFlags(&inst, &before)
				if vendorC1(inst.Op) {
					// FCOMI/FUCOMI(P): the SDM says "C1 set to 0"; AMD
					// hosts leave C1 as it was. The machine presents
					// itself as GenuineIntel and follows the SDM.
					ns.fx[3] = ns.fx[3]&^0x02 | ms.fx[3]&0x02
				}
			}
			if ex.Reason == ExitSyscall {
				// R11 = RFLAGS: the host's copy holds the tracer's TF.
				ns.regs[R11] &^= FlagTF
			}
			if d = ns.diff(&ms, undef); len(d) != 0 {
				ls.report(&before, code[:k], d)
			}
			ls.syncRegsFromNative()
		}
	}
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func (ls *lockstep) endEarly(why string) {
	if ls.note == "" {
		ls.note = why
	}
}

func (ls *lockstep) report(before *lsState, code []byte, d []string) {
	ls.nmism++
	if len(ls.mism) >= lsMaxReports {
		return
	}
	asm := "(undecodable)"
	n := len(code)
	if inst, err := x86asm.Decode(code, 64); err == nil {
		asm = x86asm.GNUSyntax(inst, before.rip, nil)
		n = inst.Len
	}
	var b []string
	for i, r := range before.regs {
		b = append(b, fmt.Sprintf("%s=%#x", lsRegName[i], r))
	}
	le := binary.LittleEndian
	b = append(b, fmt.Sprintf("rflags=%#x fcw=%#x fsw=%#x ftag=%#x mxcsr=%#x", before.flags,
		le.Uint16(before.fx[0:]), le.Uint16(before.fx[2:]), before.fx[4], le.Uint32(before.fx[24:])))
	ls.mism = append(ls.mism, &lsMismatch{icount: ls.icount, rip: before.rip, bytes: append([]byte(nil), code[:n]...), asm: asm, diffs: d, before: b})
}
