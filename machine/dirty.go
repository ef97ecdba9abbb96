package machine

import "slices"

// ChangedPages returns the number of distinct pages the dirty list holds:
// the pages that may have changed since the last CollectDelta. Unlike
// DirtyPages (the list's length, with repeats) it does not depend on
// clones: a page shared with a clone (a replay checkpoint) is copied again
// on its next write and listed again. It compacts the list.
func (m *Memory) ChangedPages() int {
	slices.Sort(m.dirty)
	m.dirty = slices.Compact(m.dirty)
	return len(m.dirty)
}
