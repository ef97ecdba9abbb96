package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/kernel"
	"ptrec/replay"
)

// exitCode is a process exit status of ptrec.
type exitCode int

// Exit statuses (DESIGN.md, "The command line").
const (
	exitOK        exitCode = 0
	exitDifferent exitCode = 1   // diff: the traces differ
	exitTrouble   exitCode = 2   // diff, dump, info: bad trace or usage
	exitFailed    exitCode = 125 // ptrec failed, replay diverged, bad trace
	exitNotExec   exitCode = 126 // PROG is not executable or not a supported ELF
	exitNotFound  exitCode = 127 // PROG not found
)

// streams are the standard streams commands use.
type streams struct {
	in       *os.File
	out, err io.Writer
}

// statusError carries an exit status chosen by a command.
type statusError struct {
	code exitCode
	err  error // printed unless nil
}

func (e *statusError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "ptrec",
		Short: "Record, replay and diff executions of Linux x86-64 programs",
		Long: `ptrec runs an unmodified Linux x86-64 program on an emulated machine, under an
emulated kernel whose ptrace follows FreeBSD's, records everything it does into
a trace, replays the trace deterministically and compares two traces.

Exit statuses: the guest's status for record and run (128+signal if it was
killed), 125 when ptrec fails or a replay diverges, 126 when PROG is not a
supported executable, 127 when PROG is not found; diff exits 0 (same),
1 (different) or 2 (trouble), as diff(1); dump and info exit 2 on a bad trace.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.AddCommand(newRecordCmd(s), newRunCmd(s), newReplayCmd(s), newDiffCmd(s), newDumpCmd(s), newInfoCmd(s))
	return root
}

// run executes the command line and maps errors to exit statuses; it is the
// only place that decides them.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) exitCode {
	s := streams{in: stdin, out: stdout, err: stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var se *statusError
	if errors.As(err, &se) {
		if se.err != nil {
			fmt.Fprintf(stderr, "ptrec: %v\n", se.err)
		}
		return se.code
	}
	fmt.Fprintf(stderr, "ptrec: %v\n", err)
	switch {
	case errors.Is(err, kernel.ErrNotFound):
		return exitNotFound
	case errors.Is(err, kernel.ErrNotExecutable):
		return exitNotExec
	case errors.Is(err, replay.ErrDivergence):
		return exitFailed
	}
	var fe *format.FormatError
	if errors.As(err, &fe) {
		return exitFailed
	}
	if isUsage(err) || strings.HasPrefix(err.Error(), "unknown command ") { // cobra's error has no type
		return exitTrouble
	}
	return exitFailed
}

// usageError marks a command-line mistake.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
