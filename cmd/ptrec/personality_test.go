package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair, or skips the test.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		unix.Close(m)
		t.Skipf("opening the pty slave: %v", err)
	}
	master = os.NewFile(uintptr(m), "/dev/ptmx")
	t.Cleanup(func() { master.Close(); s.Close() })
	return master, s
}

// runDevTTY runs argv in a new session, with the pty slave (if any) as its
// controlling terminal and stdin; it returns stdout, the exit status and
// what reached the terminal.
func runDevTTY(t *testing.T, slave, master *os.File, argv ...string) (string, int, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if slave != nil {
		cmd.Stdin = slave
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 0
	}
	var tty bytes.Buffer
	done, stop := make(chan struct{}), make(chan struct{})
	defer close(stop)
	if master != nil {
		go func() {
			defer close(done)
			buf := make([]byte, 4096)
			for {
				select {
				case <-stop:
					return
				default:
				}
				master.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				n, err := master.Read(buf)
				tty.Write(buf[:n])
				if err != nil && !os.IsTimeout(err) || strings.Contains(tty.String(), "written to /dev/tty") {
					return
				}
			}
		}()
	} else {
		close(done)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatalf("%v: nothing reached the terminal", argv)
	}
	if code != 0 {
		t.Logf("%v stderr: %s", argv, errb.String())
	}
	return out.String(), code, tty.String()
}

// TestDevTTY opens /dev/tty natively and under ptrec record and replay,
// with a controlling terminal (a pseudo-terminal of the test's own) and
// without one (ENXIO).
func TestDevTTY(t *testing.T) {
	if !nativeOK() {
		t.Skip("native comparison needs linux/amd64")
	}
	for _, libc := range []string{"musl", "glibc"} {
		bin := filepath.Join(repoRoot, "testdata/bin/devtty."+libc)
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("guest not built: %v", err)
		}
		for _, withTTY := range []bool{true, false} {
			name := libc + "/no-ctty"
			if withTTY {
				name = libc + "/ctty"
			}
			t.Run(name, func(t *testing.T) {
				var master, slave *os.File
				if withTTY {
					master, slave = openPTY(t)
				}
				want, wantCode, wantTTY := runDevTTY(t, slave, master, bin)
				if withTTY && !strings.Contains(want, "open /dev/tty: ok") {
					t.Fatalf("native run did not open /dev/tty: %q", want)
				}
				trace := filepath.Join(t.TempDir(), "t.ptrec")
				got, code, gotTTY := runDevTTY(t, slave, master, ptrecBin, "record", "--seed", "5", "-o", trace, "--", bin)
				if got != want || code != wantCode {
					t.Fatalf("record = (%q, %d), native = (%q, %d)", got, code, want, wantCode)
				}
				if withTTY && (!strings.Contains(wantTTY, "written to /dev/tty") || !strings.Contains(gotTTY, "written to /dev/tty")) {
					t.Errorf("terminal saw %q natively, %q under ptrec", wantTTY, gotTTY)
				}
				rep := exec.Command(ptrecBin, "replay", trace)
				rep.Stdin = nil
				var rout bytes.Buffer
				rep.Stdout, rep.Stderr = &rout, io.Discard
				err := rep.Run()
				rcode := 0
				if ee, ok := err.(*exec.ExitError); ok {
					rcode = ee.ExitCode()
				}
				if rout.String() != got || rcode != code {
					t.Errorf("replay = (%q, %d), recorded (%q, %d)", rout.String(), rcode, got, code)
				}
			})
		}
	}
}
