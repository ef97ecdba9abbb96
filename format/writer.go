package format

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
)

// WriterOption configures a Writer.
type WriterOption func(*writerConfig)

type writerConfig struct {
	compress      bool
	chunkSize     int
	blobThreshold int
}

// WithCompression chooses zstd (true, the default) or stored (false)
// payloads. Readers accept both.
func WithCompression(on bool) WriterOption {
	return func(c *writerConfig) { c.compress = on }
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
// payloads go out as blob frames at once. It is not safe for concurrent use.
type Writer struct {
	w     io.Writer
	cfg   writerConfig
	comp  compressor
	x     eventEncoder
	n     int // events in the current chunk
	first Event
	maxIc uint64
	off   uint64 // bytes written so far
	seq   uint64
	err   error
	done  bool

	chunks []chunkInfo
	blobs  []blobInfo
	blobID map[[32]byte]uint64
	kinds  [kindSlots]uint64
	stats  WriterStats
	frame  []byte
	scr    []byte
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

// Reset discards the Writer's state (without writing anything more to the
// old writer) and starts a new trace on w, as NewWriter does.
func (w *Writer) Reset(dst io.Writer, hdr Header, opts ...WriterOption) error {
	if w.comp != nil {
		w.comp.close()
	}
	*w = Writer{}
	return w.init(dst, hdr, opts)
}

func (w *Writer) init(dst io.Writer, hdr Header, opts []WriterOption) error {
	w.w = dst
	w.cfg = writerConfig{compress: true, chunkSize: DefaultChunkSize, blobThreshold: DefaultBlobThreshold}
	for _, o := range opts {
		o(&w.cfg)
	}
	if w.cfg.compress {
		z, err := newZstdCompressor()
		if err != nil {
			return err
		}
		w.comp = z
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

// writeFrame compresses raw and writes one frame; it returns the frame's
// offset and stored length.
func (w *Writer) writeFrame(h frameHeader, raw []byte) (uint64, uint32, error) {
	if w.err != nil {
		return 0, 0, w.err
	}
	off := w.off
	w.frame = append(w.frame[:0], make([]byte, FrameHeaderSize)...)
	w.frame = w.comp.compress(w.frame, raw)
	stored := w.frame[FrameHeaderSize:]
	if uint64(len(stored)) > 1<<32-1 {
		w.err = fmt.Errorf("format: frame payload too large")
		return 0, 0, w.err
	}
	h.codec = w.comp.codec()
	h.stored = uint32(len(stored))
	h.raw = uint32(len(raw))
	h.pcrc = crc(stored)
	h.put(w.frame)
	if h.magic != IndexMagic {
		w.stats.RawBytes += uint64(len(raw))
		w.stats.CompressedBytes += uint64(len(stored))
	}
	return off, h.stored, w.write(w.frame)
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
	id := uint64(len(w.blobs))
	off, stored, err := w.writeFrame(frameHeader{magic: BlobMagic, a: id, hash: sum}, p)
	if err != nil {
		return 0, err
	}
	w.blobID[sum] = id
	w.blobs = append(w.blobs, blobInfo{off: off, stored: stored, raw: uint32(len(p))})
	w.stats.Blobs++
	return id, nil
}

// Write assigns ev.Seq and adds ev to the current chunk, writing the chunk
// out when it is full. Payloads of ev may be reused by the caller once
// Write returns.
func (w *Writer) Write(ev *Event) error {
	if w.done {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
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
	off, stored, err := w.writeFrame(h, w.x.e.b)
	if err != nil {
		return err
	}
	w.chunks = append(w.chunks, chunkInfo{off: off, stored: stored, raw: uint32(len(w.x.e.b)),
		firstSeq: h.a, firstIcount: h.b, maxIcount: h.c, count: h.count})
	w.stats.Chunks++
	w.x.e.b = w.x.e.b[:0]
	w.x.st = chunkState{}
	w.n = 0
	return nil
}

// Flush ends the current chunk and writes it, so that a reader of the file
// (even one whose writer dies later) sees every event written so far.
func (w *Writer) Flush() error {
	if w.done {
		return ErrClosed
	}
	return w.endChunk()
}

// Close writes the last chunk, the index and the trailer. It does not close
// the underlying writer. A second Close returns ErrClosed.
func (w *Writer) Close() error {
	if w.done {
		return ErrClosed
	}
	w.done = true
	defer w.comp.close()
	if err := w.endChunk(); err != nil {
		return err
	}
	idx := index{chunks: w.chunks, blobs: w.blobs, kinds: w.kinds[:], events: w.seq}
	raw := idx.encode()
	off, stored, err := w.writeFrame(frameHeader{magic: IndexMagic}, raw)
	if err != nil {
		return err
	}
	var t [TrailerSize]byte
	tr := trailer{indexOff: off, indexLen: uint64(FrameHeaderSize) + uint64(stored), events: w.seq}
	tr.put(t[:])
	return w.write(t[:])
}

// Stats returns counts of what has been written.
func (w *Writer) Stats() WriterStats { return w.stats }
