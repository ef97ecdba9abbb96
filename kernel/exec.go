package kernel

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"path"
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

// loadFile reads a whole executable through the Host.
func (k *Kernel) loadFile(p string) ([]byte, error) {
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
	r := k.host.Call(&HostCall{Op: HostReadFile, Path: p})
	if r.Errno != 0 {
		return nil, &ExecError{Path: p, Errno: r.Errno}
	}
	return r.Out, nil
}

// statMode extracts st_mode from a linux struct stat.
func statMode(st []byte) uint32 {
	if len(st) < 28 {
		return 0
	}
	return uint32(st[24]) | uint32(st[25])<<8 | uint32(st[26])<<16 | uint32(st[27])<<24
}

// loadImage parses an ELF executable (and its interpreter) into a new
// address space. It never panics on malformed input.
func (k *Kernel) loadImage(p string, data []byte) (img *image, err error) {
	defer func() {
		// debug/elf has panicked on hostile input in the past; a malformed
		// file is a guest error, never a crash of ptrec.
		if r := recover(); r != nil {
			img, err = nil, &ExecError{Path: p, Errno: abi.ENOEXEC, Reason: fmt.Sprintf("malformed ELF (%v)", r)}
		}
	}()
	img = &image{mem: machine.NewMemory(), vm: newVMMap()}
	base, ehdr, err := k.mapELF(img, p, data, false)
	if err != nil {
		return nil, err
	}
	img.progEnt = base + ehdr.entry
	img.entry = img.progEnt
	img.phent = 56
	img.phnum = ehdr.phnum
	img.phdr = base + ehdr.phdrAddr
	if ehdr.interp != "" {
		idata, err := k.loadFile(ehdr.interp)
		if err != nil {
			return nil, &ExecError{Path: p, Errno: abi.ENOENT, Reason: fmt.Sprintf("interpreter %s: %v", ehdr.interp, err)}
		}
		ibase, ih, err := k.mapELF(img, ehdr.interp, idata, true)
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

// mapELF maps the PT_LOAD segments of one ELF file into img.
func (k *Kernel) mapELF(img *image, p string, data []byte, isInterp bool) (uint64, elfInfo, error) {
	bad := func(reason string) error { return &ExecError{Path: p, Errno: abi.ENOEXEC, Reason: reason} }
	if len(data) < 64 || !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return 0, elfInfo{}, bad("not an ELF executable")
	}
	f, err := elf.NewFile(bytes.NewReader(data))
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
	var info elfInfo
	info.entry = f.Entry
	info.phnum = uint64(len(f.Progs))
	hasPhdr := false
	var lo, hi uint64 = ^uint64(0), 0
	for _, ph := range f.Progs {
		switch ph.Type {
		case elf.PT_LOAD:
			if ph.Memsz < ph.Filesz || ph.Off+ph.Filesz > uint64(len(data)) || ph.Off+ph.Filesz < ph.Off {
				return 0, info, bad("PT_LOAD segment outside the file")
			}
			lo = min(lo, pageDown(ph.Vaddr))
			hi = max(hi, pageUp(ph.Vaddr+ph.Memsz))
		case elf.PT_INTERP:
			if isInterp {
				return 0, info, bad("interpreter has its own PT_INTERP")
			}
			if ph.Off+ph.Filesz > uint64(len(data)) || ph.Filesz > 4096 {
				return 0, info, bad("bad PT_INTERP")
			}
			info.interp = strings.TrimRight(string(data[ph.Off:ph.Off+ph.Filesz]), "\x00")
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
	for _, ph := range f.Progs {
		if ph.Type != elf.PT_LOAD || ph.Memsz == 0 {
			continue
		}
		start := pageDown(ph.Vaddr + base)
		end := pageUp(ph.Vaddr + base + ph.Memsz)
		prot := elfProt(ph.Flags)
		img.mem.Map(start, end-start, prot)
		if _, err := img.mem.WriteForce(ph.Vaddr+base, data[ph.Off:ph.Off+ph.Filesz]); err != nil {
			return 0, info, bad("cannot load segment: " + err.Error())
		}
		fileEnd := pageUp(ph.Vaddr + base + ph.Filesz)
		img.vm.insert(Region{Start: start, End: min(fileEnd, end), Prot: prot, Path: p, Offset: pageDown(ph.Off), FileID: fileID, FsID: fsID})
		if fileEnd < end {
			img.vm.insert(Region{Start: fileEnd, End: end, Prot: prot, FileID: -1})
		}
		if !isInterp && end > img.brk {
			img.brk = end
		}
		if off := phoff(data); !hasPhdr && ph.Off <= off && off < ph.Off+ph.Filesz {
			info.phdrAddr = ph.Vaddr + (off - ph.Off)
		}
	}
	// The image was written with WriteForce; that is not a guest change.
	img.mem.CollectDelta(0, func(uint64, []byte) {})
	return base, info, nil
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
func (k *Kernel) resolveExec(p string, argv []string) (string, []string, []byte, error) {
	for depth := 0; ; depth++ {
		data, err := k.loadFile(p)
		if err != nil {
			return "", nil, nil, err
		}
		if !bytes.HasPrefix(data, []byte("#!")) {
			return p, argv, data, nil
		}
		if depth >= 4 {
			return "", nil, nil, &ExecError{Path: p, Errno: abi.ELOOP, Reason: "too many levels of interpreters"}
		}
		line := data[2:]
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
	resolved, argv, data, err := k.resolveExec(progPath, argv)
	if err != nil {
		return err
	}
	img, err := k.loadImage(resolved, data)
	if err != nil {
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

// errExecNotFound tells Spawn's caller the program does not exist.
var errExecNotFound = errors.New("not found")
