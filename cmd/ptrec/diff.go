package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/kernel"
)

type diffOptions struct {
	context int
}

func newDiffCmd(s streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:     "diff [flags] A B",
		Short:   "Compare two traces event by event",
		Example: `  $ ptrec diff golden.ptrec new.ptrec`,
		Args:    cobra.ExactArgs(2),
		RunE:    func(cmd *cobra.Command, args []string) error { return runDiff(s, o, args[0], args[1]) },
	}
	cmd.Flags().IntVar(&o.context, "context", 3, "events of context shown around the first difference")
	return cmd
}

// readAll reads every event of a trace.
func readAll(path string) (format.Header, []*format.Event, error) {
	rd, err := format.Open(path)
	if err != nil {
		return format.Header{}, nil, err
	}
	defer rd.Close()
	var evs []*format.Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return rd.Header(), evs, nil
		}
		if err != nil {
			return format.Header{}, nil, err
		}
		evs = append(evs, ev)
	}
}

// sameEvent compares two events (everything but the sequence number).
func sameEvent(a, b *format.Event) bool {
	if a.Kind != b.Kind || a.Icount != b.Icount || a.Pid != b.Pid || a.Tid != b.Tid {
		return false
	}
	switch a.Kind {
	case format.KindRequest:
		x, y := a.Request, b.Request
		return x.Op == y.Op && x.Pid == y.Pid && x.Addr == y.Addr && x.Data == y.Data && x.Result == y.Result &&
			x.Errno == y.Errno && bytes.Equal(x.In, y.In) && bytes.Equal(x.Out, y.Out)
	case format.KindStop:
		return *a.Stop == *b.Stop
	case format.KindMemDelta:
		if len(a.Mem.Ranges) != len(b.Mem.Ranges) {
			return false
		}
		for i := range a.Mem.Ranges {
			if a.Mem.Ranges[i].Addr != b.Mem.Ranges[i].Addr || !bytes.Equal(a.Mem.Ranges[i].Data, b.Mem.Ranges[i].Data) {
				return false
			}
		}
		return true
	case format.KindInput:
		x, y := a.Input, b.Input
		if x.Op != y.Op || x.Path != y.Path || x.Handle != y.Handle || x.Ret != y.Ret || x.Errno != y.Errno ||
			!bytes.Equal(x.In, y.In) || len(x.Args) != len(y.Args) {
			return false
		}
		if !metadataOnly(kernel.HostOp(x.Op)) && !bytes.Equal(x.Out, y.Out) {
			return false
		}
		for i := range x.Args {
			if x.Args[i] != y.Args[i] {
				return false
			}
		}
		return true
	case format.KindExit:
		return *a.Exit == *b.Exit
	}
	return true
}

// metadataOnly reports whether a host reply is file metadata (inode
// numbers, timestamps) that differs between any two runs. Such replies are
// not compared directly: whatever of them the guest saw reaches its memory
// and is compared through the memory deltas.
func metadataOnly(op kernel.HostOp) bool {
	switch op {
	case kernel.HostStat, kernel.HostFstat, kernel.HostStatfs:
		return true
	}
	return false
}

func runDiff(s streams, o *diffOptions, pa, pb string) error {
	ha, ea, err := readAll(pa)
	if err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	hb, eb, err := readAll(pb)
	if err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	different := false
	if fmt.Sprint(ha.Argv) != fmt.Sprint(hb.Argv) {
		fmt.Fprintf(s.out, "argv differs: %q vs %q\n", ha.Argv, hb.Argv)
		different = true
	}
	first := -1
	n := min(len(ea), len(eb))
	changed := 0
	for i := 0; i < n; i++ {
		if !sameEvent(ea[i], eb[i]) {
			if first < 0 {
				first = i
			}
			changed++
		}
	}
	if first < 0 && len(ea) != len(eb) {
		first = n
	}
	if first >= 0 {
		different = true
		fmt.Fprintf(s.out, "first difference at event #%d\n", first)
		lo, hi := max(0, first-o.context), first+o.context+1
		fmt.Fprintf(s.out, "--- %s\n", pa)
		for i := lo; i < min(hi, len(ea)); i++ {
			mark := " "
			if i == first {
				mark = "-"
			}
			fmt.Fprintf(s.out, "%s %s\n", mark, eventLine(ea[i]))
		}
		fmt.Fprintf(s.out, "+++ %s\n", pb)
		for i := lo; i < min(hi, len(eb)); i++ {
			mark := " "
			if i == first {
				mark = "+"
			}
			fmt.Fprintf(s.out, "%s %s\n", mark, eventLine(eb[i]))
		}
	}
	exitA, exitB := lastExit(ea), lastExit(eb)
	fmt.Fprintf(s.out, "summary: %d events vs %d, %d changed in the common prefix, %d only in A, %d only in B; exit %s vs %s\n",
		len(ea), len(eb), changed, len(ea)-n, len(eb)-n, exitA, exitB)
	if different {
		return &statusError{code: exitDifferent}
	}
	return nil
}

func lastExit(evs []*format.Event) string {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == format.KindExit {
			return fmt.Sprintf("%#x", evs[i].Exit.Status)
		}
	}
	return "none"
}
