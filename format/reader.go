package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
)

// Info describes a trace as a whole.
type Info struct {
	Major, Minor    uint16
	Size            int64  // file size
	Chunks          int    // whole chunks readable
	Events          uint64 // events in them (all events of a closed trace)
	Blobs           int    // blob frames
	Truncated       bool   // no valid index: the trace was not closed (or its end is damaged); only whole chunks are read
	CompressedBytes uint64 // stored payload bytes of chunks and blobs
	RawBytes        uint64 // uncompressed payload bytes of chunks and blobs
	// Kinds counts events per kind (unknown kinds under KindInvalid). It
	// comes from the index and is nil for a truncated trace.
	Kinds map[Kind]uint64
}

// Reader reads a trace: its header, then events in Seq order. It keeps one
// decoded chunk in memory, plus the chunk and blob tables and a small cache
// of blob contents. It is not safe for concurrent use.
type Reader struct {
	r       io.ReaderAt
	size    int64
	closer  io.Closer
	hdr     Header
	dataOff int64

	chunks      []chunkInfo
	blobs       []blobInfo
	kinds       []uint64
	checkpoints []Checkpoint
	events      uint64
	truncated   bool

	dcmp decompressor

	// cursor
	cur     int    // loaded chunk, -1 if none
	buf     []byte // its raw payload
	pos     int    // next record in buf
	seq     uint64 // Seq of the record at pos
	left    int    // records left in buf
	next    int    // chunk to load when buf is used up
	dx      eventDecoder
	pending *Event
	err     error

	reuseSys bool      // ReuseSyscallRecords was called
	sysRecs  []Syscall // the records every syscalls event is decoded into then

	cache    []cachedBlob
	cacheLen int
}

type cachedBlob struct {
	id   uint64
	data []byte
}

// The blob cache keeps recently read blobs for traces that reference one
// again (an executable loaded by several processes, the same page content
// logged twice, replay going back to a checkpoint). It is small: a forward
// replay reads most memory-delta blobs once, and what the cache holds is
// replay's peak memory.
const (
	blobCacheBytes   = 8 << 20
	blobCacheEntries = 64
	maxChunkStored   = MaxChunkRaw + MaxChunkRaw/8 + 1<<16 // a stored chunk may be a little larger than raw
)

// Open opens the trace file at path. The Reader owns the file; Close closes it.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// NewReader reads the file header and the index of the size-byte trace in
// r. Without a valid trailer and index it scans the frames from the start,
// keeps the whole, valid chunks and reports Info().Truncated.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{}
	if err := rd.init(r, size); err != nil {
		rd.dcmp.close()
		return nil, err
	}
	return rd, nil
}

// Reset makes the Reader read the trace in ra instead, keeping its zstd
// decoder. A file the Reader owns (from Open) is closed first.
func (r *Reader) Reset(ra io.ReaderAt, size int64) error {
	if c := r.closer; c != nil {
		c.Close()
	}
	d := r.dcmp
	*r = Reader{dcmp: d}
	return r.init(ra, size)
}

func (r *Reader) init(ra io.ReaderAt, size int64) error {
	r.r, r.size, r.cur = ra, size, -1
	if err := r.readFileHeader(); err != nil {
		return err
	}
	if !r.readIndex() {
		r.scan()
	}
	return nil
}

func eofError(off int64, what string) error {
	return &FormatError{Offset: off, Chunk: -1, Msg: what + ": unexpected EOF", Err: io.ErrUnexpectedEOF}
}

// readAt reads exactly n bytes at off into a new buffer. n must already be
// capped by the caller.
func (r *Reader) readAt(off int64, n int) ([]byte, error) {
	if off < 0 || int64(n) > r.size-off {
		return nil, io.ErrUnexpectedEOF
	}
	p := make([]byte, n)
	m, err := r.r.ReadAt(p, off)
	if m == n {
		return p, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

func (r *Reader) readFileHeader() error {
	n := min(r.size, FileHeaderSize)
	p, err := r.readAt(0, int(max(n, 0)))
	if err != nil {
		return err
	}
	if !bytes.HasPrefix([]byte(FileMagic), p[:min(len(p), len(FileMagic))]) {
		return &FormatError{Offset: 0, Chunk: -1, Msg: "bad magic", Err: ErrMagic}
	}
	if len(p) < FileHeaderSize {
		return eofError(r.size, "file header")
	}
	le := binary.LittleEndian
	major, minor := le.Uint16(p[8:]), le.Uint16(p[10:])
	if major < OldestMajorVersion || major > MajorVersion {
		return &VersionError{Major: major, Minor: minor}
	}
	hl := le.Uint32(p[12:])
	if hl > MaxHeaderSize {
		return &FormatError{Offset: 12, Chunk: -1, Msg: fmt.Sprintf("header record length %d exceeds limit", hl), Err: ErrCorrupt}
	}
	if int64(hl)+4 > r.size-FileHeaderSize {
		return eofError(r.size, "header record")
	}
	rest, err := r.readAt(FileHeaderSize, int(hl)+4)
	if err != nil {
		return err
	}
	body := rest[:hl]
	sum := crc32.Update(crc(p), castagnoli, body)
	if le.Uint32(rest[hl:]) != sum {
		return &FormatError{Offset: FileHeaderSize, Chunk: -1, Msg: "header record: checksum mismatch", Err: ErrChecksum}
	}
	if msg := decodeHeader(body, &r.hdr); msg != "" {
		return corruptf(FileHeaderSize, -1, "header record: %s", msg)
	}
	r.hdr.Major, r.hdr.Minor = major, minor
	r.dataOff = FileHeaderSize + int64(hl) + 4
	return nil
}

// readFrame reads and checks the frame at off: header checksum, magic,
// payload length limit and payload checksum. It returns the stored payload.
func (r *Reader) readFrame(off int64, limit uint32) (frameHeader, []byte, string, error) {
	hp, err := r.readAt(off, FrameHeaderSize)
	if err != nil {
		return frameHeader{}, nil, "frame header: unexpected EOF", io.ErrUnexpectedEOF
	}
	h, msg := parseFrameHeader(hp)
	if msg != "" {
		if msg == "frame header checksum mismatch" {
			return h, nil, msg, ErrChecksum
		}
		return h, nil, msg, ErrCorrupt
	}
	if h.stored > limit || h.raw > limit {
		return h, nil, fmt.Sprintf("frame length %d/%d exceeds limit", h.stored, h.raw), ErrCorrupt
	}
	p, err := r.readAt(off+FrameHeaderSize, int(h.stored))
	if err != nil {
		return h, nil, "frame payload: unexpected EOF", io.ErrUnexpectedEOF
	}
	if crc(p) != h.pcrc {
		return h, nil, "checksum mismatch", ErrChecksum
	}
	return h, p, "", nil
}

// readIndex loads the trailer and the index; it reports false if either is
// missing or bad in any way.
func (r *Reader) readIndex() bool {
	if r.size-r.dataOff < TrailerSize+FrameHeaderSize {
		return false
	}
	tp, err := r.readAt(r.size-TrailerSize, TrailerSize)
	if err != nil {
		return false
	}
	t, ok := parseTrailer(tp)
	end := uint64(r.size - TrailerSize)
	if !ok || t.indexOff < uint64(r.dataOff) || t.indexOff > end || t.indexLen != end-t.indexOff {
		return false
	}
	h, p, msg, _ := r.readFrame(int64(t.indexOff), MaxIndexRaw)
	if msg != "" || h.magic != IndexMagic || uint64(h.stored)+FrameHeaderSize != t.indexLen {
		return false
	}
	raw, err := r.dcmp.decompress(h.codec, p, int(h.raw))
	if err != nil {
		return false
	}
	var ix index
	if ix.decode(raw) != "" || ix.events != t.events {
		return false
	}
	// Check the tables against each other and the file before trusting them.
	pos, seq := uint64(r.dataOff), uint64(0)
	for _, c := range ix.chunks {
		if c.off < pos || c.count == 0 || c.raw > MaxChunkRaw || c.stored > maxChunkStored ||
			c.firstSeq != seq || c.maxIcount < c.firstIcount {
			return false
		}
		pos = c.off + FrameHeaderSize + uint64(c.stored)
		seq += uint64(c.count)
	}
	if pos > t.indexOff || seq != ix.events {
		return false
	}
	pos = uint64(r.dataOff)
	for _, b := range ix.blobs {
		if b.off < pos || b.raw > MaxBlobSize || b.stored > MaxBlobSize+MaxBlobSize/8 {
			return false
		}
		pos = b.off + FrameHeaderSize + uint64(b.stored)
	}
	if pos > t.indexOff {
		return false
	}
	r.chunks, r.blobs, r.kinds, r.checkpoints, r.events = ix.chunks, ix.blobs, ix.kinds, ix.checkpoints, ix.events
	return true
}

// scan walks the frames from the start and keeps every chunk and blob up
// to the first frame that is incomplete or bad.
func (r *Reader) scan() {
	r.truncated = true
	r.chunks, r.blobs, r.kinds, r.checkpoints, r.events = nil, nil, nil, nil, 0
	off := r.dataOff
	var hp [FrameHeaderSize]byte
	buf := make([]byte, 64<<10)
	for off <= r.size-FrameHeaderSize {
		if n, _ := r.r.ReadAt(hp[:], off); n != FrameHeaderSize {
			return
		}
		h, msg := parseFrameHeader(hp[:])
		if msg != "" || int64(h.stored) > r.size-off-FrameHeaderSize {
			return
		}
		switch h.magic {
		case ChunkMagic:
			if h.a != r.events || h.count == 0 || h.raw > MaxChunkRaw || h.stored > maxChunkStored || h.c < h.b {
				return
			}
		case BlobMagic:
			if h.a != uint64(len(r.blobs)) || h.raw > MaxBlobSize {
				return
			}
		case IndexMagic:
			return // what follows is the end of the trace
		default:
			// A frame type of a later minor version: check it and skip it.
		}
		// Check the payload checksum without holding the payload.
		sum := uint32(0)
		for p, n := off+FrameHeaderSize, int64(h.stored); n > 0; {
			k := int(min(n, int64(len(buf))))
			if m, _ := r.r.ReadAt(buf[:k], p); m != k {
				return
			}
			sum = crc32.Update(sum, castagnoli, buf[:k])
			p += int64(k)
			n -= int64(k)
		}
		if sum != h.pcrc {
			return
		}
		switch h.magic {
		case ChunkMagic:
			r.chunks = append(r.chunks, chunkInfo{off: uint64(off), stored: h.stored, raw: h.raw,
				firstSeq: h.a, firstIcount: h.b, maxIcount: h.c, count: h.count})
			r.events += uint64(h.count)
		case BlobMagic:
			r.blobs = append(r.blobs, blobInfo{off: uint64(off), stored: h.stored, raw: h.raw})
		}
		off += FrameHeaderSize + int64(h.stored)
	}
}

// Header returns the trace's header record, with the file's version.
func (r *Reader) Header() Header { return r.hdr }

// Checkpoints returns the index's checkpoint list (empty in this version).
func (r *Reader) Checkpoints() []Checkpoint { return r.checkpoints }

// Info describes the trace.
func (r *Reader) Info() Info {
	in := Info{Major: r.hdr.Major, Minor: r.hdr.Minor, Size: r.size, Chunks: len(r.chunks),
		Events: r.events, Blobs: len(r.blobs), Truncated: r.truncated}
	for _, c := range r.chunks {
		in.CompressedBytes += uint64(c.stored)
		in.RawBytes += uint64(c.raw)
	}
	for _, b := range r.blobs {
		in.CompressedBytes += uint64(b.stored)
		in.RawBytes += uint64(b.raw)
	}
	if r.kinds != nil {
		in.Kinds = make(map[Kind]uint64)
		for k, n := range r.kinds {
			if n != 0 {
				in.Kinds[Kind(k)] += n
			}
		}
	}
	return in
}

func (r *Reader) chunkError(i int, msg string, err error) error {
	if i < 0 || i >= len(r.chunks) {
		return &FormatError{Offset: -1, Chunk: -1, Msg: msg, Err: err}
	}
	return &FormatError{Offset: int64(r.chunks[i].off), Chunk: i, Msg: msg, Err: err}
}

// load reads, checks and decompresses chunk i and points the cursor at its
// first event.
func (r *Reader) load(i int) error {
	c := r.chunks[i]
	r.cur, r.buf, r.left, r.next = -1, nil, 0, i+1
	h, p, msg, err := r.readFrame(int64(c.off), maxChunkStored)
	if msg != "" {
		return r.chunkError(i, msg, err)
	}
	if h.magic != ChunkMagic || h.stored != c.stored || h.raw != c.raw || h.a != c.firstSeq ||
		h.b != c.firstIcount || h.c != c.maxIcount || h.count != c.count {
		return r.chunkError(i, "frame does not match the index", ErrCorrupt)
	}
	raw, err := r.dcmp.decompress(h.codec, p, int(h.raw))
	if err != nil {
		return r.chunkError(i, err.Error(), ErrCorrupt)
	}
	r.cur, r.buf, r.pos, r.seq, r.left = i, raw, 0, c.firstSeq, int(c.count)
	r.dx = eventDecoder{resolve: r.blob, v1: r.hdr.Major == 1}
	if r.reuseSys {
		r.dx.sysRecs = &r.sysRecs
	}
	return nil
}

// ReuseSyscallRecords makes the reader decode the records of every
// syscalls event into the same memory: the Records of an event Next
// returned are then valid only until the next call of Next, Seek or
// SeekIcount. A reader that looks at one event at a time (replay) saves
// an allocation of 88 bytes per logged syscall.
func (r *Reader) ReuseSyscallRecords() {
	r.reuseSys = true
	r.dx.sysRecs = &r.sysRecs
}

// decodeNext decodes the event at the cursor; with resolve false, blob
// fields are left nil (the event is being skipped).
func (r *Reader) decodeNext(resolve bool) (*Event, error) {
	d := dec{b: r.buf, off: r.pos}
	n := d.uvarint()
	body := d.raw(n)
	if d.err != "" {
		return nil, r.chunkError(r.cur, fmt.Sprintf("event %d: %s", r.seq, d.err), ErrCorrupt)
	}
	ev := r.dx.newEvent()
	ev.Seq = r.seq
	r.dx.blobErr = nil
	r.dx.skip = !resolve
	if msg := r.dx.decode(body, ev); msg != "" {
		return nil, r.chunkError(r.cur, fmt.Sprintf("event %d: %s", r.seq, msg), ErrCorrupt)
	}
	if r.dx.blobErr != nil {
		return nil, r.dx.blobErr
	}
	r.pos = d.off
	r.seq++
	r.left--
	if r.left == 0 && r.pos != len(r.buf) {
		return nil, r.chunkError(r.cur, "trailing bytes after the last event", ErrCorrupt)
	}
	return ev, nil
}

// Next returns the next event, or io.EOF after the last one (of a closed
// trace, or the last whole chunk of a truncated one). After an error Next
// keeps returning it until a Seek.
func (r *Reader) Next() (*Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	if ev := r.pending; ev != nil {
		r.pending = nil
		return ev, nil
	}
	for r.left == 0 {
		if r.next >= len(r.chunks) {
			return nil, io.EOF
		}
		if err := r.load(r.next); err != nil {
			r.err = err
			return nil, err
		}
	}
	ev, err := r.decodeNext(true)
	if err != nil {
		r.err = err
		return nil, err
	}
	return ev, nil
}

func (r *Reader) resetCursor() {
	r.err, r.pending = nil, nil
	r.cur, r.buf, r.left, r.next = -1, nil, 0, len(r.chunks)
}

// SeekEvent positions the Reader so that Next returns event seq. Seeking to
// the number of events positions at the end.
func (r *Reader) SeekEvent(seq uint64) error {
	r.resetCursor()
	if seq >= r.events {
		if seq == r.events {
			return nil
		}
		return fmt.Errorf("format: seek to event %d: the trace has %d events", seq, r.events)
	}
	i := sort.Search(len(r.chunks), func(i int) bool {
		return r.chunks[i].firstSeq+uint64(r.chunks[i].count) > seq
	})
	if err := r.load(i); err != nil {
		r.err = err
		return err
	}
	for r.seq < seq {
		if _, err := r.decodeNext(false); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}

// SeekIcount positions the Reader so that Next returns the first event (in
// Seq order) whose Icount is at least ic, or io.EOF if there is none.
func (r *Reader) SeekIcount(ic uint64) error {
	r.resetCursor()
	i := 0
	for i < len(r.chunks) && r.chunks[i].maxIcount < ic {
		i++
	}
	if i == len(r.chunks) {
		return nil
	}
	if err := r.load(i); err != nil {
		r.err = err
		return err
	}
	for r.left > 0 {
		pos, seq, left, st := r.pos, r.seq, r.left, r.dx.st
		ev, err := r.decodeNext(false)
		if err != nil {
			r.err = err
			return err
		}
		if ev.Icount >= ic {
			r.pos, r.seq, r.left, r.dx.st = pos, seq, left, st
			ev, err = r.decodeNext(true)
			if err != nil {
				r.err = err
				return err
			}
			r.pending = ev
			return nil
		}
	}
	r.err = r.chunkError(i, "no event reaches the chunk's largest icount", ErrCorrupt)
	return r.err
}

// blob returns a copy of blob id's content.
func (r *Reader) blob(id uint64) ([]byte, error) {
	for _, c := range r.cache {
		if c.id == id {
			return bytes.Clone(c.data), nil
		}
	}
	if id >= uint64(len(r.blobs)) {
		return nil, r.chunkError(r.cur, fmt.Sprintf("reference to unknown blob %d", id), ErrCorrupt)
	}
	b := r.blobs[id]
	if r.cur >= 0 && b.off >= r.chunks[r.cur].off {
		return nil, r.chunkError(r.cur, fmt.Sprintf("reference to blob %d stored after the chunk", id), ErrCorrupt)
	}
	fail := func(msg string, err error) error {
		return &FormatError{Offset: int64(b.off), Chunk: r.cur, Msg: fmt.Sprintf("blob %d: %s", id, msg), Err: err}
	}
	h, p, msg, err := r.readFrame(int64(b.off), MaxBlobSize+MaxBlobSize/8)
	if msg != "" {
		return nil, fail(msg, err)
	}
	if h.magic != BlobMagic || h.a != id || h.stored != b.stored || h.raw != b.raw {
		return nil, fail("frame does not match the blob table", ErrCorrupt)
	}
	data, err := r.dcmp.decompress(h.codec, p, int(h.raw))
	if err != nil {
		return nil, fail(err.Error(), ErrCorrupt)
	}
	if sha256.Sum256(data) != h.hash {
		return nil, fail("content hash mismatch", ErrChecksum)
	}
	if len(data) <= blobCacheBytes/4 {
		for len(r.cache) > 0 && (len(r.cache) >= blobCacheEntries || r.cacheLen+len(data) > blobCacheBytes) {
			r.cacheLen -= len(r.cache[0].data)
			r.cache = r.cache[1:]
		}
		r.cache = append(r.cache, cachedBlob{id: id, data: data})
		r.cacheLen += len(data)
		return bytes.Clone(data), nil
	}
	return data, nil
}

// Close releases the Reader's decoder and closes the file if Open opened it.
func (r *Reader) Close() error {
	r.dcmp.close()
	r.cache, r.buf = nil, nil
	if c := r.closer; c != nil {
		r.closer = nil
		return c.Close()
	}
	return nil
}
