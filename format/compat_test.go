package format

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"reflect"
	"testing"
)

// TestForwardCompat checks what a 1.0 reader does with additions a later
// minor version may make: a frame type it does not know (skipped by the
// scan), an event kind it does not know (common fields only) and extra
// bytes at the end of a record (ignored).
func TestForwardCompat(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, testHeader(), WithCompression(false))
	w.Write(&Event{Kind: KindExit, Icount: 5, Pid: 7, Tid: 8, Exit: &Exit{Status: 1, Reason: "x"}})
	w.Flush()
	chunk0 := buf.Len()
	w.Write(&Event{Kind: KindExit, Icount: 6, Exit: &Exit{Reason: "y"}})
	w.Flush() // not closed: the reader scans
	file := buf.Bytes()

	// Patch the first chunk: kind 9, and one extra byte in the record.
	r := openBytes(t, file)
	c := r.chunks[0]
	payload := file[c.off+FrameHeaderSize : c.off+FrameHeaderSize+uint64(c.stored)]
	rec := append([]byte(nil), payload[1:]...)
	rec[0] = 9
	rec = append(rec, 0xaa)
	newPayload := append([]byte{byte(len(rec))}, rec...)
	var h [FrameHeaderSize]byte
	fh, _ := parseFrameHeader(file[c.off:])
	fh.stored, fh.raw, fh.pcrc = uint32(len(newPayload)), uint32(len(newPayload)), crc(newPayload)
	fh.put(h[:])
	var out []byte
	out = append(out, file[:c.off]...)
	out = append(out, h[:]...)
	out = append(out, newPayload...)
	// An unknown frame between the chunks.
	unk := []byte("checkpoint data")
	fh = frameHeader{magic: "PTCP", stored: uint32(len(unk)), raw: uint32(len(unk)), pcrc: crc(unk)}
	fh.put(h[:])
	out = append(out, h[:]...)
	out = append(out, unk...)
	out = append(out, file[chunk0:]...)

	r = openBytes(t, out)
	ev, err := r.Next()
	if err != nil || ev.Kind != 9 || ev.Icount != 5 || ev.Pid != 7 || ev.Tid != 8 || ev.Exit != nil {
		t.Fatalf("unknown kind: %+v, %v", ev, err)
	}
	ev, err = r.Next()
	if err != nil || ev.Seq != 1 || ev.Exit.Reason != "y" {
		t.Fatalf("after the unknown frame: %+v, %v", ev, err)
	}
	if !r.Info().Truncated || r.Info().Events != 2 {
		t.Fatalf("info %+v", r.Info())
	}
}

// TestReadsV1 reads a 1.0 trace (testdata/v1.ptrec, recorded by ptrec
// 1.0's `ptrec record --seed 1 -- spin.musl sys 3`): its events must be
// exactly what the 1.0 reader decoded (the SHA-256 of their text, taken
// with that reader), and writing them again as 2.0 must give them back.
func TestReadsV1(t *testing.T) {
	r, err := Open("testdata/v1.ptrec")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if h := r.Header(); h.Major != 1 || h.Minor != 0 {
		t.Fatalf("fixture version %d.%d", h.Major, h.Minor)
	}
	var evs []*Event
	sum := sha256.New()
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(sum, "%s\n", eventString(ev))
		evs = append(evs, ev)
	}
	const want = "a1919e1c13abf9b0fb935b2774ce7682c149c3d6981e16b9d1a1ac3390dbe581" // 114 events
	if got := fmt.Sprintf("%x", sum.Sum(nil)); len(evs) != 114 || got != want {
		t.Fatalf("%d events, sha256 %s; want 114, %s", len(evs), got, want)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, r.Header(), WithCompression(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		cp := *ev
		if err := w.Write(&cp); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := openBytes(t, buf.Bytes())
	for i, want := range evs {
		got, err := r2.Next()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d written as 2.0: got %+v (%v), want %+v", i, got, err, want)
		}
	}
	if raw1, raw2 := r.Info().RawBytes, r2.Info().RawBytes; raw2 >= raw1 {
		t.Errorf("2.0 raw bytes %d, not fewer than 1.0's %d", raw2, raw1)
	} else {
		t.Logf("raw bytes: 1.0 %d, 2.0 %d", raw1, raw2)
	}
}

// eventString is an event's fields as text (payloads dereferenced).
func eventString(ev *Event) string {
	s := fmt.Sprintf("%d %v %d %d %d", ev.Seq, ev.Kind, ev.Icount, ev.Pid, ev.Tid)
	switch {
	case ev.Request != nil:
		s += fmt.Sprintf(" %+v", *ev.Request)
	case ev.Stop != nil:
		s += fmt.Sprintf(" %+v", *ev.Stop)
	case ev.Mem != nil:
		s += fmt.Sprintf(" %+v", *ev.Mem)
	case ev.Input != nil:
		s += fmt.Sprintf(" %+v", *ev.Input)
	case ev.Exit != nil:
		s += fmt.Sprintf(" %+v", *ev.Exit)
	}
	return s
}
