//go:build linux || darwin || freebsd || netbsd || openbsd

package format

import "syscall"

// cpuTime is the process's user and system CPU time in nanoseconds, for
// benchmarks of work spread over goroutines.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
