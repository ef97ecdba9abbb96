package format

import (
	"bytes"
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
