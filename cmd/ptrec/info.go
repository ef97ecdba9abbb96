package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"

	"ptrec/format"
	"ptrec/kernel/abi"
)

type infoOptions struct{ json bool }

func newInfoCmd(s streams) *cobra.Command {
	o := &infoOptions{}
	cmd := &cobra.Command{
		Use:     "info [flags] TRACE",
		Short:   "Print a trace's header and statistics",
		Example: `  $ ptrec info --json t.ptrec`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runInfo(s, o, args[0]) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// traceStats are the statistics info reports.
type traceStats struct {
	Program      string            `json:"program"`
	Argv         []string          `json:"argv"`
	Stops        string            `json:"stops"`
	Version      string            `json:"version"`
	Instructions uint64            `json:"instructions"`
	Events       uint64            `json:"events"`
	Kinds        map[string]uint64 `json:"kinds"`
	Syscalls     uint64            `json:"syscalls"`
	SyscallNames map[string]uint64 `json:"syscalls_by_name"`
	Processes    int               `json:"processes"`
	Threads      int               `json:"threads"`
	Bytes        int64             `json:"bytes"`
	RawBytes     int64             `json:"raw_bytes"`
	Ratio        float64           `json:"compression_ratio"`
	Chunks       int               `json:"chunks"`
	Blobs        int               `json:"blobs"`
	Truncated    bool              `json:"truncated"`
	Surviving    uint64            `json:"surviving_events"` // events readable (all of them unless truncated)
	ExitStatus   *int32            `json:"exit_status"`
	ExitReason   string            `json:"exit_reason"`
}

func runInfo(s streams, o *infoOptions, path string) error {
	rd, err := format.Open(path)
	if err != nil {
		return &statusError{code: exitTrouble, err: err}
	}
	defer rd.Close()
	h := rd.Header()
	st := traceStats{Program: h.Program, Argv: h.Argv, Stops: h.Stops, Version: fmt.Sprintf("%d.%d", h.Major, h.Minor),
		Kinds: map[string]uint64{}, SyscallNames: map[string]uint64{}}
	pids, tids := map[int32]bool{}, map[int32]bool{}
	// Syscalls are counted from syscalls events when the trace has them
	// (policy syscall-log), else from the syscall-entry stops.
	logged, sceStops, stopNames := false, 0, map[string]uint64{}
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &statusError{code: exitTrouble, err: err}
		}
		st.Events++
		st.Kinds[ev.Kind.String()]++
		if ev.Icount > st.Instructions {
			st.Instructions = ev.Icount
		}
		if ev.Kind == format.KindStop {
			pids[ev.Pid] = true
			if ev.Tid != 0 {
				tids[ev.Tid] = true
			}
			if ev.Stop.Flags&abi.PL_FLAG_SCE != 0 && abi.WaitStatus(ev.Stop.Status).Stopped() && ev.Stop.Flags&abi.PL_FLAG_SI == 0 {
				sceStops++
				stopNames[abi.SyscallName(int(ev.Stop.SyscallCode))]++
			}
		}
		if ev.Kind == format.KindSyscalls {
			// The kernel's syscall log: every syscall once, whatever
			// stops the recorder also made.
			logged = true
			pids[ev.Pid] = true
			for i := range ev.Syscalls.Records {
				r := &ev.Syscalls.Records[i]
				tids[r.Tid] = true
				st.Syscalls++
				st.SyscallNames[abi.SyscallName(int(r.Code))]++
			}
		}
		if ev.Kind == format.KindExit {
			v := ev.Exit.Status
			st.ExitStatus = &v
			st.ExitReason = ev.Exit.Reason
		}
	}
	if !logged && h.Stops != "syscall-log" {
		st.Syscalls, st.SyscallNames = uint64(sceStops), stopNames
	}
	inf := rd.Info()
	st.Processes, st.Threads = len(pids), len(tids)
	st.Bytes, st.RawBytes, st.Chunks, st.Blobs, st.Truncated = inf.Size, int64(inf.RawBytes), inf.Chunks, inf.Blobs, inf.Truncated
	st.Surviving = st.Events
	if st.Bytes > 0 {
		st.Ratio = float64(st.RawBytes) / float64(st.Bytes)
	}
	if o.json {
		b, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintln(s.out, string(b))
		return nil
	}
	fmt.Fprintf(s.out, "trace:        %s (format %s)\n", path, st.Version)
	fmt.Fprintf(s.out, "program:      %s %q\n", st.Program, st.Argv)
	fmt.Fprintf(s.out, "stops:        %s\n", st.Stops)
	fmt.Fprintf(s.out, "instructions: %d\n", st.Instructions)
	fmt.Fprintf(s.out, "events:       %d", st.Events)
	for _, k := range sortedKeys(st.Kinds) {
		fmt.Fprintf(s.out, "  %s=%d", k, st.Kinds[k])
	}
	fmt.Fprintln(s.out)
	fmt.Fprintf(s.out, "syscalls:     %d", st.Syscalls)
	for _, k := range sortedKeys(st.SyscallNames) {
		fmt.Fprintf(s.out, "  %s=%d", k, st.SyscallNames[k])
	}
	fmt.Fprintln(s.out)
	fmt.Fprintf(s.out, "processes:    %d, threads: %d\n", st.Processes, st.Threads)
	fmt.Fprintf(s.out, "size:         %d bytes (%d raw, compression %.1fx, %d chunks, %d blobs)\n", st.Bytes, st.RawBytes, st.Ratio, st.Chunks, st.Blobs)
	if st.Truncated {
		fmt.Fprintf(s.out, "truncated:    yes: the recording did not finish; %d events survive\n", st.Surviving)
	}
	if st.ExitStatus != nil {
		fmt.Fprintf(s.out, "exit:         %s (%s)\n", abi.WaitStatus(*st.ExitStatus), st.ExitReason)
	} else {
		fmt.Fprintf(s.out, "exit:         none recorded\n")
	}
	return nil
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
