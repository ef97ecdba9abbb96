package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var optionSets = map[string][]WriterOption{
	"default":      nil,
	"uncompressed": {WithCompression(false)},
	"small-chunks": {WithChunkSize(2000)},
	"one-per-chunk-raw": {
		WithCompression(false), WithChunkSize(1)},
	"no-blobs": {WithBlobThreshold(0), WithChunkSize(10000)},
}

func openBytes(t testing.TB, b []byte) *Reader {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	for name, opts := range optionSets {
		for seed := uint64(1); seed <= 3; seed++ {
			evs := genEvents(seed, 600)
			hdr := testHeader()
			file := writeTrace(t, hdr, evs, opts...)
			r := openBytes(t, file)
			got, err := readAll(r)
			if err != nil {
				t.Fatalf("%s/%d: %v", name, seed, err)
			}
			if !reflect.DeepEqual(got, evs) {
				for i := range evs {
					if i >= len(got) || !reflect.DeepEqual(got[i], evs[i]) {
						t.Fatalf("%s/%d: event %d differs\n got %+v\nwant %+v", name, seed, i, got[min(i, len(got)-1)], evs[i])
					}
				}
				t.Fatalf("%s/%d: %d events read, want %d", name, seed, len(got), len(evs))
			}
			wantHdr := hdr
			wantHdr.Major, wantHdr.Minor = MajorVersion, MinorVersion
			if !reflect.DeepEqual(r.Header(), wantHdr) {
				t.Fatalf("header %+v, want %+v", r.Header(), wantHdr)
			}
			info := r.Info()
			if info.Truncated || info.Events != uint64(len(evs)) || info.Chunks == 0 {
				t.Fatalf("%s/%d: Info %+v", name, seed, info)
			}
			var kinds uint64
			for _, n := range info.Kinds {
				kinds += n
			}
			if kinds != uint64(len(evs)) {
				t.Fatalf("kind counts sum to %d, want %d", kinds, len(evs))
			}
			// write → read → write gives the same bytes
			again := writeTrace(t, r.Header(), got, opts...)
			if !bytes.Equal(again, file) {
				t.Fatalf("%s/%d: rewritten trace differs (%d vs %d bytes)", name, seed, len(again), len(file))
			}
			r.Close()
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := writeTrace(t, testHeader(), genEvents(7, 500))
	b := writeTrace(t, testHeader(), genEvents(7, 500))
	if !bytes.Equal(a, b) {
		t.Fatal("same events gave different files")
	}
}

func TestStatsAndBlobs(t *testing.T) {
	big := bytes.Repeat([]byte("file content "), 100)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader(), WithChunkSize(300))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		ev := &Event{Kind: KindInput, Icount: uint64(i), Input: &Input{Op: 3, Path: "/etc/passwd", Out: big}}
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Write(&Event{Kind: KindExit, Exit: &Exit{}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	st := w.Stats()
	if st.Events != 20 || st.Blobs != 1 || st.BlobRefs != 20 || st.Chunks < 2 || st.CompressedBytes == 0 || st.RawBytes == 0 {
		t.Fatalf("stats %+v", st)
	}
	r := openBytes(t, buf.Bytes())
	if err := r.SeekEvent(17); err != nil {
		t.Fatal(err)
	}
	ev, err := r.Next()
	if err != nil || !bytes.Equal(ev.Input.Out, big) || ev.Seq != 17 {
		t.Fatalf("after seek: %+v %v", ev, err)
	}
	ev.Input.Out[0] = 'X' // the caller owns what it gets
	ev, _ = r.Next()
	if !bytes.Equal(ev.Input.Out, big) {
		t.Fatal("blob content shared between events")
	}
}

func TestWriteRejects(t *testing.T) {
	w, _ := NewWriter(io.Discard, Header{})
	for _, ev := range []*Event{
		{},
		{Kind: KindStop},
		{Kind: KindStop, Stop: &Stop{}, Exit: &Exit{}},
		{Kind: 9, Exit: &Exit{}},
	} {
		if err := w.Write(ev); err == nil {
			t.Errorf("Write(%+v) succeeded", ev)
		}
	}
}

func TestSeekEvent(t *testing.T) {
	evs := genEvents(11, 400)
	for name, opts := range optionSets {
		r := openBytes(t, writeTrace(t, testHeader(), evs, opts...))
		for seq := range evs {
			if err := r.SeekEvent(uint64(seq)); err != nil {
				t.Fatalf("%s: SeekEvent(%d): %v", name, seq, err)
			}
			ev, err := r.Next()
			if err != nil || !reflect.DeepEqual(ev, evs[seq]) {
				t.Fatalf("%s: after SeekEvent(%d): %+v, %v", name, seq, ev, err)
			}
		}
		if err := r.SeekEvent(uint64(len(evs))); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next at end: %v", err)
		}
		if err := r.SeekEvent(uint64(len(evs)) + 1); err == nil {
			t.Fatal("seek past the end succeeded")
		}
	}
}

func TestSeekIcount(t *testing.T) {
	evs := genEvents(12, 500)
	ics := []uint64{0, 1, 1 << 62}
	for _, ev := range evs {
		ics = append(ics, ev.Icount, ev.Icount+1, ev.Icount-1)
	}
	// The second writer makes blobs of small outputs too: events skipped
	// on the way to ic leave their blob fields unresolved, and the request
	// templates must not depend on them.
	for _, thr := range []int{DefaultBlobThreshold, 16} {
		seekIcount(t, openBytes(t, writeTrace(t, testHeader(), evs, WithChunkSize(1500), WithBlobThreshold(thr))), evs, ics)
	}
}

func seekIcount(t *testing.T, r *Reader, evs []*Event, ics []uint64) {
	t.Helper()
	for _, ic := range ics {
		want := -1
		for i, ev := range evs {
			if ev.Icount >= ic {
				want = i
				break
			}
		}
		if err := r.SeekIcount(ic); err != nil {
			t.Fatalf("SeekIcount(%d): %v", ic, err)
		}
		ev, err := r.Next()
		if want < 0 {
			if err != io.EOF {
				t.Fatalf("SeekIcount(%d): got %+v, %v; want EOF", ic, ev, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(ev, evs[want]) {
			t.Fatalf("SeekIcount(%d): got %+v, %v; want event %d", ic, ev, err, want)
		}
		// and reading on continues in order
		if want+1 < len(evs) {
			ev, err = r.Next()
			if err != nil || ev.Seq != uint64(want+1) {
				t.Fatalf("after SeekIcount(%d): %+v %v", ic, ev, err)
			}
		}
	}
}

// chunkEnds returns the end offset and the cumulative event count of each
// chunk of a closed trace.
func chunkEnds(t *testing.T, file []byte) (ends []int64, counts []uint64) {
	r := openBytes(t, file)
	var n uint64
	for _, c := range r.chunks {
		n += uint64(c.count)
		ends = append(ends, int64(c.off)+FrameHeaderSize+int64(c.stored))
		counts = append(counts, n)
	}
	return ends, counts
}

func TestTruncation(t *testing.T) {
	evs := genEvents(21, 300)
	for _, name := range []string{"default", "uncompressed", "small-chunks"} {
		file := writeTrace(t, testHeader(), evs, optionSets[name]...)
		ends, counts := chunkEnds(t, file)
		step := max(1, len(file)/700)
		for cut := 0; cut <= len(file); cut += step {
			if cut+step > len(file) {
				cut = len(file)
			}
			r, err := NewReader(bytes.NewReader(file[:cut]), int64(cut))
			if err != nil {
				if r != nil {
					t.Fatal("reader and error")
				}
				if cut > 200 && cut > len(file)/50 {
					t.Fatalf("%s: cut %d: %v", name, cut, err)
				}
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%s: cut %d: %v, want ErrUnexpectedEOF", name, cut, err)
				}
				continue
			}
			want := uint64(0)
			for i, e := range ends {
				if e <= int64(cut) {
					want = counts[i]
				}
			}
			info := r.Info()
			if info.Truncated != (cut != len(file)) || info.Events != want {
				t.Fatalf("%s: cut %d/%d: info %+v, want %d events", name, cut, len(file), info, want)
			}
			got, err := readAll(r)
			if err != nil || uint64(len(got)) != want || (want > 0 && !reflect.DeepEqual(got, evs[:want])) {
				t.Fatalf("%s: cut %d: read %d events, err %v; want %d", name, cut, len(got), err, want)
			}
			if want > 0 {
				if err := r.SeekEvent(want - 1); err != nil {
					t.Fatal(err)
				}
				if ev, err := r.Next(); err != nil || !reflect.DeepEqual(ev, evs[want-1]) {
					t.Fatalf("%s: cut %d: seek to last: %v", name, cut, err)
				}
			}
		}
	}
}

func TestFlushSurvivesCrash(t *testing.T) {
	evs := genEvents(5, 50)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, testHeader())
	for _, ev := range evs[:30] {
		w.Write(ev)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs[30:] {
		w.Write(ev) // buffered, lost in the "crash"
	}
	r := openBytes(t, buf.Bytes())
	got, err := readAll(r)
	if err != nil || !reflect.DeepEqual(got, evs[:30]) || !r.Info().Truncated {
		t.Fatalf("got %d events, %v, info %+v", len(got), err, r.Info())
	}
}

// TestByteFlips flips bytes all over a trace: the reader either reports an
// error or returns exactly the original events (a damaged index or trailer
// is recovered by scanning). It never panics.
func TestByteFlips(t *testing.T) {
	evs := genEvents(31, 120)
	for _, name := range []string{"default", "uncompressed"} {
		file := writeTrace(t, testHeader(), evs, append(optionSets[name], WithChunkSize(1500))...)
		step := max(1, len(file)/1500)
		for off := 0; off < len(file); off += step {
			for _, mask := range []byte{0x01, 0x80} {
				bad := bytes.Clone(file)
				bad[off] ^= mask
				r, err := NewReader(bytes.NewReader(bad), int64(len(bad)))
				if err != nil {
					continue
				}
				got, err := readAll(r)
				if err == nil && !reflect.DeepEqual(got, evs) {
					t.Fatalf("%s: flip at %d: read %d events without error, wrong content", name, off, len(got))
				}
				r.SeekEvent(uint64(len(evs) / 2))
				r.Next()
				r.SeekIcount(1000)
				r.Next()
			}
		}
	}
}

func TestCorruptChunkWithIndex(t *testing.T) {
	evs := genEvents(41, 200)
	file := writeTrace(t, testHeader(), evs, WithChunkSize(1000))
	r := openBytes(t, file)
	if len(r.chunks) < 5 {
		t.Fatalf("only %d chunks", len(r.chunks))
	}
	c := r.chunks[3]
	bad := bytes.Clone(file)
	bad[c.off+FrameHeaderSize+uint64(c.stored)/2] ^= 0xff
	r = openBytes(t, bad)
	if r.Info().Truncated {
		t.Fatal("index not used")
	}
	got, err := readAll(r)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Chunk != 3 || int64(c.off) != fe.Offset || !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v", err)
	}
	if want := "chunk 3 at offset"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if uint64(len(got)) != c.firstSeq {
		t.Fatalf("%d events before the error, want %d", len(got), c.firstSeq)
	}
	// Seeking past the bad chunk works.
	if err := r.SeekEvent(r.chunks[4].firstSeq); err != nil {
		t.Fatal(err)
	}
	if ev, err := r.Next(); err != nil || !reflect.DeepEqual(ev, evs[r.chunks[4].firstSeq]) {
		t.Fatalf("after the bad chunk: %v", err)
	}
}

func TestVersion(t *testing.T) {
	file := writeTrace(t, testHeader(), genEvents(1, 10))
	binary.LittleEndian.PutUint16(file[8:], MajorVersion+1)
	_, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("err = %v", err)
	}
	if want := fmt.Sprintf("format: trace version 3.%d is newer than this ptrec supports (2.x)", MinorVersion); err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
	binary.LittleEndian.PutUint16(file[8:], 0)
	_, err = NewReader(bytes.NewReader(file), int64(len(file)))
	if want := fmt.Sprintf("format: trace version 0.%d is not supported (this ptrec reads 1.x to 2.x)", MinorVersion); err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	// A newer minor version is read.
	file = writeTrace(t, testHeader(), genEvents(1, 10))
	binary.LittleEndian.PutUint16(file[10:], 7)
	hl := binary.LittleEndian.Uint32(file[12:])
	binary.LittleEndian.PutUint32(file[FileHeaderSize+hl:], crc(file[:FileHeaderSize+hl]))
	r := openBytes(t, file)
	if h := r.Header(); h.Major != MajorVersion || h.Minor != 7 {
		t.Fatalf("header version %d.%d", h.Major, h.Minor)
	}
}

func TestBadMagic(t *testing.T) {
	for _, b := range [][]byte{[]byte("hello world, this is not a trace"), []byte("#!/bin/sh\n")} {
		_, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, ErrMagic) {
			t.Errorf("err = %v", err)
		}
	}
	_, err := NewReader(bytes.NewReader(nil), 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("empty file: %v", err)
	}
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.ptrec")
	evs := genEvents(3, 100)
	if err := os.WriteFile(path, writeTrace(t, testHeader(), evs), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(r)
	if err != nil || len(got) != len(evs) {
		t.Fatal(len(got), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("opened a missing file")
	}
}

func TestReset(t *testing.T) {
	a := writeTrace(t, testHeader(), genEvents(1, 50))
	b := writeTrace(t, Header{Program: "other"}, genEvents(2, 60))
	r := openBytes(t, a)
	if err := r.Reset(bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(r)
	if err != nil || len(got) != 60 || r.Header().Program != "other" {
		t.Fatal(len(got), err)
	}
	var buf bytes.Buffer
	w, _ := NewWriter(io.Discard, Header{})
	if err := w.Reset(&buf, Header{Program: "other"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range genEvents(2, 60) {
		w.Write(ev)
	}
	w.Close()
	if !bytes.Equal(buf.Bytes(), b) {
		t.Fatal("Reset writer output differs")
	}
}

func TestErrorStrings(t *testing.T) {
	e := &FormatError{Offset: 1234, Chunk: 3, Msg: "checksum mismatch", Err: ErrChecksum}
	if got := e.Error(); got != "format: chunk 3 at offset 1234: checksum mismatch" {
		t.Fatal(got)
	}
	if ErrMagic.Error() != "format: bad magic" {
		t.Fatal(ErrMagic)
	}
}
