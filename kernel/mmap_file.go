package kernel

import (
	"errors"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// Demand paging of file mappings.
//
// mmap of a host file maps nothing in machine memory: the region records
// its backing (an mmapBacking holding a reference to the open file, so the
// host handle stays open after the guest closes its descriptor) and its
// file offset. A guest access to a page of the region that is not loaded
// yet is an ExitPageFault on an unmapped page; handleExit (and copyin,
// copyout and the debugger's forced accesses) then load the page with
// mmapFill: one HostPread of the fillChunk-aligned window of the file
// around the page, clipped to the region and to the run of pages not
// loaded yet, mapped with the region's protection. The instruction is
// retried. Bytes past the end of the file in its last page read as zero;
// a page wholly past the end is SIGBUS (BUS_ADRERR), as on Linux.
//
// The fills are host calls, so a trace holds only the parts of each file
// the guest touched, and replay makes the same fills at the same points
// (the chunking depends on nothing but the region and the machine's
// mapped pages, which replay reproduces).
//
// Loaded pages are ordinary machine pages: fork copies them copy-on-write
// and the child shares the backing of private mappings (each process fills
// its own pages). MAP_SHARED mappings are written back: each backing keeps
// the contents of its loaded pages as last read or written (shadow), and
// msync, munmap, an mmap or mremap that replaces them and process exit
// write the bytes that differ with HostPwrite (never past the file's end).
// Within ptrec a shared file mapping is still per process (fork gives the
// child its own copy and shadow), and neither a write(2) to the file nor
// another process's write-back reaches pages already loaded until msync
// with MS_INVALIDATE drops them; see mmapWriteback.

// fillChunk is the span of the file one page fault loads (aligned in the
// file).
const fillChunk = 64 << 10

// mmapBacking is the file behind a demand-paged region.
type mmapBacking struct {
	file   *File // a reference of its own (File.refs)
	handle int64
	shared bool
	// shadow holds, for a shared mapping, each loaded page's contents as
	// last read from or written to the file, by page offset in the file.
	shadow map[uint64][]byte
	// private marks the pages (by file offset) a debugger wrote into: as
	// proc_rwmem's copy-on-write makes them private in FreeBSD, they are
	// never written back to the file again.
	private map[uint64]bool
	reg     *mmapRegistry
	// exe is set on the backings of a demand-paged executable's segments:
	// the parts of the file exec read (headers, symbol tables), which is
	// what replay symbolizes with (Process.ExeImage).
	exe *execSource
}

// mmapRegistry lists every backing not yet released, so that a sweep can
// release the ones no vm map refers to any more (after munmap, exit, or an
// exec that dropped a whole map).
type mmapRegistry struct {
	list []*mmapBacking
}

// mmapRegistry returns the kernel's registry. It hangs off init's vm map
// (init maps nothing; the map is made here if init has none), which lives
// as long as the kernel and is copied with it by Snapshot.
func (k *Kernel) mmapRegistry() *mmapRegistry {
	if k.initp.vm == nil {
		k.initp.vm = newVMMap()
	}
	vm := k.initp.vm
	if vm.reg == nil {
		vm.reg = &mmapRegistry{}
	}
	return vm.reg
}

// newBacking returns a backing for f holding a reference to it.
func (k *Kernel) newBacking(f *File, h *hostFile, shared bool) *mmapBacking {
	b := &mmapBacking{file: f, handle: h.handle, shared: shared, reg: k.mmapRegistry()}
	if shared {
		b.shadow = map[uint64][]byte{}
	}
	f.refs++
	b.reg.list = append(b.reg.list, b)
	return b
}

// forkCopy returns the backing a forked child's copy of a region uses: the
// same one for a private mapping, a copy with its own shadow for a shared
// one (the child's pages are its own copies).
func (b *mmapBacking) forkCopy() *mmapBacking {
	if !b.shared {
		return b
	}
	n := &mmapBacking{file: b.file, handle: b.handle, shared: true, shadow: make(map[uint64][]byte, len(b.shadow)), reg: b.reg}
	for k, v := range b.shadow {
		n.shadow[k] = v // never modified in place
	}
	if b.private != nil {
		n.private = make(map[uint64]bool, len(b.private))
		for k, v := range b.private {
			n.private[k] = v
		}
	}
	b.file.refs++
	b.reg.list = append(b.reg.list, n)
	return n
}

// mmapSweep releases the backings no process maps any more.
func (k *Kernel) mmapSweep() {
	if k.initp == nil || k.initp.vm == nil || k.initp.vm.reg == nil {
		return
	}
	reg := k.initp.vm.reg
	live := map[*mmapBacking]bool{}
	for _, p := range k.procs {
		if p.vm == nil {
			continue
		}
		for i := range p.vm.regions {
			if b := p.vm.regions[i].back; b != nil {
				live[b] = true
			}
		}
	}
	out := reg.list[:0]
	var dead []*mmapBacking
	for _, b := range reg.list {
		if live[b] {
			out = append(out, b)
		} else {
			dead = append(dead, b)
		}
	}
	clear(reg.list[len(out):])
	reg.list = out
	for _, b := range dead {
		b.file.release(k)
	}
}

// overlapsBacked reports whether [start, end) overlaps a demand-paged region.
func (vm *VMMap) overlapsBacked(start, end uint64) bool {
	for i := range vm.regions {
		r := &vm.regions[i]
		if r.back != nil && r.Start < end && r.End > start {
			return true
		}
	}
	return false
}

func accessProt(acc machine.Access) machine.Prot {
	switch acc {
	case machine.AccessWrite:
		return machine.ProtWrite
	case machine.AccessExec:
		return machine.ProtExec
	}
	return machine.ProtRead
}

// errNotBacked says an address is not in a page mmapFill can load.
var errNotBacked = errors.New("kernel: not a demand-paged page")

// errBeyondEOF says the page lies wholly past the end of its file.
var errBeyondEOF = errors.New("kernel: mapped page beyond the end of the file")

// mmapFill loads the page holding addr, and its neighbours in the same
// fillChunk of the file that are not loaded yet, into p's memory. It
// returns errNotBacked if addr is not in a not-yet-loaded page of a file
// mapping, errBeyondEOF if the page lies past the end of the file (or the
// host read failed): SIGBUS for the guest.
func (k *Kernel) mmapFill(p *Process, addr uint64) error {
	if p.mem == nil || p.vm == nil {
		return errNotBacked
	}
	r, ok := p.vm.find(addr)
	if !ok || r.back == nil {
		return errNotBacked
	}
	pg := pageDown(addr)
	if _, mapped := p.mem.Query(pg); mapped {
		return errNotBacked
	}
	// The window: the aligned chunk of the file holding the page, within
	// the region, narrowed to the run of unloaded pages around it.
	foff := r.Offset + (pg - r.Start)
	cs := foff &^ (fillChunk - 1)
	lo, hi := r.Start, r.End
	if cs > r.Offset {
		lo = max(lo, r.Start+(cs-r.Offset))
	}
	if ce := cs + fillChunk; ce-r.Offset < r.End-r.Start {
		hi = min(hi, r.Start+(ce-r.Offset))
	}
	start, end := pg, pg+machine.PageSize
	for start > lo {
		if _, mapped := p.mem.Query(start - machine.PageSize); mapped {
			break
		}
		start -= machine.PageSize
	}
	for end < hi {
		if _, mapped := p.mem.Query(end); mapped {
			break
		}
		end += machine.PageSize
	}
	off := r.Offset + (start - r.Start)
	rep := k.host.Call(&HostCall{Op: HostPread, Handle: r.back.handle, Args: []int64{int64(end - start), int64(off)}})
	if rep.Errno != 0 {
		return errBeyondEOF
	}
	data := rep.Out
	if uint64(len(data)) > end-start {
		data = data[:end-start]
	}
	if uint64(len(data)) <= pg-start {
		return errBeyondEOF
	}
	n := pageUp(uint64(len(data)))
	// The bytes are in the trace as the pread's result: loading them is
	// not a change the next memory delta reports again.
	p.mem.LoadClean(start, data, r.Prot)
	if r.back.shared {
		for a := uint64(0); a < n; a += machine.PageSize {
			page := make([]byte, machine.PageSize)
			copy(page, data[min(a, uint64(len(data))):])
			r.back.shadow[off+a] = page
		}
	}
	return nil
}

// mmapFault handles a machine page fault in a demand-paged region: it
// loads the page (the caller retries the instruction) or delivers SIGBUS
// or SIGSEGV. It returns false for faults it has nothing to do with.
func (k *Kernel) mmapFault(t *Thread, e machine.Exit) bool {
	r, ok := t.p.vm.find(e.Addr)
	if !ok || r.back == nil {
		return false
	}
	if _, mapped := t.p.mem.Query(e.Addr); mapped {
		return false
	}
	if r.Prot&accessProt(e.Access) == 0 {
		k.trapSignal(t, abi.SIGSEGV, abi.SEGV_ACCERR, e.Addr, 14)
		return true
	}
	switch k.mmapFill(t.p, e.Addr) {
	case nil:
	case errBeyondEOF:
		k.trapSignal(t, abi.SIGBUS, abi.BUS_ADRERR, e.Addr, 14)
	default:
		return false
	}
	return true
}

// faultIn loads the page of a failed kernel access err (a *machine.Fault),
// reporting whether the access is worth retrying.
func (k *Kernel) faultIn(p *Process, err error) bool {
	var f *machine.Fault
	if !errors.As(err, &f) {
		return false
	}
	return k.mmapFill(p, f.Addr) == nil
}

// forceAccess is Memory.ReadForce/WriteForce (the debugger's proc_rwmem)
// that loads demand-paged pages it meets.
func (k *Kernel) forceAccess(p *Process, addr uint64, b []byte, write bool) (int, error) {
	done := 0
	for {
		var n int
		var err error
		if write {
			n, err = p.mem.WriteForce(addr+uint64(done), b[done:])
		} else {
			n, err = p.mem.ReadForce(addr+uint64(done), b[done:])
		}
		if write && n > 0 {
			k.privatize(p, addr+uint64(done), uint64(n))
		}
		done += n
		if err == nil || !k.faultIn(p, err) {
			return done, err
		}
	}
}

// privatize detaches the pages of shared file mappings in [addr, addr+n)
// from their file: a debugger's write (a breakpoint) must never reach the
// file, nor anything written to those pages afterwards (FreeBSD's
// proc_rwmem writes with VM_PROT_COPY).
func (k *Kernel) privatize(p *Process, addr, n uint64) {
	if p.vm == nil {
		return
	}
	for a := pageDown(addr); a < addr+n; a += machine.PageSize {
		r, ok := p.vm.find(a)
		if !ok || r.back == nil || !r.back.shared {
			continue
		}
		if r.back.private == nil {
			r.back.private = map[uint64]bool{}
		}
		r.back.private[r.Offset+(a-r.Start)] = true
	}
}

// mmapWriteback writes the changed bytes of the loaded pages of the shared
// file mappings in [start, end) of p back to their files. With invalidate
// the pages are then unloaded, so that the next access reads the file
// again (msync MS_INVALIDATE).
//
// Remaining incoherence with Linux: the guest's write(2) to a file is not
// seen by its loaded shared pages (nor one process's write-back by another
// process's loaded pages) before an msync(MS_INVALIDATE), munmap or exit;
// and a write-back writes the bytes that differ from what the page held
// when it was loaded or last written back, so a byte changed both through
// the mapping and with write(2) ends as the mapping's.
func (k *Kernel) mmapWriteback(p *Process, start, end uint64, invalidate bool) {
	if p.mem == nil || p.vm == nil {
		return
	}
	var regs []Region
	for _, r := range p.vm.regions {
		if r.back != nil && r.back.shared && r.Start < end && r.End > start {
			regs = append(regs, r)
		}
	}
	size := int64(-1)
	buf := make([]byte, machine.PageSize)
	for _, r := range regs {
		lo, hi := max(r.Start, start), min(r.End, end)
		for a := lo; a < hi; a += machine.PageSize {
			if _, mapped := p.mem.Query(a); !mapped {
				continue
			}
			foff := r.Offset + (a - r.Start)
			if r.back.private[foff] {
				continue // the process's own copy now (privatize)
			}
			old := r.back.shadow[foff]
			if n, _ := p.mem.ReadForce(a, buf); n == machine.PageSize && old != nil {
				i, j := 0, machine.PageSize
				for i < j && buf[i] == old[i] {
					i++
				}
				for j > i && buf[j-1] == old[j-1] {
					j--
				}
				if i < j {
					if size < 0 {
						size = 0
						if st, err := r.back.file.ops.stat(k); err == nil && len(st) >= 56 {
							size = int64(le64(st[48:56]))
						}
					}
					w0, w1 := int64(foff)+int64(i), min(int64(foff)+int64(j), size)
					if w1 > w0 {
						k.host.Call(&HostCall{Op: HostPwrite, Handle: r.back.handle, Args: []int64{w0}, In: buf[i : i+int(w1-w0)]})
					}
					r.back.shadow[foff] = append([]byte(nil), buf...)
				}
			}
			if invalidate {
				p.mem.Unmap(a, machine.PageSize)
				delete(r.back.shadow, foff)
			}
		}
	}
}
