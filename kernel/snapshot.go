package kernel

import (
	"fmt"
	"reflect"
	"sort"
	"unsafe"

	"ptrec/machine"
)

// Snapshot is a frozen deep copy of a kernel's whole state: every process
// and thread, CPU state (machine.CPU.Clone), address spaces (copy-on-write
// machine.Memory.Clone), vm maps, descriptor tables, files and pipes, the
// scheduler's queues, futexes, timers and signal state. A Snapshot is never
// run; Kernel returns a fresh runnable copy of it, any number of times.
//
// The host (Config.Host) is shared, not copied: after a restore the kernel
// keeps asking the same Host, which for replay answers from the trace at
// the position the replay restores alongside. Host file handles stay valid
// for the same reason.
type Snapshot struct {
	k        *Kernel
	Icount   uint64 // the global instruction count at the snapshot
	kbytes   uint64 // bytes of the copy's kernel objects and CPUs
	overhead uint64 // OverheadBytes, once computed
}

// Snapshot returns a deep copy of k's state. k is unchanged (except that
// its pages become copy-on-write shared with the copy).
//
// Preconditions: k is not inside RunUntil.
func (k *Kernel) Snapshot() *Snapshot {
	c := &cloner{objs: make(map[objKey]*objRec), walk: make(map[reflect.Type]bool)}
	nk := c.clone(k)
	return &Snapshot{k: nk, Icount: k.icount, kbytes: c.bytes}
}

// Kernel returns a new kernel in the snapshot's state. The snapshot stays
// unchanged and can be restored again.
func (s *Snapshot) Kernel() *Kernel { return cloneKernel(s.k) }

// ResidentPages returns the number of materialized pages of the snapshot's
// address spaces (pages shared copy-on-write with other copies included).
func (s *Snapshot) ResidentPages() int {
	n := 0
	for _, p := range s.k.procs {
		if p.mem != nil {
			n += p.mem.ResidentPages()
		}
	}
	return n
}

// The deep copy is generic so that it follows the kernel's types as they
// grow: it walks the object graph from the Kernel with reflection (the
// copy is rare, never on an instruction or syscall path). Objects of this
// package reached through pointers are copied once each, and every pointer
// is remapped, including pointers into the middle of another object (a
// thread sleeping on &p.childWait). Two passes: the first finds every
// pointed-to object and which of them lie inside others; the second
// allocates the outermost objects and fills them. machine.Memory and
// machine.CPU are copied with their own Clone methods; values of other
// packages reached through pointers or interfaces (the Host, a logger,
// errors) are shared.

var (
	kernelPkg = reflect.TypeOf(Kernel{}).PkgPath()
	memType   = reflect.TypeOf(machine.Memory{})
	cpuType   = reflect.TypeOf(machine.CPU{})
)

type objKey struct {
	addr uintptr
	typ  reflect.Type
}

type objRec struct {
	addr  uintptr        // for ordering and interior-pointer arithmetic only
	ptr   unsafe.Pointer // the object itself (keeps it reachable, no uintptr round trip)
	typ   reflect.Type
	outer *objRec // the outermost object holding this one (itself if outermost)
	off   uintptr // offset inside outer
	nu    unsafe.Pointer
}

type cloner struct {
	objs  map[objKey]*objRec
	order []*objRec
	walk  map[reflect.Type]bool // whether a type holds anything to remap or copy
	bytes uint64                // allocated by the copy (memories excluded), from type sizes
}

func cloneKernel(k *Kernel) *Kernel {
	c := &cloner{objs: make(map[objKey]*objRec), walk: make(map[reflect.Type]bool)}
	return c.clone(k)
}

func (c *cloner) clone(k *Kernel) *Kernel {
	root := reflect.ValueOf(k)
	c.discoverPtr(root)
	c.layout()
	// Memories first: CPUs are bound to them.
	for _, o := range c.order {
		if o.outer == o && o.typ == memType {
			o.nu = unsafe.Pointer((*machine.Memory)(o.ptr).Clone())
		}
	}
	for _, o := range c.order {
		if o.outer != o {
			continue
		}
		switch o.typ {
		case memType:
		case cpuType:
			old := (*machine.CPU)(o.ptr)
			var mem *machine.Memory
			if old.Mem != nil {
				mem = (*machine.Memory)(c.mapped(unsafe.Pointer(old.Mem), memType))
			}
			o.nu = unsafe.Pointer(old.Clone(mem))
			c.bytes += uint64(cpuType.Size())
		default:
			o.nu = reflect.New(o.typ).UnsafePointer()
			c.bytes += uint64(o.typ.Size())
		}
	}
	for _, o := range c.order {
		if o.outer != o || o.typ == memType || o.typ == cpuType {
			continue
		}
		src := reflect.NewAt(o.typ, o.ptr).Elem()
		dst := reflect.NewAt(o.typ, o.nu).Elem()
		c.copy(dst, src)
	}
	return (*Kernel)(c.mapped(unsafe.Pointer(k), reflect.TypeOf(Kernel{})))
}

// deepElem reports whether pointers to t are followed and remapped.
func deepElem(t reflect.Type) bool {
	return t.PkgPath() == kernelPkg || t == memType || t == cpuType
}

// needsWalk reports whether copying a value of type t needs more than an
// assignment.
func (c *cloner) needsWalk(t reflect.Type) bool {
	if w, ok := c.walk[t]; ok {
		return w
	}
	c.walk[t] = true // provisional, for recursive types
	w := false
	switch t.Kind() {
	case reflect.Pointer:
		w = deepElem(t.Elem())
	case reflect.Slice, reflect.Map, reflect.Interface:
		w = true
	case reflect.Array:
		w = t.Len() > 0 && c.needsWalk(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if c.needsWalk(t.Field(i).Type) {
				w = true
				break
			}
		}
	}
	c.walk[t] = w
	return w
}

// open returns v (addressable) without the read-only flag of unexported fields.
func open(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// temp copies a non-addressable value into a fresh addressable one.
func temp(v reflect.Value) reflect.Value {
	t := reflect.New(v.Type()).Elem()
	t.Set(v)
	return t
}

func (c *cloner) discoverPtr(p reflect.Value) {
	if p.IsNil() {
		return
	}
	et := p.Type().Elem()
	if !deepElem(et) {
		return
	}
	key := objKey{uintptr(p.UnsafePointer()), et}
	if c.objs[key] != nil {
		return
	}
	o := &objRec{addr: key.addr, ptr: p.UnsafePointer(), typ: et}
	c.objs[key] = o
	c.order = append(c.order, o)
	switch et {
	case memType:
	case cpuType:
		cpu := (*machine.CPU)(p.UnsafePointer())
		if cpu.Mem != nil {
			c.discoverPtr(reflect.ValueOf(cpu.Mem))
		}
	default:
		c.discover(open(p.Elem()))
	}
}

func (c *cloner) discover(v reflect.Value) {
	t := v.Type()
	if !c.needsWalk(t) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.discoverPtr(v)
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if e.Kind() == reflect.Pointer {
			c.discoverPtr(e)
		} else if e.Type().PkgPath() == kernelPkg {
			c.discover(temp(e))
		}
	case reflect.Slice:
		if c.needsWalk(t.Elem()) {
			for i := 0; i < v.Len(); i++ {
				c.discover(open(v.Index(i)))
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			c.discover(open(v.Index(i)))
		}
	case reflect.Map:
		kw, vw := c.needsWalk(t.Key()), c.needsWalk(t.Elem())
		it := v.MapRange()
		for it.Next() {
			if kw {
				c.discover(temp(it.Key()))
			}
			if vw {
				c.discover(temp(it.Value()))
			}
		}
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if c.needsWalk(t.Field(i).Type) {
				c.discover(open(v.Field(i)))
			}
		}
	}
}

// layout finds, for each object, the outermost object that contains it.
func (c *cloner) layout() {
	recs := append([]*objRec(nil), c.order...)
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].addr != recs[j].addr {
			return recs[i].addr < recs[j].addr
		}
		return recs[i].typ.Size() > recs[j].typ.Size()
	})
	var outer *objRec
	for _, o := range recs {
		size := o.typ.Size()
		if outer != nil && size > 0 && o.addr < outer.addr+outer.typ.Size() {
			if o.addr+size > outer.addr+outer.typ.Size() {
				panic(fmt.Sprintf("kernel: snapshot: %v at %#x straddles %v at %#x", o.typ, o.addr, outer.typ, outer.addr))
			}
			o.outer, o.off = outer, o.addr-outer.addr
			continue
		}
		o.outer = o
		if size > 0 {
			outer = o
		}
	}
}

// mapped returns the copy of the object of type t at old.
func (c *cloner) mapped(old unsafe.Pointer, t reflect.Type) unsafe.Pointer {
	o := c.objs[objKey{uintptr(old), t}]
	if o == nil {
		panic(fmt.Sprintf("kernel: snapshot: %v at %p was not discovered", t, old))
	}
	return unsafe.Add(o.outer.nu, o.off)
}

func (c *cloner) copy(dst, src reflect.Value) {
	t := src.Type()
	if !c.needsWalk(t) {
		dst.Set(src)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.NewAt(t.Elem(), c.mapped(src.UnsafePointer(), t.Elem())))
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := src.Elem()
		switch {
		case e.Kind() == reflect.Pointer && !e.IsNil() && deepElem(e.Type().Elem()):
			dst.Set(reflect.NewAt(e.Type().Elem(), c.mapped(e.UnsafePointer(), e.Type().Elem())))
		case e.Kind() != reflect.Pointer && e.Type().PkgPath() == kernelPkg:
			n := reflect.New(e.Type()).Elem()
			c.copy(n, temp(e))
			dst.Set(n)
		default:
			dst.Set(src)
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := reflect.MakeSlice(t, src.Len(), src.Len())
		c.bytes += uint64(src.Len()) * uint64(t.Elem().Size())
		if c.needsWalk(t.Elem()) {
			for i := 0; i < src.Len(); i++ {
				c.copy(open(n.Index(i)), open(src.Index(i)))
			}
		} else {
			reflect.Copy(n, src)
		}
		dst.Set(n)
	case reflect.Array:
		for i := 0; i < src.Len(); i++ {
			c.copy(open(dst.Index(i)), open(src.Index(i)))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		n := reflect.MakeMapWithSize(t, src.Len())
		c.bytes += uint64(src.Len()) * uint64(t.Key().Size()+t.Elem().Size()+16)
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(t.Key()).Elem()
			c.copy(k, temp(it.Key()))
			v := reflect.New(t.Elem()).Elem()
			c.copy(v, temp(it.Value()))
			n.SetMapIndex(k, v)
		}
		dst.Set(n)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			c.copy(open(dst.Field(i)), open(src.Field(i)))
		}
	default:
		dst.Set(src)
	}
}

// Checkpoint accounting, in pages, deterministic (no runtime heap
// statistics): which guest page buffers a set of snapshots holds, each
// counted once however many snapshots share it copy-on-write, and the bytes
// of each snapshot's own copy of everything else (kernel objects, CPUs,
// page tables).
//
// machine.Memory has no API naming its page buffers, so pageWalker reads
// its page table through a layout checked with reflection once (see
// checkLayout); if the layout is not what it expects, accounting falls back
// to counting every resident page of every snapshot as its own (an
// overestimate, never an underestimate). A machine API such as
// Memory.EachPageBuffer(func(id uintptr)) would replace it.

type pageWalker struct {
	ok                      bool
	pagesIdx, hiIdx         int     // Memory.pages (*pageTable), pageTable.hi (map)
	vmasIdx, dirtyIdx       int     // Memory.vmas, Memory.dirty (slices)
	topOff                  uintptr // pageTable.top (array of *mid)
	topLen, midLen, leafLen int
	midSize, leafSize       uintptr
	tableSize, pageSize     uintptr
	bufOff, snapOff         uintptr // page.buf, page.snap
	vmaSize                 uintptr
}

var walker = checkLayout()

func checkLayout() (w pageWalker) {
	field := func(t reflect.Type, name string, kind reflect.Kind) (reflect.StructField, bool) {
		if t.Kind() != reflect.Struct {
			return reflect.StructField{}, false
		}
		f, ok := t.FieldByName(name)
		return f, ok && f.Type.Kind() == kind && len(f.Index) == 1
	}
	pages, ok := field(memType, "pages", reflect.Pointer)
	if !ok {
		return
	}
	tt := pages.Type.Elem()
	top, ok1 := field(tt, "top", reflect.Array)
	hi, ok2 := field(tt, "hi", reflect.Map)
	vmas, ok3 := field(memType, "vmas", reflect.Slice)
	dirty, ok4 := field(memType, "dirty", reflect.Slice)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	mid := top.Type.Elem()
	if mid.Kind() != reflect.Pointer || mid.Elem().Kind() != reflect.Array {
		return
	}
	leaf := mid.Elem().Elem()
	if leaf.Kind() != reflect.Pointer || leaf.Elem().Kind() != reflect.Array {
		return
	}
	pg := leaf.Elem().Elem()
	if pg.Kind() != reflect.Pointer || hi.Type.Elem() != pg || hi.Type.Key().Kind() != reflect.Uint64 {
		return
	}
	buf, ok1 := field(pg.Elem(), "buf", reflect.Pointer)
	snap, ok2 := field(pg.Elem(), "snap", reflect.Pointer)
	if !ok1 || !ok2 || buf.Type != snap.Type {
		return
	}
	return pageWalker{
		ok: true, pagesIdx: pages.Index[0], topOff: top.Offset, hiIdx: hi.Index[0],
		topLen: top.Type.Len(), midLen: mid.Elem().Len(), leafLen: leaf.Elem().Len(),
		midSize: mid.Elem().Size(), leafSize: leaf.Elem().Size(),
		tableSize: tt.Size(), pageSize: pg.Elem().Size(),
		bufOff: buf.Offset, snapOff: snap.Offset,
		vmasIdx: vmas.Index[0], dirtyIdx: dirty.Index[0], vmaSize: vmas.Type.Elem().Size(),
	}
}

// walk calls fn for each page buffer m holds (a page's contents and its
// delta baseline) and returns the bytes of m's own structures: the Memory,
// its page table and page records, vmas and dirty list.
func (w *pageWalker) walk(m *machine.Memory, fn func(buf uintptr)) (bytes uint64) {
	mv := reflect.ValueOf(m).Elem()
	bytes = uint64(memType.Size())
	bytes += uint64(mv.Field(w.vmasIdx).Cap())*uint64(w.vmaSize) + uint64(mv.Field(w.dirtyIdx).Cap())*8
	ptv := mv.Field(w.pagesIdx)
	if ptv.IsNil() {
		return bytes
	}
	pt := ptv.UnsafePointer()
	bytes += uint64(w.tableSize)
	page := func(p unsafe.Pointer) {
		bytes += uint64(w.pageSize)
		b := *(*unsafe.Pointer)(unsafe.Add(p, w.bufOff))
		if b != nil {
			fn(uintptr(b))
		}
		if sb := *(*unsafe.Pointer)(unsafe.Add(p, w.snapOff)); sb != nil && sb != b {
			fn(uintptr(sb))
		}
	}
	top := unsafe.Add(pt, w.topOff)
	for i := 0; i < w.topLen; i++ {
		mid := *(*unsafe.Pointer)(unsafe.Add(top, uintptr(i)*8))
		if mid == nil {
			continue
		}
		bytes += uint64(w.midSize)
		for j := 0; j < w.midLen; j++ {
			leaf := *(*unsafe.Pointer)(unsafe.Add(mid, uintptr(j)*8))
			if leaf == nil {
				continue
			}
			bytes += uint64(w.leafSize)
			for k := 0; k < w.leafLen; k++ {
				if p := *(*unsafe.Pointer)(unsafe.Add(leaf, uintptr(k)*8)); p != nil {
					page(p)
				}
			}
		}
	}
	it := ptv.Elem().Field(w.hiIdx).MapRange()
	var hi []unsafe.Pointer
	for it.Next() {
		hi = append(hi, it.Value().UnsafePointer())
	}
	for _, p := range hi {
		page(p)
	}
	return bytes
}

// memories returns k's distinct address spaces, in process order.
func memories(k *Kernel) []*machine.Memory {
	var ms []*machine.Memory
	seen := make(map[*machine.Memory]bool)
	for _, p := range k.procs {
		if p.mem != nil && !seen[p.mem] {
			seen[p.mem] = true
			ms = append(ms, p.mem)
		}
	}
	return ms
}

// eachBuf calls fn once for every page buffer k's address spaces hold,
// and returns the bytes of their page tables and page records.
func eachBuf(k *Kernel, fn func(uintptr)) uint64 {
	var n uint64
	ms := memories(k)
	if len(ms) > 1 && walker.ok {
		// Forked address spaces share buffers copy-on-write.
		seen := make(map[uintptr]bool)
		inner := fn
		fn = func(b uintptr) {
			if !seen[b] {
				seen[b] = true
				inner(b)
			}
		}
	}
	for _, m := range ms {
		if walker.ok {
			n += walker.walk(m, fn)
		}
	}
	return n
}

// ResidentPages returns the number of materialized pages of k's address
// spaces (each address space once, however many processes share it): the
// guest's resident memory in pages.
func (k *Kernel) ResidentPages() int {
	n := 0
	for _, m := range memories(k) {
		n += m.ResidentPages()
	}
	return n
}

// OverheadBytes returns what the snapshot's own copy of the kernel costs
// beyond guest pages: kernel objects, CPUs, page tables and page records.
// It is computed from counts and type sizes, so it is deterministic.
func (s *Snapshot) OverheadBytes() uint64 {
	if s.overhead == 0 {
		s.overhead = s.kbytes + eachBuf(s.k, func(uintptr) {})
		if !walker.ok {
			s.overhead += uint64(s.ResidentPages()) * 48
		}
	}
	return s.overhead
}

// PageLedger counts the guest page buffers held by a set of snapshots,
// each once however many of them share it copy-on-write. Snapshots are
// immutable, so a snapshot's buffers stay the same while it is in the
// ledger (and stay allocated: addresses are unique identities).
type PageLedger struct {
	refs map[uintptr]int32
}

// NewPageLedger returns an empty ledger.
func NewPageLedger() *PageLedger { return &PageLedger{refs: make(map[uintptr]int32)} }

// Add counts s's pages.
func (l *PageLedger) Add(s *Snapshot) {
	if !walker.ok {
		return
	}
	eachBuf(s.k, func(b uintptr) { l.refs[b]++ })
}

// Remove uncounts s's pages (s must have been added).
func (l *PageLedger) Remove(s *Snapshot) {
	if !walker.ok {
		return
	}
	eachBuf(s.k, func(b uintptr) {
		if l.refs[b]--; l.refs[b] <= 0 {
			delete(l.refs, b)
		}
	})
}

// PageSet is a set of page buffers: those of a live kernel, to tell the
// pages snapshots hold beyond the guest's own.
type PageSet struct{ m map[uintptr]struct{} }

// LivePages returns the set of page buffers k's address spaces hold.
func (k *Kernel) LivePages() PageSet {
	s := PageSet{m: make(map[uintptr]struct{})}
	if walker.ok {
		eachBuf(k, func(b uintptr) { s.m[b] = struct{}{} })
	}
	return s
}

// Unique returns the number of s's pages that no other snapshot of the
// ledger holds, nor live: what dropping s frees.
func (l *PageLedger) Unique(s *Snapshot, live PageSet) int {
	if !walker.ok {
		return s.ResidentPages()
	}
	n := 0
	eachBuf(s.k, func(b uintptr) {
		if _, ok := live.m[b]; !ok && l.refs[b] == 1 {
			n++
		}
	})
	return n
}

// Beyond returns the number of pages the ledger holds that live does not:
// what the snapshots cost on top of the guest's own memory. all are the
// ledger's snapshots (used only if pages cannot be identified).
func (l *PageLedger) Beyond(live PageSet, all []*Snapshot) int {
	if !walker.ok {
		n := 0
		for _, s := range all {
			n += s.ResidentPages()
		}
		return n
	}
	n := len(l.refs)
	for b := range live.m {
		if l.refs[b] > 0 {
			n--
		}
	}
	return n
}
