package kernel

import (
	"ptrec/kernel/abi"
	"ptrec/machine"
)

func protOf(p uint64) machine.Prot { return machine.Prot(p & 7) }

func sysBrk(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	p := t.p
	nb := a[0]
	if nb == 0 || nb < p.brkMin {
		return p.brk, nil
	}
	oldEnd, newEnd := pageUp(p.brk), pageUp(nb)
	if newEnd > oldEnd {
		if !p.vmFree(oldEnd, newEnd) || k.chargeMemory(newEnd-oldEnd) != nil {
			return p.brk, nil
		}
		p.mem.Map(oldEnd, newEnd-oldEnd, machine.ProtRead|machine.ProtWrite)
		p.vm.insert(Region{Start: oldEnd, End: newEnd, Prot: machine.ProtRead | machine.ProtWrite, Name: "[heap]", FileID: -1})
		p.vm.coalesceHeap()
	} else if newEnd < oldEnd {
		p.mem.Unmap(newEnd, oldEnd-newEnd)
		p.vm.remove(newEnd, oldEnd)
	}
	p.brk = nb
	return nb, nil
}

// vmFree reports whether [start, end) is unmapped.
func (p *Process) vmFree(start, end uint64) bool {
	for _, r := range p.vm.regions {
		if r.Start < end && r.End > start {
			return false
		}
	}
	return true
}

// coalesceHeap merges adjacent [heap] regions so the map stays small.
func (vm *VMMap) coalesceHeap() {
	out := vm.regions[:0:0]
	for _, r := range vm.regions {
		if n := len(out); n > 0 && r.Name == "[heap]" && out[n-1].Name == "[heap]" && out[n-1].End == r.Start && out[n-1].Prot == r.Prot {
			out[n-1].End = r.End
			continue
		}
		out = append(out, r)
	}
	vm.regions = out
}

func sysMmap(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	addr, length, prot, flags, fd, off := a[0], a[1], a[2], uint32(a[3]), int32(a[4]), a[5]
	p := t.p
	if length == 0 || off%machine.PageSize != 0 || addr%machine.PageSize != 0 && flags&abi.MAP_FIXED != 0 {
		return 0, abi.EINVAL
	}
	size := pageUp(length)
	if size < length || size > 1<<46 {
		return 0, abi.ENOMEM
	}
	typ := flags & abi.MAP_TYPE
	if typ != abi.MAP_PRIVATE && typ != abi.MAP_SHARED && typ != abi.MAP_SHARED_VALIDATE {
		return 0, abi.EINVAL
	}
	var region Region
	var file *File
	var host *hostFile
	if flags&abi.MAP_ANONYMOUS == 0 {
		f, err := p.files.get(int(fd))
		if err != nil {
			return 0, err
		}
		h, ok := f.ops.(*hostFile)
		if !ok {
			if _, dev := f.ops.(*memFile); dev {
				// /dev/zero: anonymous memory.
				goto place
			}
			return 0, abi.ENODEV
		}
		if f.flags&abi.O_ACCMODE == abi.O_WRONLY {
			return 0, abi.EACCES
		}
		if typ != abi.MAP_PRIVATE && prot&abi.PROT_WRITE != 0 && f.flags&abi.O_ACCMODE != abi.O_RDWR {
			return 0, abi.EACCES
		}
		fid, fsid := int64(-1), ^uint32(0)
		if st, err := h.stat(k); err == nil && len(st) >= 16 {
			fid, fsid = int64(le64(st[8:16])), uint32(le64(st[0:8]))
		}
		region = Region{Path: f.path, Offset: off, FileID: fid, FsID: fsid, Shared: typ != abi.MAP_PRIVATE}
		file, host = f, h
	}
place:
	if flags&abi.MAP_FIXED != 0 {
		if addr < mmapBottom || addr+size > stackTop || addr+size < addr {
			return 0, abi.ENOMEM
		}
	} else if flags&abi.MAP_FIXED_NOREPLACE != 0 {
		if !p.vmFree(addr, addr+size) {
			return 0, abi.EEXIST
		}
	} else {
		if addr != 0 && addr >= mmapBottom && addr+size <= mmapTop && addr+size > addr && p.vmFree(pageDown(addr), pageDown(addr)+size) {
			addr = pageDown(addr)
		} else {
			addr = p.vm.findFree(size, mmapBottom, mmapTop)
			if addr == 0 {
				return 0, abi.ENOMEM
			}
		}
	}
	if err := k.chargeMemory(size); err != nil {
		return 0, err
	}
	pr := protOf(prot)
	replaced := p.vm.overlapsBacked(addr, addr+size)
	if replaced {
		k.mmapWriteback(p, addr, addr+size, false)
	}
	if file != nil {
		// Demand paging: the pages load on first access (mmap_file.go).
		p.mem.Unmap(addr, size)
		region.back = k.newBacking(file, host, typ != abi.MAP_PRIVATE)
	} else {
		p.mem.Map(addr, size, pr)
	}
	region.Start, region.End, region.Prot = addr, addr+size, pr
	if region.Path == "" {
		region.FileID = -1
		region.Shared = typ != abi.MAP_PRIVATE
	}
	p.vm.insert(region)
	if replaced || file != nil {
		k.mmapSweep()
	}
	return addr, nil
}

func sysMunmap(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	addr, length := a[0], a[1]
	if addr%machine.PageSize != 0 || length == 0 {
		return 0, abi.EINVAL
	}
	size := pageUp(length)
	if addr+size < addr {
		return 0, abi.EINVAL
	}
	backed := t.p.vm.overlapsBacked(addr, addr+size)
	if backed {
		k.mmapWriteback(t.p, addr, addr+size, false)
	}
	t.p.mem.Unmap(addr, size)
	t.p.vm.remove(addr, addr+size)
	if backed {
		k.mmapSweep()
	}
	return 0, nil
}

func sysMprotect(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	addr, length, prot := a[0], a[1], a[2]
	if addr%machine.PageSize != 0 || prot&^uint64(7|abi.PROT_GROWSDOWN|abi.PROT_GROWSUP) != 0 {
		return 0, abi.EINVAL
	}
	size := pageUp(length)
	if size == 0 {
		return 0, nil
	}
	if !t.p.vm.mapped(addr, addr+size) {
		return 0, abi.ENOMEM
	}
	t.p.mem.Protect(addr, size, protOf(prot))
	t.p.vm.protect(addr, addr+size, protOf(prot))
	return 0, nil
}

func sysMremap(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	old, oldSize, newSize, flags, newAddr := a[0], pageUp(a[1]), pageUp(a[2]), a[3], a[4]
	p := t.p
	if old%machine.PageSize != 0 || newSize == 0 || flags&^uint64(abi.MREMAP_MAYMOVE|abi.MREMAP_FIXED) != 0 {
		return 0, abi.EINVAL
	}
	r, ok := p.vm.find(old)
	if !ok {
		return 0, abi.EFAULT
	}
	if newSize > oldSize {
		if err := k.chargeMemory(newSize - oldSize); err != nil {
			return 0, err
		}
	}
	if newSize <= oldSize && flags&abi.MREMAP_FIXED == 0 {
		if newSize < oldSize {
			backed := p.vm.overlapsBacked(old+newSize, old+oldSize)
			if backed {
				k.mmapWriteback(p, old+newSize, old+oldSize, false)
			}
			p.mem.Unmap(old+newSize, oldSize-newSize)
			p.vm.remove(old+newSize, old+oldSize)
			if backed {
				k.mmapSweep()
			}
		}
		return old, nil
	}
	if flags&abi.MREMAP_FIXED == 0 && p.vmFree(old+oldSize, old+newSize) && old+newSize <= mmapTop {
		if r.back == nil {
			p.mem.Map(old+oldSize, newSize-oldSize, r.Prot)
		} // else the new pages load from the file on first access
		nr := r
		nr.Start, nr.End = old+oldSize, old+newSize
		if nr.Path != "" {
			nr.Offset = r.Offset + (old + oldSize - r.Start)
		}
		p.vm.insert(nr)
		return old, nil
	}
	if flags&abi.MREMAP_MAYMOVE == 0 {
		return 0, abi.ENOMEM
	}
	dst := newAddr
	if flags&abi.MREMAP_FIXED == 0 {
		dst = p.vm.findFree(newSize, mmapBottom, mmapTop)
		if dst == 0 {
			return 0, abi.ENOMEM
		}
	}
	replaced := p.vm.overlapsBacked(dst, dst+newSize)
	if replaced {
		k.mmapWriteback(p, dst, dst+newSize, false)
	}
	if r.back == nil {
		buf := make([]byte, min(oldSize, newSize))
		p.mem.ReadForce(old, buf)
		p.mem.Map(dst, newSize, r.Prot)
		p.mem.WriteForce(dst, buf)
	} else {
		// Move the loaded pages; the others stay to be loaded from the
		// file at their new address.
		p.mem.Unmap(dst, newSize)
		buf := make([]byte, machine.PageSize)
		for i := uint64(0); i < min(oldSize, newSize); i += machine.PageSize {
			if pr, mapped := p.mem.Query(old + i); mapped {
				p.mem.ReadForce(old+i, buf)
				p.mem.Map(dst+i, machine.PageSize, pr)
				p.mem.WriteForce(dst+i, buf)
			}
		}
	}
	p.mem.Unmap(old, oldSize)
	p.vm.remove(old, old+oldSize)
	nr := r
	nr.Start, nr.End = dst, dst+newSize
	if nr.Path != "" {
		nr.Offset = r.Offset + (old - r.Start)
	}
	p.vm.insert(nr)
	if replaced {
		k.mmapSweep()
	}
	return dst, nil
}

func sysMadvise(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	addr, length, advice := a[0], pageUp(a[1]), int(a[2])
	if addr%machine.PageSize != 0 {
		return 0, abi.EINVAL
	}
	if advice == abi.MADV_DONTNEED && length > 0 {
		// Private anonymous pages read back as zero.
		p := t.p
		for a := addr; a < addr+length; {
			r, ok := p.vm.find(a)
			if !ok {
				return 0, abi.ENOMEM
			}
			end := min(r.End, addr+length)
			if r.back != nil && !r.back.shared {
				// Private file pages read the file again.
				p.mem.Unmap(a, end-a)
			} else if r.Path == "" {
				p.mem.Map(a, end-a, r.Prot)
			}
			a = end
		}
	}
	return 0, nil
}

func sysMincore(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	addr, length, vec := a[0], pageUp(a[1]), a[2]
	if addr%machine.PageSize != 0 {
		return 0, abi.EINVAL
	}
	if !t.p.vm.mapped(addr, addr+length) {
		return 0, abi.ENOMEM
	}
	b := make([]byte, length/machine.PageSize)
	for i := range b {
		b[i] = 1
	}
	return 0, t.writeMem(vec, b)
}

func sysMsync(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if a[0]%machine.PageSize != 0 {
		return 0, abi.EINVAL
	}
	flags := a[2]
	if flags&^uint64(abi.MS_ASYNC|abi.MS_INVALIDATE|abi.MS_SYNC) != 0 || flags&abi.MS_ASYNC != 0 && flags&abi.MS_SYNC != 0 {
		return 0, abi.EINVAL
	}
	if !t.p.vm.mapped(a[0], a[0]+pageUp(a[1])) {
		return 0, abi.ENOMEM
	}
	k.mmapWriteback(t.p, a[0], a[0]+pageUp(a[1]), flags&abi.MS_INVALIDATE != 0)
	return 0, nil
}
