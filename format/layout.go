package format

import (
	"encoding/binary"
	"hash/crc32"
)

// Magic strings of the file and its frames (see docs/FORMAT.md).
const (
	FileMagic    = "\x89PTREC\r\n" // first 8 bytes of a trace
	ChunkMagic   = "PTCK"          // a chunk of events
	BlobMagic    = "PTBL"          // a content-addressed byte payload
	IndexMagic   = "PTIX"          // the index written by Close
	TrailerMagic = "PTND"          // last 4 bytes of a closed trace
)

// Sizes of the fixed-size parts of the layout.
const (
	FileHeaderSize  = 16 // magic, major, minor, header record length (the record and its CRC follow)
	FrameHeaderSize = 84 // every chunk, blob and index frame starts with this
	TrailerSize     = 32 // the last bytes of a closed trace
)

// Codec ids stored in a frame header.
const (
	CodecNone = 0 // payload stored as is
	CodecZstd = 1 // payload is one zstd frame
)

// Limits applied to lengths read from a file before anything is allocated.
const (
	MaxHeaderSize = 16 << 20  // header record
	MaxChunkRaw   = 64 << 20  // uncompressed chunk payload
	MaxIndexRaw   = 256 << 20 // uncompressed index payload
	MaxBlobSize   = 1 << 30   // one blob's content
)

// Defaults of the Writer.
const (
	DefaultChunkSize     = 256 << 10 // raw bytes per chunk
	DefaultBlobThreshold = 256       // Input/Request payloads of at least this many bytes become blobs
	MemBlobThreshold     = 64 << 10  // memory ranges of at least this many bytes become blobs
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// frameHeader is the fixed 84-byte header of a chunk, blob or index frame.
//
//	0  magic[4]
//	4  codec u8
//	5  reserved[3] (zero)
//	8  stored u32   payload length in the file
//	12 raw u32      payload length after decompression
//	16 a u64        chunk: first seq; blob: blob id; index: 0
//	24 b u64        chunk: icount of the first event; else 0
//	32 c u64        chunk: largest icount in the chunk; else 0
//	40 count u32    chunk: number of events; else 0
//	44 pcrc u32     CRC-32C of the stored payload
//	48 hash[32]     blob: SHA-256 of the content; else zero
//	80 hcrc u32     CRC-32C of bytes 0..80
type frameHeader struct {
	magic  string
	codec  uint8
	stored uint32
	raw    uint32
	a      uint64
	b      uint64
	c      uint64
	count  uint32
	pcrc   uint32
	hash   [32]byte
}

func (h *frameHeader) put(p []byte) {
	_ = p[FrameHeaderSize-1]
	copy(p[0:4], h.magic)
	p[4] = h.codec
	p[5], p[6], p[7] = 0, 0, 0
	le := binary.LittleEndian
	le.PutUint32(p[8:], h.stored)
	le.PutUint32(p[12:], h.raw)
	le.PutUint64(p[16:], h.a)
	le.PutUint64(p[24:], h.b)
	le.PutUint64(p[32:], h.c)
	le.PutUint32(p[40:], h.count)
	le.PutUint32(p[44:], h.pcrc)
	copy(p[48:80], h.hash[:])
	le.PutUint32(p[80:], crc(p[:80]))
}

// parseFrameHeader checks the header checksum; the caller judges the magic
// (a later minor version may add frame types) and the lengths.
func parseFrameHeader(p []byte) (frameHeader, string) {
	var h frameHeader
	if len(p) < FrameHeaderSize {
		return h, "short frame header"
	}
	le := binary.LittleEndian
	m := string(p[0:4])
	if le.Uint32(p[80:]) != crc(p[:80]) {
		return h, "frame header checksum mismatch"
	}
	if p[5] != 0 || p[6] != 0 || p[7] != 0 {
		return h, "reserved frame header bytes not zero"
	}
	h.magic = m
	h.codec = p[4]
	h.stored = le.Uint32(p[8:])
	h.raw = le.Uint32(p[12:])
	h.a = le.Uint64(p[16:])
	h.b = le.Uint64(p[24:])
	h.c = le.Uint64(p[32:])
	h.count = le.Uint32(p[40:])
	h.pcrc = le.Uint32(p[44:])
	copy(h.hash[:], p[48:80])
	return h, ""
}

// trailer is the fixed 32-byte end of a closed trace.
//
//	0  index offset u64
//	8  index frame length u64 (header + payload)
//	16 events u64
//	24 crc u32 (CRC-32C of bytes 0..24)
//	28 magic "PTND"
type trailer struct {
	indexOff, indexLen, events uint64
}

func (t *trailer) put(p []byte) {
	le := binary.LittleEndian
	le.PutUint64(p[0:], t.indexOff)
	le.PutUint64(p[8:], t.indexLen)
	le.PutUint64(p[16:], t.events)
	le.PutUint32(p[24:], crc(p[:24]))
	copy(p[28:32], TrailerMagic)
}

func parseTrailer(p []byte) (trailer, bool) {
	var t trailer
	if len(p) < TrailerSize || string(p[28:32]) != TrailerMagic {
		return t, false
	}
	le := binary.LittleEndian
	if le.Uint32(p[24:]) != crc(p[:24]) {
		return t, false
	}
	t.indexOff = le.Uint64(p[0:])
	t.indexLen = le.Uint64(p[8:])
	t.events = le.Uint64(p[16:])
	return t, true
}
