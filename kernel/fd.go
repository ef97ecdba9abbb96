package kernel

import "ptrec/kernel/abi"

// File is an open file description (Linux struct file): shared between
// descriptors after dup and fork.
type File struct {
	ops    fileOps
	flags  uint32 // O_* status flags (O_APPEND, O_NONBLOCK, access mode)
	offset int64
	path   string // the path it was opened by (for /proc/self/fd and maps)
	refs   int
}

// fileOps is what each kind of file implements. Handlers that cannot finish
// now return errBlock after putting the thread on a wait queue.
type fileOps interface {
	read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error)
	write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error)
	stat(k *Kernel) ([]byte, error) // linux struct stat bytes
	close(k *Kernel)
}

// fdEntry is one descriptor slot.
type fdEntry struct {
	file    *File
	cloexec bool
}

// FDTable is a process's descriptor table.
type FDTable struct {
	fds  []fdEntry
	refs int
}

func newFDTable() *FDTable { return &FDTable{refs: 1} }

// get returns the file at fd.
func (ft *FDTable) get(fd int) (*File, error) {
	if fd < 0 || fd >= len(ft.fds) || ft.fds[fd].file == nil {
		return nil, abi.EBADF
	}
	return ft.fds[fd].file, nil
}

// install puts f at the lowest free descriptor >= min.
func (ft *FDTable) install(f *File, min int, cloexec bool) int {
	for fd := min; ; fd++ {
		if fd >= len(ft.fds) {
			ft.fds = append(ft.fds, make([]fdEntry, fd-len(ft.fds)+1)...)
		}
		if ft.fds[fd].file == nil {
			ft.fds[fd] = fdEntry{file: f, cloexec: cloexec}
			f.refs++
			return fd
		}
	}
}

// installAt puts f at fd, closing what was there.
func (ft *FDTable) installAt(k *Kernel, f *File, fd int, cloexec bool) {
	if fd >= len(ft.fds) {
		ft.fds = append(ft.fds, make([]fdEntry, fd-len(ft.fds)+1)...)
	}
	old := ft.fds[fd].file
	ft.fds[fd] = fdEntry{file: f, cloexec: cloexec}
	f.refs++
	if old != nil {
		old.release(k)
	}
}

// closeFD closes one descriptor.
func (ft *FDTable) closeFD(k *Kernel, fd int) error {
	f, err := ft.get(fd)
	if err != nil {
		return err
	}
	ft.fds[fd] = fdEntry{}
	f.release(k)
	return nil
}

// closeAll closes every descriptor (exit).
func (ft *FDTable) closeAll(k *Kernel) {
	for fd := range ft.fds {
		if ft.fds[fd].file != nil {
			f := ft.fds[fd].file
			ft.fds[fd] = fdEntry{}
			f.release(k)
		}
	}
}

// closeOnExec closes the descriptors marked FD_CLOEXEC.
func (ft *FDTable) closeOnExec(k *Kernel) {
	for fd := range ft.fds {
		if ft.fds[fd].file != nil && ft.fds[fd].cloexec {
			f := ft.fds[fd].file
			ft.fds[fd] = fdEntry{}
			f.release(k)
		}
	}
}

// clone copies the table (fork without CLONE_FILES).
func (ft *FDTable) clone() *FDTable {
	n := &FDTable{fds: make([]fdEntry, len(ft.fds)), refs: 1}
	copy(n.fds, ft.fds)
	for _, e := range n.fds {
		if e.file != nil {
			e.file.refs++
		}
	}
	return n
}

func (f *File) release(k *Kernel) {
	f.refs--
	if f.refs == 0 {
		f.ops.close(k)
	}
}

func newFile(ops fileOps, flags uint32, path string) *File {
	return &File{ops: ops, flags: flags, path: path}
}
