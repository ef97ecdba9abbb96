// Package abi holds the binary interfaces ptrec's emulated kernel speaks:
// Linux x86-64 constants and structure layouts (errno, syscall numbers,
// signals, stat, siginfo, ...) seen by guest programs, and FreeBSD amd64
// ptrace constants and structures (struct reg, ptrace_lwpinfo, ...) used by
// the FreeBSD-style ptrace of sys_process.c.
//
// Identifiers that mirror an ABI keep their C spellings (EINVAL, PT_ATTACH,
// SIGSTOP). Structures are encoded to and decoded from little-endian byte
// slices by explicit Marshal and Unmarshal methods; nothing uses unsafe or
// reflection, so the package gives the same answers on any GOARCH.
//
// The package imports only the standard library.
package abi
