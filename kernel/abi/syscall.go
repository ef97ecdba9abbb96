package abi

import "strconv"

// MaxSyscall is the largest Linux x86-64 syscall number in the table.
const MaxSyscall = len(syscallTable) - 1

// SyscallName returns the name of Linux x86-64 syscall nr ("read" for 0),
// or "syscall_N" for a number with no entry.
func SyscallName(nr int) string {
	if nr >= 0 && nr < len(syscallTable) && syscallTable[nr].name != "" {
		return syscallTable[nr].name
	}
	return "syscall_" + strconv.Itoa(nr)
}

// SyscallNarg returns the number of arguments Linux x86-64 syscall nr takes
// (the n of its SYSCALL_DEFINEn), as reported in FreeBSD's pl_syscall_narg.
// It returns 0 for a number with no entry.
func SyscallNarg(nr int) int {
	if nr >= 0 && nr < len(syscallTable) {
		return int(syscallTable[nr].narg)
	}
	return 0
}

// SyscallValid reports whether nr is a syscall number in the Linux x86-64
// table (numbers 335-423 are reserved and have no entry).
func SyscallValid(nr int) bool {
	return nr >= 0 && nr < len(syscallTable) && syscallTable[nr].name != ""
}

// SyscallByName returns the number of the Linux x86-64 syscall with the
// given name.
func SyscallByName(name string) (int, bool) {
	for i, s := range syscallTable {
		if s.name == name && s.name != "" {
			return i, true
		}
	}
	return 0, false
}
