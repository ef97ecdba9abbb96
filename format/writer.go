package format

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WriterOption configures a Writer.
type WriterOption func(*writerConfig)

type writerConfig struct {
	compress      bool
	chunkSize     int
	blobThreshold int
	workers       int
}

// WithCompression chooses zstd (true, the default) or stored (false)
// payloads. Readers accept both.
func WithCompression(on bool) WriterOption {
	return func(c *writerConfig) { c.compress = on }
}

// WithConcurrency sets how many goroutines compress frames while the
// caller goes on writing events: 0 compresses on the caller's goroutine, in
// Write, Flush and Close (a synchronous Writer). The default is one
// worker, and 0 when GOMAXPROCS is 1 (maxWorkers says why not more).
// Without compression the Writer is synchronous whatever this says.
//
// The file is the same byte for byte either way. A concurrent Writer holds
// a bounded amount of work in flight (2 MiB of payloads, 16 frames; a blob
// over 2 MiB is compressed on the caller's goroutine once the earlier
// frames are out) and writes to the underlying writer only from inside its
// own methods, so the file lags behind the events by at most that much
// until the next Flush or Close: a caller that checks the file's size
// against a limit wants a synchronous Writer.
func WithConcurrency(workers int) WriterOption {
	return func(c *writerConfig) { c.workers = max(workers, 0) }
}

// WithChunkSize sets the raw (uncompressed) size at which a chunk is ended.
// Values below 1 are treated as 1 (one event per chunk); values above
// MaxChunkRaw/2 are capped.
func WithChunkSize(rawBytes int) WriterOption {
	return func(c *writerConfig) { c.chunkSize = min(max(rawBytes, 1), MaxChunkRaw/2) }
}

// WithBlobThreshold sets the length from which Input and Request byte
// payloads are stored as content-addressed blobs; 0 disables blobs for them.
func WithBlobThreshold(n int) WriterOption {
	return func(c *writerConfig) { c.blobThreshold = max(n, 0) }
}

// WriterStats counts what a Writer has produced.
type WriterStats struct {
	Events          uint64 // events written
	Chunks          uint64 // chunks written
	Blobs           uint64 // distinct blobs written
	BlobRefs        uint64 // blob references made (Blobs of them first uses)
	RawBytes        uint64 // uncompressed payload bytes of chunks and blobs
	CompressedBytes uint64 // stored payload bytes of chunks and blobs
	FileBytes       uint64 // all bytes written to the underlying writer
}

// Writer writes a trace. It holds one chunk of events in memory; large
// payloads go out as blob frames at once (queued for compression, with
// WithConcurrency). It is not safe for concurrent use.
//
// An error of the underlying writer or of the compressor is returned by the
// Write, Flush or Close that meets it, and by every call after it.
type Writer struct {
	w      io.Writer
	cfg    writerConfig
	comp   compressor
	p      *pipeline // nil: synchronous
	x      eventEncoder
	n      int // events in the current chunk
	first  Event
	maxIc  uint64
	off    uint64 // bytes written so far
	seq    uint64
	nblobs uint64 // blob ids assigned
	err    error
	done   bool

	chunks []chunkInfo // of the chunks written
	blobs  []blobInfo  // of the blobs written
	blobID map[[32]byte]uint64
	kinds  [kindSlots]uint64
	stats  WriterStats
	sjob   frameJob // a frame compressed on the caller's goroutine
}

// NewWriter writes the file header for hdr to w and returns a Writer.
// hdr.Major and hdr.Minor are ignored: the Writer writes MajorVersion and
// MinorVersion.
func NewWriter(w io.Writer, hdr Header, opts ...WriterOption) (*Writer, error) {
	wr := &Writer{}
	if err := wr.init(w, hdr, opts); err != nil {
		return nil, err
	}
	return wr, nil
}

// Reset discards the Writer's state and starts a new trace on w, as
// NewWriter does. The old trace is left as it is (unfinished, unless it was
// closed); a concurrent Writer first writes to the old writer the frames
// that earlier Writes queued, as a synchronous one already has. If that
// fails, Reset still starts the new trace and returns the old trace's error
// (wrapped; the Writer is usable if the new header was written).
func (w *Writer) Reset(dst io.Writer, hdr Header, opts ...WriterOption) error {
	var prev error
	if before := w.err; !w.done && w.drain() != nil && before == nil {
		prev = fmt.Errorf("format: writing the trace before Reset: %w", w.err)
	}
	w.shutdown()
	*w = Writer{}
	return errors.Join(prev, w.init(dst, hdr, opts))
}

func (w *Writer) init(dst io.Writer, hdr Header, opts []WriterOption) error {
	w.w = dst
	w.cfg = writerConfig{compress: true, chunkSize: DefaultChunkSize, blobThreshold: DefaultBlobThreshold, workers: defaultConcurrency()}
	for _, o := range opts {
		o(&w.cfg)
	}
	if w.cfg.compress {
		// One block encoder per worker, and one for the caller (small
		// frames, the index).
		z, err := newZstdCompressor(w.cfg.workers + 1)
		if err != nil {
			return err
		}
		w.comp = z
		if w.cfg.workers > 0 {
			w.p = newPipeline(z, w.cfg.workers)
		}
	} else {
		w.comp = noneCompressor{}
	}
	w.blobID = make(map[[32]byte]uint64)
	w.x = eventEncoder{blob: w.storeBlob, threshold: w.cfg.blobThreshold, memThresh: MemBlobThreshold}

	body := encodeHeader(&hdr)
	if len(body) > MaxHeaderSize {
		return fmt.Errorf("format: header record is %d bytes, more than %d", len(body), MaxHeaderSize)
	}
	b := make([]byte, FileHeaderSize, FileHeaderSize+len(body)+4)
	copy(b, FileMagic)
	binary.LittleEndian.PutUint16(b[8:], MajorVersion)
	binary.LittleEndian.PutUint16(b[10:], MinorVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(body)))
	b = append(b, body...)
	b = binary.LittleEndian.AppendUint32(b, crc(b))
	return w.write(b)
}

func (w *Writer) write(p []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(p)
	w.off += uint64(n)
	w.stats.FileBytes += uint64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("format: write: %w", err)
	}
	return w.err
}

func (w *Writer) storeBlob(p []byte) (uint64, error) {
	w.stats.BlobRefs++
	sum := sha256.Sum256(p)
	if id, ok := w.blobID[sum]; ok {
		return id, nil
	}
	if len(p) > MaxBlobSize {
		return 0, fmt.Errorf("format: blob of %d bytes is larger than %d", len(p), MaxBlobSize)
	}
	id := w.nblobs
	if err := w.queue(frameHeader{magic: BlobMagic, a: id, hash: sum}, p, false); err != nil {
		return 0, err
	}
	w.blobID[sum] = id
	w.nblobs++
	return id, nil
}

// Write assigns ev.Seq and adds ev to the current chunk, writing the chunk
// out when it is full. Payloads of ev may be reused by the caller once
// Write returns.
func (w *Writer) Write(ev *Event) error {
	if w.done {
		return ErrClosed
	}
	if err := w.harvest(); err != nil {
		return err
	}
	if err := checkEvent(ev); err != nil {
		return err
	}
	mark := len(w.x.e.b)
	w.x.encode(ev)
	if w.x.err != nil {
		w.err = w.x.err
		return w.err
	}
	if w.n > 0 && len(w.x.e.b) > w.cfg.chunkSize {
		// Does not fit: end the chunk before this event and encode it
		// again against the next chunk's fresh state (its blobs are
		// already out; the state this encoding left is discarded).
		w.x.e.b = w.x.e.b[:mark]
		if err := w.endChunk(); err != nil {
			return err
		}
		w.x.encode(ev)
		if w.x.err != nil {
			w.err = w.x.err
			return w.err
		}
	}
	if len(w.x.e.b) > MaxChunkRaw {
		w.err = fmt.Errorf("format: event %d encodes to %d bytes, more than %d", w.seq, len(w.x.e.b), MaxChunkRaw)
		return w.err
	}
	ev.Seq = w.seq
	if w.n == 0 {
		w.first = Event{Seq: ev.Seq, Icount: ev.Icount}
		w.maxIc = ev.Icount
	}
	w.maxIc = max(w.maxIc, ev.Icount)
	w.n++
	w.seq++
	w.stats.Events++
	w.kinds[kindSlot(ev.Kind)]++
	if len(w.x.e.b) >= w.cfg.chunkSize {
		return w.endChunk()
	}
	return nil
}

func (w *Writer) endChunk() error {
	if w.n == 0 {
		return w.err
	}
	h := frameHeader{magic: ChunkMagic, a: w.first.Seq, b: w.first.Icount, c: w.maxIc, count: uint32(w.n)}
	if err := w.queue(h, w.x.e.b, true); err != nil {
		return err
	}
	w.x.e.b = w.x.e.b[:0]
	w.x.st = chunkState{}
	w.n = 0
	return nil
}

// Flush ends the current chunk and writes it, so that a reader of the file
// (even one whose writer dies later) sees every event written so far. A
// concurrent Writer returns once every frame is on the underlying writer.
func (w *Writer) Flush() error {
	if w.done {
		return ErrClosed
	}
	if err := w.endChunk(); err != nil {
		return err
	}
	return w.drain()
}

// Close writes the last chunk, the index and the trailer. It does not close
// the underlying writer. A second Close returns ErrClosed.
func (w *Writer) Close() error {
	if w.done {
		return ErrClosed
	}
	w.done = true
	defer w.shutdown()
	if err := w.endChunk(); err != nil {
		return err
	}
	if err := w.drain(); err != nil {
		return err
	}
	idx := index{chunks: w.chunks, blobs: w.blobs, kinds: w.kinds[:], events: w.seq}
	j := &w.sjob
	j.h, j.raw = frameHeader{magic: IndexMagic}, idx.encode()
	compressFrame(w.comp, j)
	j.raw = nil
	off, err := w.writeJob(j)
	if err != nil {
		return err
	}
	var t [TrailerSize]byte
	tr := trailer{indexOff: off, indexLen: uint64(FrameHeaderSize) + uint64(j.h.stored), events: w.seq}
	tr.put(t[:])
	return w.write(t[:])
}

// Stats returns counts of what has been written.
func (w *Writer) Stats() WriterStats { return w.stats }
