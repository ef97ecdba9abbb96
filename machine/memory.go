package machine

import (
	"encoding/binary"
	"fmt"
	"hash"
	"math/bits"
	"slices"
	"sort"
)

// pageBuf is the backing store of one guest page. It is shared copy-on-write
// between the clones of a Memory and the dirty-tracking snapshot; refs counts
// the owners, and a buffer is written in place only while refs == 1.
type pageBuf struct {
	b    [PageSize]byte
	refs int32
}

// zeroBuf backs reads of mapped pages that were never written. It is never
// written: its reference count never drops to one.
var zeroBuf = &pageBuf{refs: 1 << 30}

// page is a materialized guest page: one that was written, or executed.
type page struct {
	buf  *pageBuf  // current contents; never zeroBuf
	snap *pageBuf  // contents at the last CollectDelta; nil means zero
	code *codePage // decoded instructions of this page, or nil
	prot Prot
}

// vma is a run of mapped pages with one protection.
type vma struct {
	start, end uint64 // page-aligned, end exclusive
	prot       Prot
}

// Memory is a paged guest address space with protections, copy-on-write
// clones, dirty tracking and the decoded-instruction cache. Mapped pages that
// were never written take no storage.
//
// Memory is not safe for concurrent use: the threads of a process share it,
// and the kernel runs one at a time.
type Memory struct {
	vmas  []vma      // sorted, non-overlapping, adjacent equal ones merged
	pages *pageTable // materialized pages by page number
	// gen changes whenever a translation cached by a CPU (TLB, fetch
	// cache) may have become stale.
	gen uint64
	// inv logs pages whose translations changed without a gen change
	// (materialized, copied on write, made copy-on-write again by
	// CollectDelta): a CPU drops only their TLB entries instead of flushing
	// everything. inv[i] is invalidation number invBase+i; invSeq is the
	// next number. The log keeps at most maxInv entries; a CPU that fell
	// further behind flushes.
	inv             []uint64
	invBase, invSeq uint64
	// run is CollectDelta's buffer, reused between calls.
	run []byte
	// dirty lists the pages whose contents may differ from their
	// CollectDelta snapshot (with repeats and pages unmapped since);
	// pages not listed are unchanged.
	dirty []uint64
	// free holds page buffers no page or snapshot refers to any more, for
	// reuse by copy-on-write.
	free []*pageBuf
}

const maxFree = 256

const maxInv = 1024

// invalidate logs that CPUs must drop their translations of page pn.
func (m *Memory) invalidate(pn uint64) {
	if len(m.inv) == maxInv {
		n := copy(m.inv, m.inv[maxInv/2:])
		m.inv = m.inv[:n]
		m.invBase += maxInv / 2
	}
	m.inv = append(m.inv, pn)
	m.invSeq++
}

// newBuf returns an unshared page buffer, recycled if possible; zero says
// whether it must read as zero.
func (m *Memory) newBuf(zero bool) *pageBuf {
	if n := len(m.free); n > 0 {
		b := m.free[n-1]
		m.free = m.free[:n-1]
		if zero {
			b.b = [PageSize]byte{}
		}
		b.refs = 1
		return b
	}
	return &pageBuf{refs: 1}
}

// unref drops one reference to b, recycling it when none is left.
func (m *Memory) unref(b *pageBuf) {
	if b == nil {
		return
	}
	b.refs--
	if b.refs == 0 && len(m.free) < maxFree {
		m.free = append(m.free, b)
	}
}

// Fault is a page fault: an access to unmapped memory or against a page's
// protection.
type Fault struct {
	Addr   uint64
	Access Access
}

func (f *Fault) Error() string {
	kind := "reading"
	switch f.Access {
	case AccessWrite:
		kind = "writing"
	case AccessExec:
		kind = "executing"
	}
	return fmt.Sprintf("machine: page fault %s 0x%x", kind, f.Addr)
}

// NewMemory returns an empty address space.
func NewMemory() *Memory {
	return &Memory{pages: &pageTable{}, gen: 1}
}

func pageRange(addr, size uint64) (first, end uint64) {
	first = addr / PageSize
	end = (addr + size + PageSize - 1) / PageSize
	if addr+size < addr { // wraps
		end = 1 << 52
	}
	return
}

// findVMA returns the index of the vma containing page pn, or -1.
func (m *Memory) findVMA(pn uint64) int {
	a := pn * PageSize
	i := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > a })
	if i < len(m.vmas) && m.vmas[i].start <= a {
		return i
	}
	return -1
}

// setRange sets [start,end) to prot (mapped) or removes it (mapped=false).
func (m *Memory) setRange(start, end uint64, prot Prot, mapped bool) {
	var out []vma
	for _, v := range m.vmas {
		if v.end <= start || v.start >= end {
			out = append(out, v)
			continue
		}
		if v.start < start {
			out = append(out, vma{v.start, start, v.prot})
		}
		if v.end > end {
			out = append(out, vma{end, v.end, v.prot})
		}
	}
	if mapped {
		out = append(out, vma{start, end, prot})
	}
	slices.SortFunc(out, func(a, b vma) int {
		if a.start < b.start {
			return -1
		}
		if a.start > b.start {
			return 1
		}
		return 0
	})
	merged := out[:0]
	for _, v := range out {
		if n := len(merged); n > 0 && merged[n-1].end == v.start && merged[n-1].prot == v.prot {
			merged[n-1].end = v.end
			continue
		}
		merged = append(merged, v)
	}
	m.vmas = merged
}

// eachPage calls fn for every materialized page in [first,end) in
// ascending order; fn may delete the page it is given.
func (m *Memory) eachPage(first, end uint64, fn func(pn uint64, p *page)) {
	m.pages.walk(first, end, fn)
}

func (m *Memory) release(p *page) {
	m.unref(p.buf)
	m.unref(p.snap)
}

// Map maps [addr, addr+size) with fresh zero pages, replacing what was there.
// addr and size are page-aligned.
func (m *Memory) Map(addr, size uint64, prot Prot) {
	if size == 0 {
		return
	}
	first, end := pageRange(addr, size)
	m.eachPage(first, end, func(pn uint64, p *page) {
		m.release(p)
		m.pages.del(pn)
	})
	m.setRange(first*PageSize, end*PageSize, prot, true)
	m.gen++
}

// LoadClean maps [addr, addr+pageUp(len(data))) with prot, replacing what
// was there, filled with data (the rest of the last page zero), and makes
// those contents the dirty-tracking baseline: the next CollectDelta does
// not report them, only later changes. It is how pages loaded from a file
// (demand paging, the ELF loader) enter the address space: their bytes are
// already in the trace as the host read that fetched them. addr is
// page-aligned.
func (m *Memory) LoadClean(addr uint64, data []byte, prot Prot) {
	if len(data) == 0 {
		return
	}
	size := (uint64(len(data)) + PageSize - 1) &^ (PageSize - 1)
	m.Map(addr, size, prot)
	first := addr / PageSize
	for i := uint64(0); i < size/PageSize; i++ {
		chunk := data[i*PageSize : min(uint64(len(data)), (i+1)*PageSize)]
		b := m.newBuf(len(chunk) < PageSize)
		copy(b.b[:], chunk)
		b.refs = 2 // the page and its snapshot: a write copies
		m.pages.set(first+i, &page{buf: b, snap: b, prot: prot})
	}
}

// Unmap removes the mapping of [addr, addr+size).
func (m *Memory) Unmap(addr, size uint64) {
	if size == 0 {
		return
	}
	first, end := pageRange(addr, size)
	m.eachPage(first, end, func(pn uint64, p *page) {
		m.release(p)
		m.pages.del(pn)
	})
	m.setRange(first*PageSize, end*PageSize, 0, false)
	m.gen++
}

// Protect changes the protection of the mapped pages in [addr, addr+size);
// unmapped pages in the range stay unmapped.
func (m *Memory) Protect(addr, size uint64, prot Prot) {
	if size == 0 {
		return
	}
	first, end := pageRange(addr, size)
	s, e := first*PageSize, end*PageSize
	var add []vma
	for _, v := range m.vmas {
		if v.end <= s || v.start >= e {
			continue
		}
		add = append(add, vma{max(v.start, s), min(v.end, e), prot})
	}
	for _, v := range add {
		m.setRange(v.start, v.end, prot, true)
	}
	m.eachPage(first, end, func(pn uint64, p *page) {
		p.prot = prot
		if prot&ProtExec == 0 {
			p.code = nil
		}
	})
	m.gen++
}

// Query reports the protection of the page holding addr and whether it is mapped.
func (m *Memory) Query(addr uint64) (prot Prot, mapped bool) {
	pn := addr / PageSize
	if p := m.pages.get(pn); p != nil {
		return p.prot, true
	}
	if i := m.findVMA(pn); i >= 0 {
		return m.vmas[i].prot, true
	}
	return 0, false
}

// lookup returns the materialized page pn, or nil with the vma protection
// and whether pn is mapped at all.
func (m *Memory) lookup(pn uint64) (p *page, prot Prot, mapped bool) {
	if p = m.pages.get(pn); p != nil {
		return p, p.prot, true
	}
	if i := m.findVMA(pn); i >= 0 {
		return nil, m.vmas[i].prot, true
	}
	return nil, 0, false
}

// writable returns page pn materialized and exclusively owned (copying it if
// shared), with its decoded code dropped. pn must be mapped.
func (m *Memory) writable(pn uint64, prot Prot) *page {
	p := m.pages.get(pn)
	if p == nil {
		p = &page{buf: m.newBuf(true), prot: prot}
		m.pages.set(pn, p)
		m.dirty = append(m.dirty, pn)
		m.invalidate(pn)
		return p
	}
	if p.buf.refs > 1 {
		nb := m.newBuf(false)
		nb.b = p.buf.b
		p.buf.refs--
		p.buf = nb
		m.dirty = append(m.dirty, pn)
		m.invalidate(pn)
	}
	if p.code != nil {
		p.code = nil
		m.gen++
	}
	return p
}

// materialize returns page pn materialized (for the code cache). pn must be mapped.
func (m *Memory) materialize(pn uint64, prot Prot) *page {
	p := m.pages.get(pn)
	if p == nil {
		p = &page{buf: m.newBuf(true), prot: prot}
		m.pages.set(pn, p)
		m.dirty = append(m.dirty, pn)
		m.invalidate(pn)
	}
	return p
}

func (m *Memory) access(addr uint64, b []byte, need Prot, acc Access, write bool) error {
	// Check every page first so that a failing access changes nothing.
	for a, n := addr, uint64(len(b)); n > 0; {
		_, prot, mapped := m.lookup(a / PageSize)
		if !mapped || prot&need != need || !canonical(a) {
			return &Fault{Addr: a, Access: acc}
		}
		step := min(n, PageSize-a%PageSize)
		a += step
		n -= step
	}
	m.copyPages(addr, b, write)
	return nil
}

func (m *Memory) copyPages(addr uint64, b []byte, write bool) {
	for len(b) > 0 {
		pn := addr / PageSize
		off := addr % PageSize
		n := min(uint64(len(b)), PageSize-off)
		if write {
			_, prot, _ := m.lookup(pn)
			p := m.writable(pn, prot)
			copy(p.buf.b[off:off+n], b[:n])
		} else {
			p, _, _ := m.lookup(pn)
			if p == nil {
				clear(b[:n])
			} else {
				copy(b[:n], p.buf.b[off:off+n])
			}
		}
		b = b[n:]
		addr += n
	}
}

// Read copies guest memory at addr into b on behalf of the guest (copyin):
// every page must be readable, else a *Fault and nothing is read.
func (m *Memory) Read(addr uint64, b []byte) error {
	return m.access(addr, b, ProtRead, AccessRead, false)
}

// Write copies b into guest memory at addr on behalf of the guest (copyout):
// every page must be writable, else a *Fault and nothing is written.
func (m *Memory) Write(addr uint64, b []byte) error {
	return m.access(addr, b, ProtWrite, AccessWrite, true)
}

func (m *Memory) force(addr uint64, b []byte, write bool) (int, error) {
	done := 0
	for done < len(b) {
		a := addr + uint64(done)
		if _, _, mapped := m.lookup(a / PageSize); !mapped || !canonical(a) {
			acc := AccessRead
			if write {
				acc = AccessWrite
			}
			return done, &Fault{Addr: a, Access: acc}
		}
		n := min(len(b)-done, int(PageSize-a%PageSize))
		m.copyPages(a, b[done:done+n], write)
		done += n
	}
	return done, nil
}

// ReadForce reads guest memory ignoring protections (a debugger's
// proc_rwmem). It stops at the first unmapped page and returns the bytes read.
func (m *Memory) ReadForce(addr uint64, b []byte) (int, error) {
	return m.force(addr, b, false)
}

// WriteForce writes guest memory ignoring protections, copy-on-write (a
// debugger's breakpoint into read-only text). Decoded code of the written
// pages is invalidated. It stops at the first unmapped page.
func (m *Memory) WriteForce(addr uint64, b []byte) (int, error) {
	return m.force(addr, b, true)
}

// Clone returns a copy-on-write copy of the address space: pages are shared
// until either side writes them.
func (m *Memory) Clone() *Memory {
	n := &Memory{
		vmas:  slices.Clone(m.vmas),
		gen:   1,
		dirty: slices.Clone(m.dirty),
	}
	n.pages = m.pages.clone(func(p *page) *page {
		p.buf.refs++
		if p.snap != nil {
			p.snap.refs++
		}
		q := *p
		return &q
	})
	m.gen++ // our pages are shared now: writes must copy
	return n
}

// CollectDelta calls fn for the bytes that changed since the previous
// CollectDelta (for pages mapped since, since they were zero), in ascending
// address order, then marks everything clean. Each range starts and ends
// with a changed byte. With gap 0 the ranges are exactly the maximal runs of
// changed bytes. With gap > 0 changed bytes separated by fewer than gap
// unchanged ones are reported as one range, unchanged bytes included (a
// range costs more to encode than a few bytes, and a word store that changes
// only its low bytes would otherwise make a range per word), so ranges are
// at least gap bytes apart. data is only valid during the call.
//
// Only pages written since the previous collection are compared: each keeps
// its contents at that collection (the snapshot it shares copy-on-write with
// its current contents until the first write), and the comparison skips
// equal 64-byte lines and 8-byte words.
func (m *Memory) CollectDelta(gap int, fn func(addr uint64, data []byte)) {
	run := m.run[:0]
	var runAddr uint64
	m.CollectDeltaPieces(gap, func(addr uint64, data []byte, start bool) {
		if start {
			if len(run) > 0 {
				fn(runAddr, run)
			}
			run, runAddr = run[:0], addr
		}
		run = append(run, data...)
	})
	if len(run) > 0 {
		fn(runAddr, run)
	}
	if cap(run) <= 64<<10 {
		m.run = run[:0] // keep a small buffer, not a large delta's
	} else {
		m.run = nil
	}
}

// CollectDeltaPieces is CollectDelta without assembling ranges that span
// pages: fn gets each range as consecutive pieces, the first with start
// set and addr the range's address, the others continuing it. data is
// only valid during the call.
func (m *Memory) CollectDeltaPieces(gap int, fn func(addr uint64, data []byte, start bool)) {
	m.CollectDeltaPiecesMax(gap, 0, fn)
}

// CollectDeltaPiecesMax is CollectDeltaPieces over at most maxPages of the
// dirty pages (0: all), lowest addresses first; the others stay dirty for
// the next call (a range never continues across calls). It returns how
// many dirty pages are left.
func (m *Memory) CollectDeltaPiecesMax(gap, maxPages int, fn func(addr uint64, data []byte, start bool)) int {
	g := uint64(max(gap, 1))
	var runAddr, end uint64 // the current range; end == runAddr: none
	slices.Sort(m.dirty)
	var prev *[PageSize]byte // the previous page compared, and its number
	var prevPN uint64
	todo := slices.Compact(m.dirty)
	rest := todo[:0]
	if maxPages > 0 && len(todo) > maxPages {
		todo, rest = todo[:maxPages], todo[maxPages:]
	}
	for _, pn := range todo {
		p := m.pages.get(pn)
		if p == nil || p.buf == p.snap {
			continue
		}
		old := &zeroBuf.b
		if p.snap != nil {
			old = &p.snap.b
		}
		cur := &p.buf.b
		base := pn * PageSize
		for i := nextDiff(cur, old, 0, PageSize); i < PageSize; i = nextDiff(cur, old, i, PageSize) {
			// A run of changed bytes, extended over unchanged gaps
			// shorter than g.
			j := diffEnd(cur, old, i)
			for j < PageSize {
				limit := PageSize
				if g < uint64(PageSize-j) {
					limit = j + int(g)
				}
				k := nextDiff(cur, old, j, limit)
				if k >= limit {
					break
				}
				j = diffEnd(cur, old, k)
			}
			// Extend the current range over a short gap (which may begin
			// on the previous page), else start a new one.
			a := base + uint64(i)
			switch {
			case end > runAddr && end >= base && a-end < g:
				fn(end, cur[end-base:j], false)
			case end > runAddr && prev != nil && prevPN+1 == pn && a-end < g:
				fn(end, prev[end-prevPN*PageSize:], false)
				fn(base, cur[:j], false)
			default:
				runAddr = a
				fn(a, cur[i:j], true)
			}
			end = base + uint64(j)
			i = j
		}
		prev, prevPN = cur, pn
		m.unref(p.snap)
		p.snap = p.buf
		p.buf.refs++
		m.invalidate(pn) // writes must copy again
	}
	m.dirty = append(m.dirty[:0], rest...)
	return len(m.dirty)
}

// nextDiff returns the first index in [i, limit) where cur and old differ,
// or limit. A dirty page is mostly unchanged: it skips a block, a line or a
// word at a time (one memequal of a block costs about what one of a line
// does).
func nextDiff(cur, old *[PageSize]byte, i, limit int) int {
	for i < limit {
		switch {
		case i&511 == 0 && i+512 <= limit && *(*[512]byte)(cur[i:]) == *(*[512]byte)(old[i:]):
			i += 512
		case i&63 == 0 && i+64 <= limit && *(*[64]byte)(cur[i:]) == *(*[64]byte)(old[i:]):
			i += 64
		case i+8 <= limit:
			if x := le.Uint64(cur[i:]) ^ le.Uint64(old[i:]); x != 0 {
				return i + bits.TrailingZeros64(x)>>3
			}
			i = (i + 8) &^ 7 // all eight equal: on to the next aligned word
		default:
			if cur[i] != old[i] {
				return i
			}
			i++
		}
	}
	return limit
}

// diffEnd returns the first index at or after j where cur and old are
// equal, or PageSize; eight bytes at a time (the lowest zero byte of
// cur^old, found with the borrow trick, is exact).
func diffEnd(cur, old *[PageSize]byte, j int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= PageSize; j += 8 {
		x := le.Uint64(cur[j:]) ^ le.Uint64(old[j:])
		if z := (x - lo) &^ x & hi; z != 0 {
			return j + bits.TrailingZeros64(z)>>3
		}
	}
	for j < PageSize && cur[j] != old[j] {
		j++
	}
	return j
}

// Hash writes the address space to h deterministically: every mapping
// (start, end, protection) in ascending order, then every page holding a
// non-zero byte (address, bytes) in ascending order. Pages never written
// read as zero and are covered by their mapping.
func (m *Memory) Hash(h hash.Hash) {
	var b [17]byte
	for _, v := range m.vmas {
		binary.LittleEndian.PutUint64(b[0:], v.start)
		binary.LittleEndian.PutUint64(b[8:], v.end)
		b[16] = byte(v.prot)
		h.Write(b[:17])
	}
	m.pages.walk(0, 1<<52, func(pn uint64, p *page) {
		if p.buf.b == zeroBuf.b {
			return
		}
		binary.LittleEndian.PutUint64(b[0:], pn*PageSize)
		h.Write(b[:8])
		h.Write(p.buf.b[:])
	})
}

// DirtyPages bounds the number of pages the next CollectDelta compares
// (pages written since the previous one, possibly counted more than once).
func (m *Memory) DirtyPages() int { return len(m.dirty) }

// ResidentPages returns the number of pages that hold storage (written or
// executed at least once).
func (m *Memory) ResidentPages() int { return m.pages.n }

func canonical(a uint64) bool {
	return uint64(int64(a<<16)>>16) == a
}
