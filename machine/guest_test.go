package machine

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestGuestProgram builds testdata/isa.c with musl-gcc, runs it natively and
// on the machine under a minimal system-call shim, and compares the output
// and exit status. It is skipped where musl-gcc is not available.

type miniKernel struct {
	c      *CPU
	out    bytes.Buffer
	brk    uint64
	mmapAt uint64
	status int
	exited bool
}

const (
	guestStackTop  = 0x7ff000000000
	guestStackSize = 1 << 20
)

func loadELF(t *testing.T, path string) (*miniKernel, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := NewMemory()
	var phdr, end uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		start := p.Vaddr &^ (PageSize - 1)
		stop := (p.Vaddr + p.Memsz + PageSize - 1) &^ (PageSize - 1)
		m.Map(start, stop-start, ProtRead|ProtWrite)
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, err
		}
		if err := m.Write(p.Vaddr, data); err != nil {
			return nil, err
		}
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
		m.Protect(start, stop-start, prot)
		if p.Off == 0 {
			phdr = p.Vaddr + 64 // e_phoff of a static ELF64 executable
		}
		end = max(end, stop)
	}
	m.Map(guestStackTop-guestStackSize, guestStackSize, ProtRead|ProtWrite)
	c := NewCPU(m)
	c.RIP = f.Entry
	// Initial stack: argc, argv, envp, auxv, strings.
	sp := uint64(guestStackTop - 256)
	m.Write(sp, []byte("isa\x00"))
	random := sp + 16
	m.Write(random, []byte("0123456789abcdef"))
	var words []uint64
	words = append(words, 1, sp, 0, 0)
	words = append(words, 3, phdr, 4, 56, 5, uint64(len(f.Progs)), 6, PageSize, 9, f.Entry, 25, random, 0, 0)
	sp -= 1024
	sp &^= 15
	b := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	m.Write(sp, b)
	c.Regs[RSP] = sp
	return &miniKernel{c: c, brk: end, mmapAt: 0x7f0000000000}, nil
}

func (k *miniKernel) syscall() {
	c := k.c
	m := c.Mem
	nr := c.Regs[RAX]
	a0, a1, a2 := c.Regs[RDI], c.Regs[RSI], c.Regs[RDX]
	ret := uint64(0)
	switch nr {
	case 1: // write
		buf := make([]byte, a2)
		if m.Read(a1, buf) != nil {
			ret = errno(14)
			break
		}
		k.out.Write(buf)
		ret = a2
	case 20: // writev
		var total uint64
		for i := uint64(0); i < a2; i++ {
			var iov [16]byte
			m.Read(a1+16*i, iov[:])
			base, n := binary.LittleEndian.Uint64(iov[:]), binary.LittleEndian.Uint64(iov[8:])
			buf := make([]byte, n)
			m.Read(base, buf)
			k.out.Write(buf)
			total += n
		}
		ret = total
	case 60, 231: // exit, exit_group
		k.status = int(a0 & 0xff)
		k.exited = true
	case 158: // arch_prctl
		if a0 == 0x1002 {
			c.FSBase = a1
		} else {
			ret = errno(22)
		}
	case 218: // set_tid_address
		ret = 1
	case 12: // brk
		if a0 > k.brk {
			newEnd := (a0 + PageSize - 1) &^ (PageSize - 1)
			m.Map(k.brk, newEnd-k.brk, ProtRead|ProtWrite)
			k.brk = newEnd
		}
		ret = k.brk
	case 9: // mmap (anonymous only)
		size := (a1 + PageSize - 1) &^ (PageSize - 1)
		k.mmapAt -= size
		m.Map(k.mmapAt, size, Prot(a2&7))
		ret = k.mmapAt
	case 11: // munmap
		m.Unmap(a0, a1)
	case 10: // mprotect
		m.Protect(a0, a1, Prot(a2&7))
	case 13, 14: // rt_sigaction, rt_sigprocmask
	case 16: // ioctl
		ret = errno(25)
	default:
		ret = errno(38)
	}
	c.Regs[RAX] = ret
}

func (k *miniKernel) run(t *testing.T) {
	for i := 0; i < 10000 && !k.exited; i++ {
		ex := k.c.Run(1 << 30)
		switch ex.Reason {
		case ExitSyscall:
			k.syscall()
		case ExitRdtsc:
			k.c.CompleteRdtsc(1000, 0)
		default:
			t.Fatalf("guest stopped: %v at rip %#x after %d instructions", ex.Reason, k.c.RIP, k.c.Icount)
		}
	}
}

func TestGuestProgram(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("needs an x86-64 Linux host to build and run the native reference")
	}
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		t.Skip("needs musl-gcc")
	}
	bin := filepath.Join(t.TempDir(), "isa")
	if out, err := exec.Command("musl-gcc", "-static", "-O2", "-o", bin, "testdata/isa.c", "-lm").CombinedOutput(); err != nil {
		t.Skipf("musl-gcc: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Args[0] = "isa"
	native, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	k, err := loadELF(t, bin)
	if err != nil {
		t.Fatal(err)
	}
	k.run(t)
	if got := k.out.String(); got != string(native) {
		t.Errorf("emulated output differs:\n%s\nnative:\n%s", got, native)
	}
	if k.status != 3 {
		t.Errorf("exit status %d, want 3", k.status)
	}
	t.Logf("%d instructions", k.c.Icount)
}

func errno(e int64) uint64 { return uint64(-e) }

// BenchmarkGuest runs the musl guest program (mixed real code: printf, libm,
// qsort, string functions) and reports MIPS.
func BenchmarkGuest(b *testing.B) {
	if _, err := exec.LookPath("musl-gcc"); err != nil {
		b.Skip("needs musl-gcc")
	}
	bin := filepath.Join(b.TempDir(), "isa")
	if out, err := exec.Command("musl-gcc", "-static", "-O2", "-o", bin, "testdata/isa.c", "-lm").CombinedOutput(); err != nil {
		b.Skipf("musl-gcc: %v\n%s", err, out)
	}
	t := &testing.T{}
	b.ResetTimer()
	cpu0 := cpuTime()
	var n uint64
	for i := 0; i < b.N; i++ {
		k, err := loadELF(t, bin)
		if err != nil {
			b.Fatal(err)
		}
		k.run(t)
		n += k.c.Icount
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds()/1e6, "MIPS")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds()/1e6, "MIPS(cpu)")
	}
}
