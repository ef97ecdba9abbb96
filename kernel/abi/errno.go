package abi

import "strconv"

// Errno is a Linux x86-64 error number, as seen by guest programs (negated
// in rax on syscall return). FreeBSD ptrace semantics still use Linux
// numbers: ENAMETOOLONG is 36, not FreeBSD's 63.
//
// Returning a constant Errno, or any value below 256, as an error does not
// allocate. Values of 256 and above (the kernel-internal restart codes) must
// be constants for the same guarantee.
type Errno uint16

// Kernel-internal restart codes (include/linux/errno.h). They never reach a
// guest: the syscall exit path turns them into EINTR or a restart.
const (
	ERESTARTSYS           Errno = 512 // restart if no handler, or if SA_RESTART
	ERESTARTNOINTR        Errno = 513 // always restart
	ERESTARTNOHAND        Errno = 514 // restart if no handler
	ENOIOCTLCMD           Errno = 515 // no ioctl command (mapped to ENOTTY)
	ERESTART_RESTARTBLOCK Errno = 516 // restart via restart_syscall
)

// MaxErrno is the largest Linux errno number a guest can see (EHWPOISON).
const MaxErrno = EHWPOISON

var restartNames = [...]struct{ name, msg string }{
	ERESTARTSYS - ERESTARTSYS:           {"ERESTARTSYS", "interrupted system call should be restarted"},
	ERESTARTNOINTR - ERESTARTSYS:        {"ERESTARTNOINTR", "interrupted system call should be restarted"},
	ERESTARTNOHAND - ERESTARTSYS:        {"ERESTARTNOHAND", "interrupted system call should be restarted if no handler"},
	ENOIOCTLCMD - ERESTARTSYS:           {"ENOIOCTLCMD", "no ioctl command"},
	ERESTART_RESTARTBLOCK - ERESTARTSYS: {"ERESTART_RESTARTBLOCK", "interrupted by signal, restart via restart_syscall"},
}

func (e Errno) entry() (name, msg string, ok bool) {
	if int(e) < len(errnoTable) && errnoTable[e].name != "" {
		t := errnoTable[e]
		return t.name, t.msg, true
	}
	if e >= ERESTARTSYS && int(e-ERESTARTSYS) < len(restartNames) {
		t := restartNames[e-ERESTARTSYS]
		return t.name, t.msg, true
	}
	return "", "", false
}

// Error returns the error message, e.g. "invalid argument" for EINVAL
// (glibc's strerror text, lowercased). Unknown values give "errno N".
func (e Errno) Error() string {
	if _, msg, ok := e.entry(); ok {
		return msg
	}
	return "errno " + strconv.Itoa(int(e))
}

// Name returns the C name, e.g. "EINVAL". Aliases (EWOULDBLOCK, EDEADLOCK,
// ENOTSUP) print as the name they alias. Unknown values give "errno N".
func (e Errno) Name() string {
	if name, _, ok := e.entry(); ok {
		return name
	}
	return "errno " + strconv.Itoa(int(e))
}

// String returns Name.
func (e Errno) String() string { return e.Name() }

// IsRestart reports whether e is one of the kernel-internal restart codes
// that must never reach a guest.
func (e Errno) IsRestart() bool {
	return e == ERESTARTSYS || e == ERESTARTNOINTR || e == ERESTARTNOHAND || e == ERESTART_RESTARTBLOCK
}

// ErrnoByName returns the Errno with the given C name (aliases included).
func ErrnoByName(name string) (Errno, bool) {
	switch name {
	case "EWOULDBLOCK":
		return EWOULDBLOCK, true
	case "EDEADLOCK":
		return EDEADLOCK, true
	case "ENOTSUP":
		return ENOTSUP, true
	}
	for i, t := range errnoTable {
		if t.name == name {
			return Errno(i), true
		}
	}
	for i, t := range restartNames {
		if t.name == name {
			return ERESTARTSYS + Errno(i), true
		}
	}
	return 0, false
}

// ENOTSUP is the C library's name for EOPNOTSUPP on Linux.
const ENOTSUP = EOPNOTSUPP
