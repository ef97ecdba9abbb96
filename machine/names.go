package machine

import "strconv"

var exitNames = [...]string{
	ExitBudget:     "budget",
	ExitSyscall:    "syscall",
	ExitBreakpoint: "breakpoint",
	ExitSingleStep: "single-step",
	ExitDebug:      "debug",
	ExitPageFault:  "page-fault",
	ExitGP:         "general-protection",
	ExitUD:         "invalid-opcode",
	ExitDE:         "divide-error",
	ExitFPE:        "floating-point",
	ExitRdtsc:      "rdtsc",
	ExitRdrand:     "rdrand",
	ExitHalt:       "halt",
}

func (r ExitReason) String() string {
	if int(r) < len(exitNames) {
		return exitNames[r]
	}
	return "ExitReason(" + strconv.Itoa(int(r)) + ")"
}

var accessNames = [...]string{AccessRead: "read", AccessWrite: "write", AccessExec: "exec"}

func (a Access) String() string {
	if int(a) < len(accessNames) {
		return accessNames[a]
	}
	return "Access(" + strconv.Itoa(int(a)) + ")"
}

func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}
