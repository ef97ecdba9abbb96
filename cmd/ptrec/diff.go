package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"ptrec/diff"
)

type diffOptions struct {
	context int
	ignore  string
	json    bool
	format  string
	deep    bool
	color   string
}

func newDiffCmd(s streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [flags] A B",
		Short: "Compare two traces: first divergence, its origin, and a summary",
		Long: `Compare two traces event by event, aligned per thread by their syscall and
stop sequence, so an inserted or missing syscall does not make everything after
it differ. Prints the first divergence with context from both traces, its
origin when it is an input (a clock, random bytes, file content, the
environment, the program), where control flow first differs (pc, symbol and
source line from the executable stored in the trace), and a summary.
In a trace recorded with the syscall log (--stops syscall-log, the default)
every logged syscall is compared on its own: its arguments, its result (an
error is a control-flow difference) and the caller it was made from.

--ignore time,pid,random,addresses,environment tolerates differences that
derive from those inputs: after the first such input only control flow (stops,
syscalls, pcs, host calls, exit status) is compared. A file .ptrecdiff in the
current directory may set defaults: "ignore = time,random" and "context = 5".

Exit status: 0 same, 1 different, 2 trouble.`,
		Example: `  $ ptrec diff testdata/traces/echoargs.ptrec new.ptrec
  $ ptrec diff --ignore time,random --format github golden.ptrec new.ptrec
  $ ptrec diff --deep old.ptrec new.ptrec`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(s, o, args[0], args[1], cmd.Flags().Changed("context"))
		},
	}
	cmd.Flags().IntVar(&o.context, "context", 3, "events of context shown around the first difference")
	cmd.Flags().StringVar(&o.ignore, "ignore", "", "input classes to tolerate: time, pid, random, addresses, environment (comma-separated)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON (same as --format json)")
	cmd.Flags().StringVar(&o.format, "format", "text", "output: text, json or github (GitHub Actions annotations)")
	cmd.Flags().BoolVar(&o.deep, "deep", false, "re-execute both traces to find the first instruction whose registers differ")
	cmd.Flags().StringVar(&o.color, "color", "auto", "colour the text output: auto, always or never")
	return cmd
}

func runDiff(s streams, o *diffOptions, pa, pb string, contextSet bool) error {
	trouble := func(err error) error { return &statusError{code: exitTrouble, err: err} }
	ig, err := diff.ParseIgnore(o.ignore)
	if err != nil {
		return trouble(err)
	}
	ctx := o.context
	if f, err := os.Open(diff.ConfigFile); err == nil {
		cfg, err := diff.ParseConfig(f)
		f.Close()
		if err != nil {
			return trouble(fmt.Errorf("%s: %w", diff.ConfigFile, err))
		}
		ig |= cfg.Ignore
		if cfg.Context >= 0 && !contextSet {
			ctx = cfg.Context
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return trouble(err)
	}
	if ctx < 0 || ctx > 1000 {
		return trouble(fmt.Errorf("--context must be from 0 to 1000"))
	}
	format := o.format
	if o.json {
		format = "json"
	}
	switch format {
	case "text", "json", "github":
	default:
		return trouble(fmt.Errorf("--format must be text, json or github, not %q", o.format))
	}
	opts := diff.Options{Ignore: ig, Context: ctx, Deep: o.deep}
	if o.deep && isTerminal(s.err) {
		opts.Progress = s.err
	}
	rep, err := diff.Compare(pa, pb, opts)
	if err != nil {
		return trouble(err)
	}
	switch format {
	case "json":
		if err := rep.WriteJSON(s.out); err != nil {
			return trouble(err)
		}
	case "github":
		rep.WriteGitHub(s.out)
	default:
		color := o.color == "always" || (o.color == "auto" && isTerminal(s.out) && os.Getenv("NO_COLOR") == "")
		rep.WriteText(s.out, diff.Style{Color: color})
	}
	if !rep.Same {
		return &statusError{code: exitDifferent}
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
