package main

import (
	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/replay"
)

type replayOptions struct {
	quiet bool
}

func newReplayCmd(s streams) *cobra.Command {
	o := &replayOptions{}
	cmd := &cobra.Command{
		Use:     "replay [flags] TRACE",
		Short:   "Re-execute a trace, verifying every stop",
		Example: `  $ ptrec replay t.ptrec`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runReplay(s, o, args[0]) },
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "do not echo the guest's output")
	return cmd
}

func runReplay(s streams, o *replayOptions, path string) error {
	rd, err := format.Open(path)
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	defer rd.Close()
	ro := replay.Options{Stdout: s.out, Stderr: s.err}
	if o.quiet {
		ro = replay.Options{}
	}
	r, err := replay.New(rd, ro)
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	res, err := r.Run()
	if err != nil {
		return &statusError{code: exitFailed, err: err}
	}
	return &statusError{code: guestExit(res.Status)}
}
