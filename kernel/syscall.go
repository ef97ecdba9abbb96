package kernel

import (
	"errors"
	"fmt"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// errBlock is returned by a handler that put the thread to sleep; the
// handler runs again, with the same arguments, when the thread is woken.
var errBlock = errors.New("kernel: block")

// errNoReturn is returned by handlers after which the syscall must not write
// a return value (exit, a successful execve, rt_sigreturn).
var errNoReturn = errors.New("kernel: no return value")

type sysAction uint8

const (
	actReturn sysAction = iota
	actBlock
	actNoReturn
)

type sysResult struct {
	ret    int64
	action sysAction
}

// SyscallArgs are the six syscall argument registers.
type SyscallArgs = [6]uint64

// syscallFn is a syscall handler. It returns the value for rax or an error:
// an abi.Errno (returned to the guest as -errno), errBlock, errNoReturn; any
// other error is an emulator bug and ends the run.
type syscallFn func(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error)

// sysEntry is one row of the syscall table.
type sysEntry struct {
	name string
	fn   syscallFn
	note string // what is partial or why it is a stub
}

// Supported marks a fully implemented syscall.
func Supported(name string, fn syscallFn) sysEntry { return sysEntry{name: name, fn: fn} }

// Partial marks a syscall whose implementation is incomplete, saying how.
func Partial(name string, fn syscallFn, note string) sysEntry {
	return sysEntry{name: name, fn: fn, note: note}
}

// Stub marks a syscall that always fails with errno, saying why.
func Stub(name string, errno abi.Errno, note string) sysEntry {
	return sysEntry{name: name, fn: func(*Kernel, *Thread, *SyscallArgs) (uint64, error) { return 0, errno }, note: note}
}

// syscallTable is the dense table built from syscallRows at init.
var syscallTable [abi.MaxSyscall + 1]sysEntry

func init() {
	for nr, e := range syscallRows() {
		if nr < 0 || nr > abi.MaxSyscall {
			panic(fmt.Sprintf("kernel: syscall %d out of range", nr))
		}
		syscallTable[nr] = e
	}
}

// dispatch runs the current syscall of t.
func (k *Kernel) dispatch(t *Thread) sysResult {
	nr := int(t.sc.code)
	var e sysEntry
	if nr >= 0 && nr < len(syscallTable) {
		e = syscallTable[nr]
	}
	if e.fn == nil {
		return sysResult{ret: -int64(k.unimplemented(t, nr))}
	}
	t.scArgs = t.sc.args
	ret, err := e.fn(k, t, &t.scArgs)
	switch {
	case err == nil:
		return sysResult{ret: int64(ret)}
	case err == errBlock:
		return sysResult{action: actBlock}
	case err == errNoReturn:
		return sysResult{action: actNoReturn}
	}
	var errno abi.Errno
	if errors.As(err, &errno) {
		if errno.IsRestart() {
			errno = k.restartOrEINTR(t, errno)
			if errno == 0 {
				return sysResult{action: actNoReturn}
			}
		}
		return sysResult{ret: -int64(errno)}
	}
	var f *machine.Fault
	if errors.As(err, &f) {
		return sysResult{ret: -int64(abi.EFAULT)}
	}
	k.fail("kernel: syscall %s (%d) at pc %#x: %v", abi.SyscallName(nr), nr, t.cpu.RIP, err)
	return sysResult{action: actNoReturn}
}

// unimplemented reports an unknown syscall once and returns ENOSYS.
func (k *Kernel) unimplemented(t *Thread, nr int) abi.Errno {
	if !k.warned[nr] {
		k.warned[nr] = true
		if k.cfg.Warn != nil {
			fmt.Fprintf(k.cfg.Warn, "ptrec: unimplemented syscall %s (%d) at pc %#x: returning ENOSYS\n", abi.SyscallName(nr), nr, t.cpu.RIP)
		}
		if k.cfg.Strict {
			k.fail("kernel: unimplemented syscall %s (%d) at pc %#x (--strict)", abi.SyscallName(nr), nr, t.cpu.RIP)
		}
	}
	return abi.ENOSYS
}

// warnOnce prints msg to the warning writer the first time key is seen.
func (k *Kernel) warnOnce(key int, msg string) {
	if k.warned[key] {
		return
	}
	k.warned[key] = true
	if k.cfg.Warn != nil {
		fmt.Fprint(k.cfg.Warn, msg)
	}
}

// restartOrEINTR converts an internal restart code. A syscall interrupted
// by a signal whose handler has SA_RESTART (or that is not delivered to a
// handler) is restarted by backing rip over the syscall instruction and
// restoring rax; it returns 0 then. Otherwise it returns EINTR.
func (k *Kernel) restartOrEINTR(t *Thread, errno abi.Errno) abi.Errno {
	restart := false
	switch errno {
	case abi.ERESTARTNOINTR:
		restart = true
	case abi.ERESTARTSYS:
		sig := t.nextDeliverable()
		restart = sig == 0 || t.p.sigacts[sig].handler == sigDFL || t.p.sigacts[sig].handler == sigIGN || t.p.sigacts[sig].flags&abi.SA_RESTART != 0
	case abi.ERESTARTNOHAND:
		sig := t.nextDeliverable()
		restart = sig == 0 || t.p.sigacts[sig].handler == sigDFL || t.p.sigacts[sig].handler == sigIGN
	}
	if !restart {
		return abi.EINTR
	}
	t.cpu.RIP -= 2
	t.cpu.Regs[machine.RAX] = uint64(t.sc.code)
	return 0
}

// user memory helpers ---------------------------------------------------

func (t *Thread) readMem(addr uint64, b []byte) error {
	for {
		err := t.p.mem.Read(addr, b)
		if err == nil {
			return nil
		}
		if !t.p.k.faultIn(t.p, err) { // load demand-paged pages, retry
			return abi.EFAULT
		}
	}
}

func (t *Thread) writeMem(addr uint64, b []byte) error {
	for {
		err := t.p.mem.Write(addr, b)
		if err == nil {
			return nil
		}
		if !t.p.k.faultIn(t.p, err) { // load demand-paged pages, retry
			return abi.EFAULT
		}
	}
}

func (t *Thread) readU64(addr uint64) (uint64, error) {
	var b [8]byte
	if err := t.readMem(addr, b[:]); err != nil {
		return 0, err
	}
	return le64(b[:]), nil
}

func (t *Thread) writeU64(addr uint64, v uint64) error {
	var b [8]byte
	putLE64(b[:], v)
	return t.writeMem(addr, b[:])
}

func (t *Thread) readU32(addr uint64) (uint32, error) {
	var b [4]byte
	if err := t.readMem(addr, b[:]); err != nil {
		return 0, err
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

func (t *Thread) writeU32(addr uint64, v uint32) error {
	b := [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	return t.writeMem(addr, b[:])
}

// readString reads a NUL-terminated string of at most max bytes.
func (t *Thread) readString(addr uint64, max int) (string, error) {
	var buf []byte
	var chunk [256]byte
	for len(buf) < max {
		// Read up to the end of the page so we never fault past the string.
		n := machine.PageSize - int(addr%machine.PageSize)
		if n > len(chunk) {
			n = len(chunk)
		}
		if err := t.readMem(addr, chunk[:n]); err != nil {
			return "", err
		}
		for i := 0; i < n; i++ {
			if chunk[i] == 0 {
				return string(append(buf, chunk[:i]...)), nil
			}
		}
		buf = append(buf, chunk[:n]...)
		addr += uint64(n)
	}
	return "", abi.ENAMETOOLONG
}

// readStringArray reads a NULL-terminated array of string pointers (argv).
func (t *Thread) readStringArray(addr uint64) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := 0; ; i++ {
		if i > 1<<16 {
			return nil, abi.E2BIG
		}
		p, err := t.readU64(addr + uint64(8*i))
		if err != nil {
			return nil, err
		}
		if p == 0 {
			return out, nil
		}
		s, err := t.readString(p, 1<<17)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
}

func putLE64(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	b[4], b[5], b[6], b[7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
}

func putLE32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func errnoOf(err error) abi.Errno {
	var e abi.Errno
	if errors.As(err, &e) {
		return e
	}
	return abi.EIO
}
