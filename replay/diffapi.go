package replay

import (
	"hash/maphash"

	"ptrec/machine"
)

// MemRegion is one mapping of a process's address space.
type MemRegion struct {
	Start, End uint64 // page-aligned, End exclusive
	Prot       machine.Prot
}

// MemoryPages returns the current process's mappings and a digest (with
// seed) of every page that holds a non-zero byte, by page address; a mapped
// page that is absent reads as zeros. It walks only the resident pages and
// copies nothing, so `ptrec diff --deep` can compare two address spaces page
// by page at every probe and read only the pages whose digests differ.
func (r *Replayer) MemoryPages(seed maphash.Seed) ([]MemRegion, map[uint64]uint64) {
	t := r.Thread()
	if t == nil {
		return nil, nil
	}
	s := &pageSplitter{seed: seed, pages: map[uint64]uint64{}}
	// Memory.Hash writes each mapping as one 17-byte record (start, end,
	// prot) and then each non-zero page as its 8-byte address followed
	// by its PageSize bytes, in separate writes.
	t.Process().Memory().Hash(s)
	return s.regions, s.pages
}

// pageSplitter is the hash.Hash given to Memory.Hash: it splits the stream
// back into mappings and per-page digests.
type pageSplitter struct {
	seed    maphash.Seed
	regions []MemRegion
	pages   map[uint64]uint64
	addr    uint64
}

func (s *pageSplitter) Write(b []byte) (int, error) {
	switch len(b) {
	case 17:
		s.regions = append(s.regions, MemRegion{le64(b), le64(b[8:]), machine.Prot(b[16])})
	case 8:
		s.addr = le64(b)
	case machine.PageSize:
		s.pages[s.addr] = maphash.Bytes(s.seed, b)
	}
	return len(b), nil
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func (s *pageSplitter) Sum(b []byte) []byte { return b }
func (s *pageSplitter) Reset()              {}
func (s *pageSplitter) Size() int           { return 0 }
func (s *pageSplitter) BlockSize() int      { return 1 }
