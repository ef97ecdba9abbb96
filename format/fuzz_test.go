package format

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader parses arbitrary bytes as a trace, reads every event, writes
// them again and seeks around. Nothing may panic and memory stays bounded.
func FuzzReader(f *testing.F) {
	full := writeTrace(f, testHeader(), genEvents(1, 40), WithChunkSize(600))
	f.Add(full)
	f.Add(full[:len(full)*2/3]) // truncated: scanned
	f.Add(writeTrace(f, testHeader(), genEvents(2, 20), WithCompression(false), WithChunkSize(300)))
	f.Add(writeTrace(f, Header{}, nil))
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "traces", "*.ptrec"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		defer r.Close()
		info := r.Info()
		w, err := NewWriter(io.Discard, r.Header(), WithCompression(false)) // zstd is exercised by the reader
		if err != nil {
			t.Fatal(err)
		}
		var last uint64
		for n := 0; n < 1<<16; n++ {
			ev, err := r.Next()
			if err != nil {
				break
			}
			if ev.Seq != uint64(n) {
				t.Fatalf("event %d has Seq %d", n, ev.Seq)
			}
			last = ev.Icount
			if ev.Kind > KindSyscalls {
				continue // an unknown kind of a newer minor version cannot be re-written
			}
			if err := w.Write(ev); err != nil {
				t.Fatalf("re-writing event %d: %v", n, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r.SeekEvent(info.Events / 2)
		r.Next()
		r.SeekEvent(info.Events)
		r.SeekIcount(last)
		r.Next()
	})
}
