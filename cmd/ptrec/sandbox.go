package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/machine"
	"ptrec/record"
)

// sandboxOptions are the confinement and limit flags of run and record
// (README "Security model").
type sandboxOptions struct {
	root         string
	readOnly     bool
	env          []string
	clearEnv     bool
	maxMemory    string
	maxProcs     int
	maxTraceSize string

	traceBytes atomic.Int64 // bytes written to the trace file so far
	traceLimit int64        // parsed --max-trace-size (0: none)
	traceFull  atomic.Bool  // the trace limit stopped the recording
}

func addSandboxFlags(cmd *cobra.Command, o *sandboxOptions) {
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "", "make host directory DIR the guest's / (paths, symlinks and .. never leave it)")
	f.BoolVar(&o.readOnly, "read-only", false, "refuse every write to the host filesystem (EROFS)")
	f.StringArrayVar(&o.env, "env", nil, "set KEY=VAL in the guest's environment (repeatable)")
	f.BoolVar(&o.clearEnv, "clear-env", false, "start the guest with an empty environment (then --env)")
	f.StringVar(&o.maxMemory, "max-memory", "", "most guest memory mapped at once, e.g. 256M (mmap/brk/fork beyond it: ENOMEM)")
	f.IntVar(&o.maxProcs, "max-procs", 0, "most guest processes and threads at once (fork/clone beyond it: EAGAIN; 0: no limit)")
	f.StringVar(&o.maxTraceSize, "max-trace-size", "", "stop the guest and finish the trace before it grows beyond this size, e.g. 1G")
}

// parseSize reads a byte count with an optional K, M, G or T suffix (powers
// of 1024).
func parseSize(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s, "B"), "b"))
	shift := uint(0)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift != 0 {
			t = t[:n-1]
		}
	}
	var v uint64
	if _, err := fmt.Sscanf(t, "%d", &v); err != nil || fmt.Sprint(v) != t {
		return 0, fmt.Errorf("bad size %q (want a number with an optional K, M, G or T suffix)", s)
	}
	if v > (^uint64(0))>>shift {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return v << shift, nil
}

// validate checks the flags before anything runs; errors are usage errors.
func (o *sandboxOptions) validate() error {
	if o.root != "" {
		st, err := os.Stat(o.root)
		if err != nil {
			return fmt.Errorf("--root: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("--root: %s is not a directory", o.root)
		}
		abs, err := filepath.Abs(o.root)
		if err != nil {
			return fmt.Errorf("--root: %w", err)
		}
		// The root itself may be reached through host symlinks: the guest
		// is confined to what it names now.
		if o.root, err = filepath.EvalSymlinks(abs); err != nil {
			return fmt.Errorf("--root: %w", err)
		}
	}
	for _, kv := range o.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
	}
	if _, err := parseSize(o.maxMemory); err != nil {
		return fmt.Errorf("--max-memory: %w", err)
	}
	n, err := parseSize(o.maxTraceSize)
	if err != nil {
		return fmt.Errorf("--max-trace-size: %w", err)
	}
	if n > 1<<62 {
		return fmt.Errorf("--max-trace-size: %s is too large", o.maxTraceSize)
	}
	o.traceLimit = int64(n)
	if o.maxProcs < 0 {
		return fmt.Errorf("--max-procs must not be negative")
	}
	return nil
}

// environ returns the guest's environment: the host's (or none with
// --clear-env), then each --env in order, a later KEY replacing an earlier.
func (o *sandboxOptions) environ() []string {
	var env []string
	if !o.clearEnv {
		env = os.Environ()
	}
	for _, kv := range o.env {
		k, _, _ := strings.Cut(kv, "=")
		out := env[:0:0]
		for _, e := range env {
			if ek, _, _ := strings.Cut(e, "="); ek != k {
				out = append(out, e)
			}
		}
		env = append(out, kv)
	}
	return env
}

// lookPath finds PROG: on the host as a shell would, or with --root as a
// guest path inside the root (searching the guest's PATH, or
// /usr/local/bin:/usr/bin:/bin, when PROG has no slash).
func (o *sandboxOptions) lookPath(prog string, ch *kernel.ConfinedHost, cwd string) (string, error) {
	if o.root == "" {
		return lookPath(prog)
	}
	var cands []string
	if strings.Contains(prog, "/") {
		if !strings.HasPrefix(prog, "/") {
			prog = cwd + "/" + prog
		}
		cands = []string{prog}
	} else {
		pathVar := "/usr/local/bin:/usr/bin:/bin"
		for _, e := range o.environ() {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				pathVar = v
			}
		}
		for _, dir := range strings.Split(pathVar, ":") {
			if strings.HasPrefix(dir, "/") {
				cands = append(cands, dir+"/"+prog)
			}
		}
	}
	for _, c := range cands {
		hp, err := ch.Resolve(c, true)
		if err != nil {
			continue
		}
		if st, err := os.Lstat(hp); err == nil && (len(cands) == 1 || !st.IsDir() && st.Mode()&0o111 != 0) {
			return kernel.CleanGuestPath(c), nil
		}
	}
	return "", fmt.Errorf("%w: %s (inside --root %s)", kernel.ErrNotFound, prog, o.root)
}

// apply confines ro's host and sets the guest's environment, working
// directory and limits. It returns the program's path for ro.Path.
func (o *sandboxOptions) apply(ro *record.Options, prog string) (string, error) {
	ro.Envp = o.environ()
	mem, _ := parseSize(o.maxMemory)
	ro.Facts.Limits = kernel.Limits{MaxMemory: mem, MaxProcs: o.maxProcs}
	if o.root == "" && !o.readOnly {
		return lookPath(prog)
	}
	ch := kernel.NewConfinedHost(ro.Host, o.root, o.readOnly)
	ro.Host = ch
	if o.root != "" {
		// The guest starts where the host's working directory is, if that
		// is inside the root, and at its / otherwise.
		cwd, ok := ch.GuestPath(ro.Facts.Cwd)
		if !ok {
			cwd = "/"
		}
		ro.Facts.Cwd = cwd
	}
	return o.lookPath(prog, ch, ro.Facts.Cwd)
}

// traceWriter counts the bytes written to the trace file.
func (o *sandboxOptions) traceWriter(w io.Writer) io.Writer {
	return countingWriter{w: w, n: &o.traceBytes}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// traceReserve is what a trace may still need after the size check stops
// the guest: the chunk being filled (written out compressed, at most its raw
// size), the final events, the index and the footer.
const traceReserve = 256<<10 + 64<<10

// limitSyslogPages is the syscall log's page budget under --max-trace-size:
// the guest stops (and the size is checked) once it has changed an eighth
// of the limit in pages.
func (o *sandboxOptions) limitSyslogPages() int {
	return int(max(16, o.traceLimit/8/machine.PageSize))
}

// stopForSize reports whether the recording must stop now to stay within
// --max-trace-size; it is polled with the interrupt check between stops.
// Until the next check the guest may add a memory delta of up to the page
// budget (at most PageSize+16 bytes a page, and a frame header a MiB of
// it, even incompressible): that is kept free too.
func (o *sandboxOptions) stopForSize() bool {
	if o.traceLimit == 0 {
		return false
	}
	delta := int64(o.limitSyslogPages()) * (machine.PageSize + 16)
	delta += delta>>20*(format.FrameHeaderSize+64) + format.FrameHeaderSize + 64
	if o.traceBytes.Load()+traceReserve+delta >= o.traceLimit {
		o.traceFull.Store(true)
		return true
	}
	return false
}

// reportEnd says on w why a run ended early because of a limit: one line,
// after which the exit status is the killed guest's (137, 128+SIGKILL).
func (o *sandboxOptions) reportEnd(w io.Writer, res record.Result, maxInsns uint64) {
	switch {
	case res.Reason == "limit":
		fmt.Fprintf(w, "ptrec: instruction limit reached (--max-insns %d): guest killed at instruction %d\n", maxInsns, res.Icount)
	case o.traceFull.Load():
		fmt.Fprintf(w, "ptrec: trace size limit reached (--max-trace-size %s): guest killed at instruction %d, trace finished\n", o.maxTraceSize, res.Icount)
	}
}
