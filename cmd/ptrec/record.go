package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/kernel/abi"
	"ptrec/kernel/hostos"
	"ptrec/record"
)

type recordOptions struct {
	output     string
	stops      string
	strict     bool
	debug      bool
	maxInsns   uint64
	noTrace    bool
	followFork bool
	seed       int64
	cpuProfile string         // --cpuprofile: pprof CPU profile of the run
	memProfile string         // --memprofile: pprof heap profile at the end of the run
	sb         sandboxOptions // --root, --read-only, --env, limits (sandbox.go)
}

func newRecordCmd(s streams) *cobra.Command {
	o := &recordOptions{}
	cmd := &cobra.Command{
		Use:   "record [flags] -- PROG [ARGS...]",
		Short: "Run a program emulated and record a trace",
		Example: `  $ ptrec record -o t.ptrec -- ./testdata/bin/echoargs.musl a b < input
  $ ptrec replay t.ptrec`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRecord(s, o, args) },
	}
	addRunFlags(cmd, o)
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "trace file (default ./PROG-N.ptrec)")
	cmd.Flags().StringVar(&o.stops, "stops", record.StopsSyscallLog, "where the recorder stops the guest: syscall-log (the kernel logs every syscall with its result; stops at signals, exec, fork, exit and every 4096 syscalls), syscall (every syscall entry), syscall-entry-exit (entry and exit), signal or step")
	cmd.Flags().BoolVar(&o.followFork, "follow-fork", true, "trace forked children too (turn off to record a guest that debugs its own children)")
	return cmd
}

func newRunCmd(s streams) *cobra.Command {
	o := &recordOptions{noTrace: true, stops: record.StopsSignal}
	cmd := &cobra.Command{
		Use:   "run [flags] -- PROG [ARGS...]",
		Short: "Run a program emulated, without a trace",
		Args:  cobra.MinimumNArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return runRecord(s, o, args) },
	}
	addRunFlags(cmd, o)
	return cmd
}

// traceLimitSyslogBatch is the syscall log's batch under --max-trace-size.
const traceLimitSyslogBatch = 64

func addRunFlags(cmd *cobra.Command, o *recordOptions) {
	cmd.Flags().BoolVar(&o.strict, "strict", false, "make an unimplemented syscall fatal (exit 125)")
	cmd.Flags().BoolVar(&o.debug, "debug-ptrace", false, "log every ptrace request (KTR-style) on stderr")
	cmd.Flags().Uint64Var(&o.maxInsns, "max-insns", 0, "stop the run after this many instructions (0: no limit)")
	cmd.Flags().Int64Var(&o.seed, "seed", -1, "make randomness and clocks reproducible from this seed (for golden traces); -1: the real host's")
	addSandboxFlags(cmd, &o.sb)
	cmd.Flags().StringVar(&o.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of ptrec to this file")
	cmd.Flags().StringVar(&o.memProfile, "memprofile", "", "write a pprof heap profile of ptrec (at the end of the run) to this file")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	_ = cmd.Flags().MarkHidden("memprofile")
}

// startProfiles starts what --cpuprofile and --memprofile ask for; the
// returned function stops them and writes the files.
func startProfiles(o *recordOptions) (func() error, error) {
	var cpu *os.File
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		cpu = f
	}
	if o.memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return err
			}
		}
		if o.memProfile == "" {
			return nil
		}
		f, err := os.Create(o.memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// lookPath finds PROG as a shell would.
func lookPath(prog string) (string, error) {
	if strings.Contains(prog, "/") {
		abs, err := filepath.Abs(prog)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("%w: %s", kernel.ErrNotFound, prog)
		}
		return abs, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, prog)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("%w: %s", kernel.ErrNotFound, prog)
}

// defaultTraceName returns ./PROG-N.ptrec with the first free N.
func defaultTraceName(prog string) string {
	base := filepath.Base(prog)
	for n := 1; ; n++ {
		name := fmt.Sprintf("%s-%d.ptrec", base, n)
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
	}
}

// fixedHostPid is the pid ptrec reports as its own under --seed.
const fixedHostPid = 1000

func runRecord(s streams, o *recordOptions, args []string) error {
	if err := o.sb.validate(); err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	switch o.stops {
	case record.StopsSyscallLog, record.StopsSyscall, record.StopsSyscallBoth, record.StopsSignal, record.StopsStep:
	default:
		return &statusError{code: exitTrouble, err: fmt.Errorf("--stops must be syscall, syscall-entry-exit, signal or step, not %q", o.stops)}
	}
	var host kernel.Host = hostos.New(s.in, os.Stdout, os.Stderr)
	if o.seed >= 0 {
		host = hostos.NewFixed(host, uint64(o.seed))
	}
	ro := record.Options{
		Argv: args, Stops: o.stops,
		Host: host, Facts: hostos.Facts(),
		Warn: s.err, Strict: o.strict, MaxInsns: o.maxInsns,
		Untraced: o.noTrace, NoFollowFork: !o.followFork,
	}
	if o.seed >= 0 {
		// A reproducible run also pins the one host id a guest can see
		// (getppid of the first process is ptrec's own pid).
		ro.Facts.HostPid = fixedHostPid
	}
	path, err := o.sb.apply(&ro, args[0])
	if err != nil {
		return err
	}
	ro.Path = path
	if o.debug {
		ro.Logger = slog.New(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var interrupted atomic.Int32
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sg := range sigs {
			interrupted.Store(int32(sg.(syscall.Signal)))
		}
	}()
	ro.Interrupted = func() bool { return interrupted.Load() != 0 || o.sb.stopForSize() }
	if o.sb.traceLimit != 0 {
		// The size is checked at stops: under the syscall log, stop
		// every 64 syscalls rather than 4096, and once the guest has
		// changed an eighth of the limit in pages, so that what it logs
		// between two checks stays small.
		ro.SyslogBatch = traceLimitSyslogBatch
		ro.SyslogPages = o.sb.limitSyslogPages()
	}

	var sink record.Sink
	var w *format.Writer
	var f *os.File
	out := o.output
	if !o.noTrace {
		if out == "" {
			out = defaultTraceName(args[0])
		}
		f, err = os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		var wopts []format.WriterOption
		if o.sb.traceLimit != 0 {
			// The limit is checked against the bytes on the file: a
			// synchronous writer has no frames in flight then.
			wopts = append(wopts, format.WithConcurrency(0))
		}
		w, err = format.NewWriter(o.sb.traceWriter(f), record.Header(ro, args[0]), wopts...)
		if err != nil {
			return err
		}
		sink = w
	}
	stopProfiles, err := startProfiles(o)
	if err != nil {
		return err
	}
	res, err := record.Record(ro, sink)
	if perr := stopProfiles(); err == nil && perr != nil {
		err = perr
	}
	o.sb.reportEnd(s.err, res, o.maxInsns)
	if w != nil {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		fmt.Fprintf(s.err, "ptrec: trace written to %s\n", out)
	}
	if err != nil {
		return err
	}
	if sg := interrupted.Load(); sg != 0 {
		return &statusError{code: exitCode(128 + sg)}
	}
	return &statusError{code: guestExit(res.Status)}
}

// guestExit maps a wait status to ptrec's exit status.
func guestExit(status int32) exitCode {
	ws := abi.WaitStatus(status)
	if ws.Signaled() {
		return exitCode(128 + int(ws.Signal()))
	}
	return exitCode(ws.ExitStatus())
}
