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
	k      *Kernel
	Icount uint64 // the global instruction count at the snapshot
}

// Snapshot returns a deep copy of k's state. k is unchanged (except that
// its pages become copy-on-write shared with the copy).
//
// Preconditions: k is not inside RunUntil.
func (k *Kernel) Snapshot() *Snapshot {
	return &Snapshot{k: cloneKernel(k), Icount: k.icount}
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
}

func cloneKernel(k *Kernel) *Kernel {
	c := &cloner{objs: make(map[objKey]*objRec), walk: make(map[reflect.Type]bool)}
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
		default:
			o.nu = reflect.New(o.typ).UnsafePointer()
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
