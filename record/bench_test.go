package record_test

import (
	"testing"

	"ptrec/record"
)

// BenchmarkRecord records the spin guest under each stop policy, and runs
// it untraced ("run", the baseline), reporting the time per syscall and
// the trace bytes per syscall and per MB of guest memory written. The
// recording overhead of a policy is its ns/syscall minus run's. Compare
// with `bench/record.sh`, which times `ptrec record` against `ptrec run`.
func BenchmarkRecord(b *testing.B) {
	cases := []struct {
		name     string
		args     []string
		syscalls float64 // syscalls the guest makes (about)
		mb       float64 // memory the guest writes
	}{
		{"sys-100000", []string{"sys", "100000"}, 100000, 0},
		{"mem-16MB", []string{"mem", "16"}, 256, 16},
		{"cpu-1M", []string{"cpu", "1000000"}, 0, 0},
	}
	modes := []struct {
		name string
		o    record.Options
	}{
		{"run", record.Options{Untraced: true}},
		{record.StopsSyscallLog, record.Options{Stops: record.StopsSyscallLog}},
		{record.StopsSyscall, record.Options{Stops: record.StopsSyscall}},
	}
	for _, tc := range cases {
		for _, m := range modes {
			b.Run(tc.name+"/"+m.name, func(b *testing.B) {
				b.ReportAllocs()
				var rec recording
				for i := 0; i < b.N; i++ {
					rec = recordGuest(b, m.o, "spin.musl", tc.args...)
				}
				c := countStops(b, rec.trace)
				b.ReportMetric(float64(len(rec.trace)), "trace-bytes")
				b.ReportMetric(float64(rec.res.Icount)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Minsn/s")
				if tc.syscalls > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/tc.syscalls, "ns/syscall")
					b.ReportMetric(float64(len(rec.trace))/tc.syscalls, "bytes/syscall")
				}
				if tc.mb > 0 {
					b.ReportMetric(float64(len(rec.trace))/tc.mb, "bytes/MB-written")
				}
				b.ReportMetric(float64(c.events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
