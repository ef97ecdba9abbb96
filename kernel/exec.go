package kernel

import (
	"bytes"
	"cmp"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"ptrec/kernel/abi"
	"ptrec/machine"
)

// Address-space layout (what Linux gives a process with ASLR off).
const (
	stackTop      = 0x7ffffffff000
	stackSize     = 8 << 20
	mmapTop       = 0x7ffff7fff000
	mmapBottom    = 0x10000
	pieBase       = 0x555555554000
	interpBase    = 0x7ffff7fc3000
	maxExecSize   = 1 << 30
	maxArgStrings = 2 << 20
)

// ExecError explains why a program could not be executed; Errno is what a
// guest execve returns.
type ExecError struct {
	Path   string
	Errno  abi.Errno
	Reason string
}

func (e *ExecError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("%s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Errno.Error())
}

// image is a program loaded into a fresh address space.
type image struct {
	mem      *machine.Memory
	vm       *VMMap
	entry    uint64 // where execution starts (the interpreter's entry if any)
	progEnt  uint64 // the program's own entry (AT_ENTRY)
	phdr     uint64
	phent    uint64
	phnum    uint64
	interpLo uint64 // AT_BASE
	brk      uint64
}

// wholeReadMax is the largest executable exec reads with one HostReadFile
// (the trace then holds all of it, and replay and diff symbolize from that
// copy; a static program touches most of its pages anyway). A larger one,
// and every interpreter (ld.so), is demand-paged: exec reads its headers, and its
// PT_LOAD segments become file mappings whose pages load on first access
// (mmap_file.go), so the trace holds only what the program touched.
const wholeReadMax = 1 << 20

// execFile is an executable opened by exec: either read whole (data), or
// open on the host (file) and read in pages as the loader asks.
type execFile struct {
	k     *Kernel
	path  string
	size  int64
	data  []byte // the whole file, if whole
	whole bool   // read whole, else demand-paged
	file  *File  // the open file of a demand-paged executable
	h     *hostFile
	src   *execSource // the pages read so far (demand-paged)
}

// execSource is what exec read of a demand-paged executable, by 4 KiB page
// of the file: its ELF and program headers, section headers and the
// sections not loaded in memory (symbol tables, debug information).
type execSource struct {
	size  int64
	pages map[int64][]byte
}

// loadFile opens an executable through the Host: one of at most wholeMax
// bytes is read whole, a larger one only in the pages the loader asks for
// (ReadAt). The caller calls close when done with it.
func (k *Kernel) loadFile(p string, wholeMax int64) (*execFile, error) {
	st := k.host.Call(&HostCall{Op: HostStat, Path: p, Args: []int64{1}})
	if st.Errno != 0 {
		return nil, &ExecError{Path: p, Errno: st.Errno}
	}
	mode := statMode(st.Out)
	if mode&abi.S_IFMT == abi.S_IFDIR {
		return nil, &ExecError{Path: p, Errno: abi.EACCES, Reason: "is a directory"}
	}
	if mode&abi.S_IFMT != abi.S_IFREG {
		return nil, &ExecError{Path: p, Errno: abi.EACCES, Reason: "not a regular file"}
	}
	if mode&0o111 == 0 {
		return nil, &ExecError{Path: p, Errno: abi.EACCES, Reason: "permission denied (not executable)"}
	}
	var size int64
	if len(st.Out) >= 56 {
		size = int64(le64(st.Out[48:56]))
	}
	if size <= wholeMax {
		r := k.host.Call(&HostCall{Op: HostReadFile, Path: p})
		if r.Errno != 0 {
			return nil, &ExecError{Path: p, Errno: r.Errno}
		}
		return &execFile{k: k, path: p, size: int64(len(r.Out)), data: r.Out, whole: true}, nil
	}
	r := k.host.Call(&HostCall{Op: HostOpen, Path: p, Args: []int64{abi.O_RDONLY, 0}})
	if r.Errno != 0 {
		return nil, &ExecError{Path: p, Errno: r.Errno}
	}
	h := &hostFile{handle: r.Ret, seekable: true}
	ef := &execFile{k: k, path: p, size: size, file: newFile(h, abi.O_RDONLY, p), h: h,
		src: &execSource{size: size, pages: map[int64][]byte{}}}
	if _, err := ef.ReadAt(make([]byte, min(size, machine.PageSize)), 0); err != nil {
		ef.close(k)
		return nil, &ExecError{Path: p, Errno: abi.EIO}
	}
	return ef, nil
}

// close releases the host file of a demand-paged executable unless its
// segments' mappings hold it.
func (ef *execFile) close(k *Kernel) {
	if ef.file != nil && ef.file.refs == 0 {
		ef.file.refs = 1
		ef.file.release(k)
	}
}

// head returns the first n bytes of the file (fewer if it is shorter).
func (ef *execFile) head(n int) []byte {
	if ef.whole {
		return ef.data[:min(n, len(ef.data))]
	}
	b := make([]byte, min(int64(n), ef.size))
	m, _ := ef.ReadAt(b, 0)
	return b[:m]
}

// ReadAt implements io.ReaderAt (for debug/elf). Reading a demand-paged
// file reads the pages not read yet with one HostPread per run of them.
func (ef *execFile) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("kernel: negative offset")
	}
	if ef.whole {
		if off >= int64(len(ef.data)) {
			return 0, io.EOF
		}
		n := copy(b, ef.data[off:])
		if n < len(b) {
			return n, io.EOF
		}
		return n, nil
	}
	end := min(off+int64(len(b)), ef.size)
	if off >= end {
		return 0, io.EOF
	}
	const ps = int64(machine.PageSize)
	pages := ef.src.pages
	for pg := off / ps; pg*ps < end; {
		if pages[pg] != nil {
			pg++
			continue
		}
		run := pg
		for run*ps < end && pages[run] == nil {
			run++
		}
		r := ef.k.host.Call(&HostCall{Op: HostPread, Handle: ef.h.handle, Args: []int64{(run - pg) * ps, pg * ps}})
		if r.Errno != 0 {
			return 0, r.Errno
		}
		for i := pg; i < run; i++ {
			lo := (i - pg) * ps
			page := make([]byte, min(ps, ef.size-i*ps))
			if lo < int64(len(r.Out)) {
				copy(page, r.Out[lo:])
			}
			pages[i] = page
		}
		if int64(len(r.Out)) < min(run*ps, ef.size)-pg*ps {
			return 0, io.ErrUnexpectedEOF // the file shrank
		}
		pg = run
	}
	n := 0
	for n < int(end-off) {
		a := off + int64(n)
		n += copy(b[n:end-off], pages[a/ps][a%ps:])
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// statMode extracts st_mode from a linux struct stat.
func statMode(st []byte) uint32 {
	if len(st) < 28 {
		return 0
	}
	return uint32(st[24]) | uint32(st[25])<<8 | uint32(st[26])<<16 | uint32(st[27])<<24
}

// loadImage parses an ELF executable (and its interpreter), read whole,
// into a new address space. It never panics on malformed input.
func (k *Kernel) loadImage(p string, data []byte) (*image, error) {
	return k.loadImageFile(p, &execFile{k: k, path: p, size: int64(len(data)), data: data, whole: true})
}

// loadImageFile is loadImage of an opened executable.
func (k *Kernel) loadImageFile(p string, ef *execFile) (img *image, err error) {
	defer func() {
		// debug/elf has panicked on hostile input in the past; a malformed
		// file is a guest error, never a crash of ptrec.
		if r := recover(); r != nil {
			img, err = nil, &ExecError{Path: p, Errno: abi.ENOEXEC, Reason: fmt.Sprintf("malformed ELF (%v)", r)}
		}
	}()
	img = &image{mem: machine.NewMemory(), vm: newVMMap()}
	base, ehdr, err := k.mapELF(img, p, ef, false)
	if err != nil {
		return nil, err
	}
	img.progEnt = base + ehdr.entry
	img.entry = img.progEnt
	img.phent = 56
	img.phnum = ehdr.phnum
	img.phdr = base + ehdr.phdrAddr
	if ehdr.interp != "" {
		interp, err := k.loadFile(ehdr.interp, -1) // never read whole: diff takes the first HostReadFile for the program
		if err != nil {
			return nil, &ExecError{Path: p, Errno: abi.ENOENT, Reason: fmt.Sprintf("interpreter %s: %v", ehdr.interp, err)}
		}
		ibase, ih, err := k.mapELF(img, ehdr.interp, interp, true)
		interp.close(k)
		if err != nil {
			return nil, err
		}
		img.interpLo = ibase
		img.entry = ibase + ih.entry
	}
	return img, nil
}

type elfInfo struct {
	entry    uint64
	phnum    uint64
	phdrAddr uint64
	interp   string
}

// mapELF maps the PT_LOAD segments of one ELF file into img: copied in
// from a file read whole, else as demand-paged file mappings (the page
// that ends a segment's file part before its bss is loaded now, its tail
// cleared, as Linux's padzero does).
func (k *Kernel) mapELF(img *image, p string, ef *execFile, isInterp bool) (uint64, elfInfo, error) {
	bad := func(reason string) error { return &ExecError{Path: p, Errno: abi.ENOEXEC, Reason: reason} }
	hdr := ef.head(64)
	if len(hdr) < 64 || !bytes.HasPrefix(hdr, []byte(elf.ELFMAG)) {
		return 0, elfInfo{}, bad("not an ELF executable")
	}
	f, err := elf.NewFile(ef)
	if err != nil {
		return 0, elfInfo{}, bad("malformed ELF: " + err.Error())
	}
	if f.Class != elf.ELFCLASS64 {
		return 0, elfInfo{}, bad("32-bit ELF is not supported (x86-64 only)")
	}
	if f.Machine != elf.EM_X86_64 {
		return 0, elfInfo{}, bad(fmt.Sprintf("ELF for %v, not x86-64", f.Machine))
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return 0, elfInfo{}, bad(fmt.Sprintf("ELF type %v is not executable", f.Type))
	}
	size := uint64(ef.size)
	var info elfInfo
	info.entry = f.Entry
	info.phnum = uint64(len(f.Progs))
	hasPhdr := false
	var lo, hi uint64 = ^uint64(0), 0
	for _, ph := range f.Progs {
		switch ph.Type {
		case elf.PT_LOAD:
			if ph.Memsz < ph.Filesz || ph.Off+ph.Filesz > size || ph.Off+ph.Filesz < ph.Off {
				return 0, info, bad("PT_LOAD segment outside the file")
			}
			lo = min(lo, pageDown(ph.Vaddr))
			hi = max(hi, pageUp(ph.Vaddr+ph.Memsz))
		case elf.PT_INTERP:
			if isInterp {
				return 0, info, bad("interpreter has its own PT_INTERP")
			}
			if ph.Off+ph.Filesz > size || ph.Filesz > 4096 {
				return 0, info, bad("bad PT_INTERP")
			}
			b := make([]byte, ph.Filesz)
			if _, err := ef.ReadAt(b, int64(ph.Off)); err != nil {
				return 0, info, bad("bad PT_INTERP")
			}
			info.interp = strings.TrimRight(string(b), "\x00")
		case elf.PT_PHDR:
			info.phdrAddr = ph.Vaddr
			hasPhdr = true
		}
	}
	if hi == 0 || hi <= lo || hi-lo > maxExecSize {
		return 0, info, bad("no loadable segments")
	}
	var base uint64
	if f.Type == elf.ET_DYN {
		base = pieBase
		if isInterp {
			base = interpBase
		}
		base -= lo
	}
	if lo+base < mmapBottom || hi+base > stackTop-stackSize {
		return 0, info, bad("segments outside the user address space")
	}
	fileID, fsID := k.fileIdentity(p)
	var back *mmapBacking
	for _, ph := range f.Progs {
		if ph.Type != elf.PT_LOAD || ph.Memsz == 0 {
			continue
		}
		start := pageDown(ph.Vaddr + base)
		end := pageUp(ph.Vaddr + base + ph.Memsz)
		prot := elfProt(ph.Flags)
		fileEnd := pageUp(ph.Vaddr + base + ph.Filesz)
		region := Region{Start: start, End: min(fileEnd, end), Prot: prot, Path: p, Offset: pageDown(ph.Off), FileID: fileID, FsID: fsID}
		if !ef.whole && ph.Filesz > 0 && (ph.Vaddr-ph.Off)%machine.PageSize == 0 {
			// Demand paging: the file part loads on access.
			img.mem.Unmap(start, fileEnd-start)
			if back == nil {
				back = k.newBacking(ef.file, ef.h, false)
			}
			region.back = back
			if tail := (ph.Vaddr + base + ph.Filesz) % machine.PageSize; tail != 0 && ph.Memsz > ph.Filesz {
				pg := fileEnd - machine.PageSize
				b := make([]byte, tail)
				if _, err := ef.ReadAt(b, int64(ph.Off+ph.Filesz-tail)); err != nil {
					return 0, info, bad("cannot load segment: " + err.Error())
				}
				img.mem.LoadClean(pg, b, prot)
			}
			if fileEnd < end {
				img.mem.Map(fileEnd, end-fileEnd, prot)
			}
		} else {
			seg := make([]byte, ph.Filesz)
			if ef.whole {
				seg = ef.data[ph.Off : ph.Off+ph.Filesz]
			} else if _, err := ef.ReadAt(seg, int64(ph.Off)); err != nil {
				return 0, info, bad("cannot load segment: " + err.Error())
			}
			img.mem.Map(start, end-start, prot)
			if _, err := img.mem.WriteForce(ph.Vaddr+base, seg); err != nil {
				return 0, info, bad("cannot load segment: " + err.Error())
			}
		}
		img.vm.insert(region)
		if fileEnd < end {
			img.vm.insert(Region{Start: fileEnd, End: end, Prot: prot, FileID: -1})
		}
		if !isInterp && end > img.brk {
			img.brk = end
		}
		if off := phoff(hdr); !hasPhdr && ph.Off <= off && off < ph.Off+ph.Filesz {
			info.phdrAddr = ph.Vaddr + (off - ph.Off)
		}
	}
	if back != nil && !isInterp {
		// What replay symbolizes with: the sections not loaded in memory
		// (symbol and string tables, debug information), read now.
		k.readUnloaded(ef, f)
		back.exe = ef.src
	}
	// The image was written with WriteForce; that is not a guest change.
	img.mem.CollectDelta(0, func(uint64, []byte) {})
	return base, info, nil
}

// readUnloaded reads the sections of a demand-paged executable that are not
// part of its memory image, in as few reads as the gaps between them allow.
func (k *Kernel) readUnloaded(ef *execFile, f *elf.File) {
	type span struct{ lo, hi uint64 }
	var spans []span
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 || s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL || s.Size == 0 {
			continue
		}
		if s.Offset+s.Size > uint64(ef.size) || s.Offset+s.Size < s.Offset {
			continue
		}
		spans = append(spans, span{s.Offset, s.Offset + s.Size})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.lo <= merged[n-1].hi+fillChunk {
			merged[n-1].hi = max(merged[n-1].hi, s.hi)
			continue
		}
		merged = append(merged, s)
	}
	for _, s := range merged {
		ef.ReadAt(make([]byte, s.hi-s.lo), int64(s.lo))
	}
}

// ExeImage returns what the trace holds of the executable of a process
// whose executable was demand-paged, as a file image of its size: its
// headers and the sections not loaded in memory (symbols, debug
// information), the rest zero; nil if the executable was read whole (the
// trace's HostReadFile holds it) or is not mapped any more.
func (p *Process) ExeImage() []byte {
	if p.vm == nil {
		return nil
	}
	for _, r := range p.vm.regions {
		if r.back == nil || r.back.exe == nil || r.Path != p.exe {
			continue
		}
		src := r.back.exe
		img := make([]byte, src.size)
		for pg, b := range src.pages {
			copy(img[pg*machine.PageSize:], b)
		}
		return img
	}
	return nil
}

// phoff reads e_phoff from an ELF64 header.
func phoff(data []byte) uint64 { return le64(data[32:40]) }

func elfProt(f elf.ProgFlag) machine.Prot {
	var p machine.Prot
	if f&elf.PF_R != 0 {
		p |= machine.ProtRead
	}
	if f&elf.PF_W != 0 {
		p |= machine.ProtWrite
	}
	if f&elf.PF_X != 0 {
		p |= machine.ProtExec
	}
	return p
}

// fileIdentity returns the inode and device of a host file for the vm map.
func (k *Kernel) fileIdentity(p string) (int64, uint32) {
	r := k.host.Call(&HostCall{Op: HostStat, Path: p, Args: []int64{1}})
	if r.Errno != 0 || len(r.Out) < 16 {
		return -1, ^uint32(0)
	}
	return int64(le64(r.Out[8:16])), uint32(le64(r.Out[0:8]))
}

// resolveExec applies the shebang rule: a script names its interpreter.
// The caller closes the returned file.
func (k *Kernel) resolveExec(p string, argv []string) (string, []string, *execFile, error) {
	for depth := 0; ; depth++ {
		ef, err := k.loadFile(p, wholeReadMax)
		if err != nil {
			return "", nil, nil, err
		}
		head := ef.head(machine.PageSize)
		if !bytes.HasPrefix(head, []byte("#!")) {
			return p, argv, ef, nil
		}
		if ef.whole {
			head = ef.data
		}
		ef.close(k)
		if depth >= 4 {
			return "", nil, nil, &ExecError{Path: p, Errno: abi.ELOOP, Reason: "too many levels of interpreters"}
		}
		line := head[2:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return "", nil, nil, &ExecError{Path: p, Errno: abi.ENOEXEC, Reason: "script without an interpreter"}
		}
		interp := fields[0]
		nargv := []string{interp}
		if len(fields) > 1 {
			nargv = append(nargv, strings.Join(fields[1:], " "))
		}
		nargv = append(nargv, p)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		p, argv = interp, nargv
	}
}

// execImage replaces p's image with the program at path: FreeBSD's
// kern_execve / Linux's execve, for the calling thread t. Other threads of
// the process are gone after a successful exec.
func (k *Kernel) execImage(t *Thread, progPath string, argv, envp []string) error {
	resolved, argv, ef, err := k.resolveExec(progPath, argv)
	if err != nil {
		return err
	}
	img, err := k.loadImageFile(resolved, ef)
	ef.close(k)
	if err != nil {
		k.mmapSweep() // the backings of a half-loaded image
		return err
	}
	p := t.p
	// Point of no return.
	for _, o := range p.threads {
		if o != t && !o.exited {
			k.threadGone(o)
		}
	}
	p.threads = []*Thread{t}
	p.mem = img.mem
	p.vm = img.vm
	k.mmapSweep() // the old image's file mappings
	p.exe = resolved
	p.brk, p.brkMin = img.brk, img.brk
	p.comm = truncComm(path.Base(resolved))
	t.name = p.comm
	if p.files == nil {
		p.files = newFDTable()
	}
	p.files.closeOnExec(k)
	p.resetSignalsOnExec()
	t.altstack = stackT{flags: abi.SS_DISABLE}
	t.clearChildTid, t.robustList = 0, 0
	cpu := machine.NewCPU(p.mem)
	cpu.Icount = t.cpu.Icount
	t.cpu = cpu
	sp, err := k.buildStack(p, img, progPath, argv, envp)
	if err != nil {
		return err
	}
	cpu.Regs[machine.RSP] = sp
	cpu.RIP = img.entry
	p.flag |= P_EXEC
	if p.vforkParent != nil {
		k.releaseVforkParent(p)
	}
	if p.stops&S_EXEC != 0 {
		k.stopevent(p, S_EXEC, 0)
	}
	return nil
}

// exeLink is the target of /proc/PID/exe: the executable with every
// symlink resolved, as Linux shows it (the path of the file itself, not of
// the name it was run by). ld.so derives $ORIGIN from /proc/self/exe:
// /usr/bin/java, a chain of symlinks, finds its libjli.so relative to the
// real file. Resolved when read, so programs that never look pay nothing.
func (k *Kernel) exeLink(p *Process) string { return k.canonicalPath(p.exe, p.cwd) }

// canonicalPath returns p absolute with every symlink resolved. Each
// readlink goes through the Host, so replay sees the same answers.
func (k *Kernel) canonicalPath(p, cwd string) string {
	if !path.IsAbs(p) {
		p = path.Join(cwd, p)
	}
	todo := strings.Split(p, "/")
	resolved := "/"
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, c)
		r := k.host.Call(&HostCall{Op: HostReadlink, Path: next})
		if r.Errno != 0 || len(r.Out) == 0 {
			resolved = next // not a symlink (EINVAL) or unreadable
			continue
		}
		if hops++; hops > 40 {
			return path.Clean(p) // ELOOP: the exec itself succeeded, keep the name
		}
		target := string(r.Out)
		if path.IsAbs(target) {
			resolved = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return resolved
}

func truncComm(s string) string {
	if len(s) > 15 {
		return s[:15]
	}
	return s
}

// buildStack lays out argv, envp and auxv as Linux's create_elf_tables does
// and returns the initial stack pointer.
func (k *Kernel) buildStack(p *Process, img *image, execfn string, argv, envp []string) (uint64, error) {
	total := 0
	for _, s := range argv {
		total += len(s) + 1
	}
	for _, s := range envp {
		total += len(s) + 1
	}
	if total > maxArgStrings {
		return 0, &ExecError{Path: execfn, Errno: abi.E2BIG}
	}
	mem := img.mem
	mem.Map(stackTop-stackSize, stackSize, machine.ProtRead|machine.ProtWrite)
	img.vm.insert(Region{Start: stackTop - stackSize, End: stackTop, Prot: machine.ProtRead | machine.ProtWrite, Name: "[stack]", FileID: -1})

	sp := uint64(stackTop)
	var werr error
	put := func(b []byte) uint64 {
		sp -= uint64(len(b))
		if err := mem.Write(sp, b); err != nil && werr == nil {
			werr = err
		}
		return sp
	}
	putStr := func(s string) uint64 { return put(append([]byte(s), 0)) }

	sp -= 8 // end marker
	execfnAddr := putStr(execfn)
	envAddrs := make([]uint64, len(envp))
	for i := len(envp) - 1; i >= 0; i-- {
		envAddrs[i] = putStr(envp[i])
	}
	argAddrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		argAddrs[i] = putStr(argv[i])
	}
	platform := putStr("x86_64")
	rnd := k.host.Call(&HostCall{Op: HostRandom, Args: []int64{16}})
	var random [16]byte
	copy(random[:], rnd.Out)
	randomAddr := put(random[:])
	sp &^= 15

	cred := p.cred
	auxv := [][2]uint64{
		{abi.AT_SYSINFO_EHDR, 0},
		{abi.AT_HWCAP, uint64(machine.HWCAP())},
		{abi.AT_PAGESZ, machine.PageSize},
		{abi.AT_CLKTCK, 100},
		{abi.AT_PHDR, img.phdr},
		{abi.AT_PHENT, img.phent},
		{abi.AT_PHNUM, img.phnum},
		{abi.AT_BASE, img.interpLo},
		{abi.AT_FLAGS, 0},
		{abi.AT_ENTRY, img.progEnt},
		{abi.AT_UID, uint64(cred.Ruid)},
		{abi.AT_EUID, uint64(cred.Euid)},
		{abi.AT_GID, uint64(cred.Rgid)},
		{abi.AT_EGID, uint64(cred.Egid)},
		{abi.AT_SECURE, 0},
		{abi.AT_RANDOM, randomAddr},
		{abi.AT_HWCAP2, 0},
		{abi.AT_EXECFN, execfnAddr},
		{abi.AT_PLATFORM, platform},
		{abi.AT_NULL, 0},
	}
	auxv = auxv[1:] // no vDSO: AT_SYSINFO_EHDR is left out
	n := 1 + len(argv) + 1 + len(envp) + 1 + 2*len(auxv)
	sp -= uint64(8 * n)
	sp &^= 15
	words := make([]byte, 0, 8*n)
	w := func(v uint64) { words = appendU64(words, v) }
	w(uint64(len(argv)))
	for _, a := range argAddrs {
		w(a)
	}
	w(0)
	for _, a := range envAddrs {
		w(a)
	}
	w(0)
	for _, av := range auxv {
		w(av[0])
		w(av[1])
	}
	if err := mem.Write(sp, words); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return 0, &ExecError{Path: execfn, Errno: abi.E2BIG, Reason: "arguments do not fit the stack"}
	}
	mem.CollectDelta(0, func(uint64, []byte) {})
	return sp, nil
}
