package record_test

import (
	"testing"

	"ptrec/record"
)

// BenchmarkRecord records the spin guest and reports trace bytes per
// syscall stop and per MB of guest memory written, beside the time. Compare
// with `bench/record.sh`, which times `ptrec record` against `ptrec run`.
func BenchmarkRecord(b *testing.B) {
	cases := []struct {
		name string
		args []string
		mb   float64 // memory the guest writes
	}{
		{"sys-10000", []string{"sys", "10000"}, 0},
		{"mem-16MB", []string{"mem", "16"}, 16},
		{"cpu-1M", []string{"cpu", "1000000"}, 0},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var rec recording
			for i := 0; i < b.N; i++ {
				rec = recordGuest(b, record.Options{}, "spin.musl", tc.args...)
			}
			c := countStops(b, rec.trace)
			b.ReportMetric(float64(len(rec.trace)), "trace-bytes")
			b.ReportMetric(float64(rec.res.Icount)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Minsn/s")
			if c.sce+c.scx > 0 {
				b.ReportMetric(float64(len(rec.trace))/float64(c.sce+c.scx), "bytes/syscall-stop")
			}
			if tc.mb > 0 {
				b.ReportMetric(float64(len(rec.trace))/tc.mb, "bytes/MB-written")
			}
			b.ReportMetric(float64(c.events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
