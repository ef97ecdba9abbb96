package machine

import "slices"

// The page table maps page numbers to materialized pages: a three-level
// radix tree of 12-bit levels covering the 48-bit lower half of the address
// space (page numbers below 1<<36), where every guest mapping lives, and a
// map for the rest (the canonical upper half, which a guest rarely maps). A
// lookup is three dependent loads and no hashing; iteration is in ascending
// page order, so nothing depends on Go map order.
const (
	ptBits  = 12
	ptSize  = 1 << ptBits
	ptMask  = ptSize - 1
	ptLimit = 1 << (3 * ptBits) // page numbers the tree covers
)

type ptLeaf [ptSize]*page
type ptMid [ptSize]*ptLeaf

type pageTable struct {
	top [ptSize]*ptMid
	hi  map[uint64]*page // pages at or above ptLimit
	n   int              // materialized pages
}

func (t *pageTable) get(pn uint64) *page {
	if pn < ptLimit {
		if m := t.top[pn>>(2*ptBits)]; m != nil {
			if l := m[(pn>>ptBits)&ptMask]; l != nil {
				return l[pn&ptMask]
			}
		}
		return nil
	}
	return t.hi[pn]
}

// set stores p (non-nil) as page pn.
func (t *pageTable) set(pn uint64, p *page) {
	if pn >= ptLimit {
		if t.hi == nil {
			t.hi = make(map[uint64]*page)
		}
		if t.hi[pn] == nil {
			t.n++
		}
		t.hi[pn] = p
		return
	}
	m := t.top[pn>>(2*ptBits)]
	if m == nil {
		m = new(ptMid)
		t.top[pn>>(2*ptBits)] = m
	}
	l := m[(pn>>ptBits)&ptMask]
	if l == nil {
		l = new(ptLeaf)
		m[(pn>>ptBits)&ptMask] = l
	}
	if l[pn&ptMask] == nil {
		t.n++
	}
	l[pn&ptMask] = p
}

func (t *pageTable) del(pn uint64) {
	if pn >= ptLimit {
		if t.hi[pn] != nil {
			t.n--
			delete(t.hi, pn)
		}
		return
	}
	if m := t.top[pn>>(2*ptBits)]; m != nil {
		if l := m[(pn>>ptBits)&ptMask]; l != nil && l[pn&ptMask] != nil {
			l[pn&ptMask] = nil
			t.n--
		}
	}
}

// walk calls fn for every page in [first, end) in ascending order. fn may
// delete the page it is given (and only that one).
func (t *pageTable) walk(first, end uint64, fn func(pn uint64, p *page)) {
	if first >= end {
		return
	}
	for ti := first >> (2 * ptBits); ti < ptSize && ti<<(2*ptBits) < end; ti++ {
		m := t.top[ti]
		if m == nil {
			continue
		}
		for mi := uint64(0); mi < ptSize; mi++ {
			l := m[mi]
			if l == nil {
				continue
			}
			base := ti<<(2*ptBits) | mi<<ptBits
			if base+ptSize <= first {
				continue
			}
			if base >= end {
				break
			}
			lo, hi := uint64(0), uint64(ptSize)
			if first > base {
				lo = first - base
			}
			if end-base < hi {
				hi = end - base
			}
			for i := lo; i < hi; i++ {
				if p := l[i]; p != nil {
					fn(base+i, p)
				}
			}
		}
	}
	if len(t.hi) > 0 && end > ptLimit {
		var keys []uint64
		for pn := range t.hi {
			if pn >= first && pn < end {
				keys = append(keys, pn)
			}
		}
		slices.Sort(keys)
		for _, pn := range keys {
			fn(pn, t.hi[pn])
		}
	}
}

// clone returns a copy of the table whose pages are copies made by cp.
func (t *pageTable) clone(cp func(*page) *page) *pageTable {
	n := &pageTable{n: t.n}
	for ti, m := range t.top {
		if m == nil {
			continue
		}
		nm := new(ptMid)
		for mi, l := range m {
			if l == nil {
				continue
			}
			nl := new(ptLeaf)
			for i, p := range l {
				if p != nil {
					nl[i] = cp(p)
				}
			}
			nm[mi] = nl
		}
		n.top[ti] = nm
	}
	if len(t.hi) > 0 {
		n.hi = make(map[uint64]*page, len(t.hi))
		for pn, p := range t.hi {
			n.hi[pn] = cp(p)
		}
	}
	return n
}
