package kernel

import (
	"sort"

	"ptrec/machine"
)

// Region is one entry of a process's vm map (a vm_map_entry).
type Region struct {
	Start, End uint64 // [Start, End), page aligned
	Prot       machine.Prot
	Shared     bool
	Path       string // backing file, "" for anonymous memory
	Offset     uint64 // offset of Start in the backing file
	FileID     int64  // inode of the backing file, -1 if none
	FsID       uint32 // device of the backing file
	Name       string // special name for anonymous regions ([stack], [heap])
	// back is the file a demand-paged file mapping loads its pages from
	// (mmap_file.go), nil for memory that is all in the machine.
	back *mmapBacking
}

// VMMap is a process's map of regions, sorted by address, with a timestamp
// that changes whenever the map does (PT_VM_TIMESTAMP).
type VMMap struct {
	regions   []Region
	timestamp int32
	reg       *mmapRegistry // init's map only: the kernel's backings
}

func newVMMap() *VMMap { return &VMMap{} }

func (vm *VMMap) clone() *VMMap {
	n := &VMMap{regions: append([]Region(nil), vm.regions...), timestamp: vm.timestamp}
	var copies map[*mmapBacking]*mmapBacking
	for i := range n.regions {
		b := n.regions[i].back
		if b == nil || !b.shared {
			continue
		}
		if copies == nil {
			copies = map[*mmapBacking]*mmapBacking{}
		}
		c, ok := copies[b]
		if !ok {
			c = b.forkCopy()
			copies[b] = c
		}
		n.regions[i].back = c
	}
	return n
}

// Regions returns the map's entries in ascending order.
func (vm *VMMap) Regions() []Region { return vm.regions }

// Timestamp returns the map's change counter.
func (vm *VMMap) Timestamp() int32 { return vm.timestamp }

// insert adds r, first removing whatever overlaps it.
func (vm *VMMap) insert(r Region) {
	vm.remove(r.Start, r.End)
	i := sort.Search(len(vm.regions), func(i int) bool { return vm.regions[i].Start >= r.Start })
	vm.regions = append(vm.regions, Region{})
	copy(vm.regions[i+1:], vm.regions[i:])
	vm.regions[i] = r
	vm.timestamp++
}

// remove cuts [start, end) out of the map, splitting regions as needed.
func (vm *VMMap) remove(start, end uint64) {
	var out []Region
	changed := false
	for _, r := range vm.regions {
		if r.End <= start || r.Start >= end {
			out = append(out, r)
			continue
		}
		changed = true
		if r.Start < start {
			left := r
			left.End = start
			out = append(out, left)
		}
		if r.End > end {
			right := r
			if right.Path != "" {
				right.Offset += end - r.Start
			}
			right.Start = end
			out = append(out, right)
		}
	}
	if changed {
		vm.regions = out
		vm.timestamp++
	}
}

// protect changes the protection of [start, end), splitting regions.
func (vm *VMMap) protect(start, end uint64, prot machine.Prot) {
	var out []Region
	for _, r := range vm.regions {
		if r.End <= start || r.Start >= end {
			out = append(out, r)
			continue
		}
		lo, hi := max(r.Start, start), min(r.End, end)
		if r.Start < lo {
			left := r
			left.End = lo
			out = append(out, left)
		}
		mid := r
		if mid.Path != "" {
			mid.Offset += lo - r.Start
		}
		mid.Start, mid.End, mid.Prot = lo, hi, prot
		out = append(out, mid)
		if r.End > hi {
			right := r
			if right.Path != "" {
				right.Offset += hi - r.Start
			}
			right.Start = hi
			out = append(out, right)
		}
	}
	vm.regions = out
	vm.timestamp++
}

// find returns the region containing addr.
func (vm *VMMap) find(addr uint64) (Region, bool) {
	i := sort.Search(len(vm.regions), func(i int) bool { return vm.regions[i].End > addr })
	if i < len(vm.regions) && vm.regions[i].Start <= addr {
		return vm.regions[i], true
	}
	return Region{}, false
}

// mapped reports whether every page of [start, end) is in some region.
func (vm *VMMap) mapped(start, end uint64) bool {
	for a := start; a < end; {
		r, ok := vm.find(a)
		if !ok {
			return false
		}
		a = r.End
	}
	return true
}

// findFree returns the highest free range of size bytes below top and above
// bottom (mmap's top-down allocation), or 0.
func (vm *VMMap) findFree(size, bottom, top uint64) uint64 {
	end := top
	for i := len(vm.regions) - 1; i >= -1; i-- {
		var lo uint64 = bottom
		if i >= 0 {
			lo = vm.regions[i].End
			if vm.regions[i].Start >= end {
				continue
			}
		}
		if lo < bottom {
			lo = bottom
		}
		if end >= lo+size && end-size >= lo {
			return end - size
		}
		if i >= 0 {
			end = min(end, vm.regions[i].Start)
		}
	}
	return 0
}

func pageDown(a uint64) uint64 { return a &^ (machine.PageSize - 1) }
func pageUp(a uint64) uint64   { return (a + machine.PageSize - 1) &^ (machine.PageSize - 1) }
