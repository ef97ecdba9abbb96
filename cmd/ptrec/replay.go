package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/replay"
	"ptrec/replay/gdbremote"
)

type replayOptions struct {
	quiet       bool
	script      string
	interactive bool
	gdb         string
	interval    uint64
	memory      uint64
	profiles    recordOptions // --cpuprofile and --memprofile (hidden)
}

func newReplayCmd(s streams) *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:   "replay [flags] TRACE",
		Short: "Re-execute a trace, verifying every stop",
		Long: `Replay re-executes a trace deterministically, answering every host input from
the trace and checking every stop against the recording; the first divergence
is reported and ptrec exits 125.

With --script or -i it runs debugging commands instead (forwards and
backwards); with --gdb it serves the gdb remote protocol, reverse execution
included.

Commands:
` + replay.Commands,
		Example: `  $ ptrec replay t.ptrec
  $ echo 'break main
  continue
  rstep 3
  regs' | ptrec replay --script - t.ptrec
  $ ptrec replay --gdb 127.0.0.1:2345 t.ptrec &
  $ gdb -ex 'target remote 127.0.0.1:2345' prog`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, on := range []bool{o.script != "", o.interactive, o.gdb != ""} {
				if on {
					n++
				}
			}
			if n > 1 {
				return usageError{"replay: --script, -i and --gdb exclude each other"}
			}
			return runReplay(s, o, args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not echo the guest's output")
	f.StringVar(&o.script, "script", "", "run replay commands from `FILE` (- for stdin)")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "read replay commands interactively")
	f.StringVar(&o.gdb, "gdb", "", "serve the gdb remote protocol on `HOST:PORT` (port 0: any; the address is printed)")
	f.Uint64Var(&o.interval, "checkpoint-interval", replay.DefaultCheckpointInterval, "instructions between checkpoints")
	f.Uint64Var(&o.memory, "checkpoint-memory", replay.DefaultCheckpointMemory, "bytes of memory checkpoints may hold")
	f.StringVar(&o.profiles.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of ptrec to this file")
	f.StringVar(&o.profiles.memProfile, "memprofile", "", "write a pprof heap profile of ptrec (at the end of the replay) to this file")
	_ = f.MarkHidden("cpuprofile")
	_ = f.MarkHidden("memprofile")
	return cmd
}

// progress prints instructions done, rate and ETA on a terminal, at most
// a few times a second.
func progress(w io.Writer) func(done, total uint64) {
	start := time.Now()
	var last time.Time
	return func(done, total uint64) {
		now := time.Now()
		if now.Sub(last) < 200*time.Millisecond {
			return
		}
		last = now
		el := now.Sub(start).Seconds()
		rate := float64(done) / el
		if total > done && rate > 0 {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
			fmt.Fprintf(w, "\r%d/%d instructions, %.1f M/s, ETA %v   ", done, total, rate/1e6, eta)
		} else {
			fmt.Fprintf(w, "\r%d instructions, %.1f M/s   ", done, rate/1e6)
		}
	}
}

func runReplay(s streams, o *replayOptions, path string) (err error) {
	stop, err := startProfiles(&o.profiles)
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	defer func() {
		if perr := stop(); perr != nil && err == nil {
			err = &statusError{code: exitFailed, err: perr}
		}
	}()
	rd, err := format.Open(path)
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	defer rd.Close()
	debugging := o.script != "" || o.interactive || o.gdb != ""
	ro := replay.Options{Stdout: s.out, Stderr: s.err}
	if o.quiet || debugging {
		ro = replay.Options{}
	}
	if isTerminal(s.err) {
		ro.Progress = progress(s.err)
	}
	r, err := replay.New(rd, ro)
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	r.SetCheckpointPolicy(o.interval, o.memory)
	switch {
	case o.script != "":
		in := io.Reader(s.in)
		if o.script != "-" {
			f, err := os.Open(o.script)
			if err != nil {
				return &statusError{code: exitFailed, err: err}
			}
			defer f.Close()
			in = f
		}
		if err := r.Script(in, s.out, false, ""); err != nil {
			return &statusError{code: exitFailed, err: err}
		}
		return nil
	case o.interactive:
		prompt := ""
		if isTerminal(s.in) {
			prompt = "(ptrec) "
		}
		if err := r.Script(s.in, s.out, true, prompt); err != nil {
			return &statusError{code: exitFailed, err: err}
		}
		return nil
	case o.gdb != "":
		ln, err := net.Listen("tcp", o.gdb)
		if err != nil {
			return &statusError{code: exitFailed, err: err}
		}
		defer ln.Close()
		fmt.Fprintf(s.err, "ptrec: gdb server listening on %s\n", ln.Addr())
		conn, err := ln.Accept()
		if err != nil {
			return &statusError{code: exitFailed, err: err}
		}
		defer conn.Close()
		if err := gdbremote.Serve(conn, r); err != nil {
			return &statusError{code: exitFailed, err: err}
		}
		return nil
	}
	res, err := r.Run()
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	return &statusError{code: guestExit(res.Status)}
}
