package bench

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"ptrec/format"
	"ptrec/kernel/hostos"
	"ptrec/record"
)

// guests are the committed benchmark guests (testdata/bench) and their
// default scale argument, smaller than run.sh's so that one iteration
// takes about a second emulated. PTREC_BENCH_SCALE multiplies it.
var guests = []struct {
	name  string
	scale int
}{
	{"hash", 4},
	{"mem", 1},
	{"sys", 20},
	{"fp", 20},
}

// BenchmarkGuest runs each guest in process, as `ptrec run` does (no sink)
// and as `ptrec record` does (a format.Writer into io.Discard, so encoding
// and compression are counted but not the disk). ns/op is per guest run;
// MIPS and ns/insn are the guest's instruction rate.
func BenchmarkGuest(b *testing.B) {
	mult := 1
	if s := os.Getenv("PTREC_BENCH_SCALE"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			mult = n
		}
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for _, g := range guests {
		path := "../testdata/bin/bench_" + g.name + ".musl"
		if _, err := os.Stat(path); err != nil {
			b.Fatalf("%v (make -C testdata/bench)", err)
		}
		argv := []string{path, strconv.Itoa(g.scale * mult)}
		for _, mode := range []string{"run", "record"} {
			b.Run(g.name+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				var insns, traceBytes uint64
				for i := 0; i < b.N; i++ {
					o := record.Options{
						Path: path, Argv: argv, Envp: []string{"PATH=/bin"},
						Host: hostos.New(devnull, devnull, devnull), Facts: hostos.Facts(),
						Warn: io.Discard, Stops: record.StopsSignal,
					}
					var sink record.Sink
					var w *format.Writer
					cw := &countWriter{}
					if mode == "record" {
						o.Stops = record.StopsSyscall
						if w, err = format.NewWriter(cw, record.Header(o, g.name)); err != nil {
							b.Fatal(err)
						}
						sink = w
					}
					res, err := record.Record(o, sink)
					if err != nil {
						b.Fatal(err)
					}
					if w != nil {
						if err := w.Close(); err != nil {
							b.Fatal(err)
						}
					}
					if res.Reason != "exited" || res.Status != 0 {
						b.Fatalf("%s: %s, status %#x", g.name, res.Reason, res.Status)
					}
					insns += res.Icount
					traceBytes += cw.n
				}
				sec := b.Elapsed().Seconds()
				b.ReportMetric(float64(insns)/sec/1e6, "MIPS")
				b.ReportMetric(sec*1e9/float64(insns), "ns/insn")
				if mode == "record" {
					b.ReportMetric(float64(traceBytes)/float64(b.N), "trace-B/op")
				}
			})
		}
	}
}

type countWriter struct{ n uint64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += uint64(len(p))
	return len(p), nil
}

// TestGuestsExist keeps `go test ./...` fast while failing loudly when a
// committed benchmark guest is missing.
func TestGuestsExist(t *testing.T) {
	for _, g := range guests {
		if _, err := os.Stat(fmt.Sprintf("../testdata/bin/bench_%s.musl", g.name)); err != nil {
			t.Error(err)
		}
	}
}
