package kernel

import "ptrec/kernel/abi"

// hostFile is a file of the host, reached through Host calls only.
type hostFile struct {
	handle    int64
	isDir     bool
	dirents   []Dirent // directory listing, fetched on the first getdents
	dirLoaded bool
	dirPos    int
	closed    bool
	std       bool // one of the host's standard streams: never closed on the host
	seekable  bool // a regular file: reads and writes go to explicit offsets
}

func (h *hostFile) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	if h.isDir {
		return 0, abi.EISDIR
	}
	var r HostReply
	if pread && !h.seekable {
		return 0, abi.ESPIPE
	}
	if h.seekable {
		r = k.host.Call(&HostCall{Op: HostPread, Handle: h.handle, Args: []int64{int64(len(b)), off}})
	} else {
		r = k.host.Call(&HostCall{Op: HostRead, Handle: h.handle, Args: []int64{int64(len(b))}})
	}
	if r.Errno != 0 {
		return 0, r.Errno
	}
	n := copy(b, r.Out)
	return n, nil
}

func (h *hostFile) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	if h.isDir {
		return 0, abi.EISDIR
	}
	var r HostReply
	if pwrite && !h.seekable {
		return 0, abi.ESPIPE
	}
	if h.seekable && (pwrite || f.flags&abi.O_APPEND == 0) {
		r = k.host.Call(&HostCall{Op: HostPwrite, Handle: h.handle, Args: []int64{off}, In: b})
	} else {
		r = k.host.Call(&HostCall{Op: HostWrite, Handle: h.handle, In: b})
	}
	if r.Errno != 0 {
		return 0, r.Errno
	}
	return int(r.Ret), nil
}

func (h *hostFile) stat(k *Kernel) ([]byte, error) {
	r := k.host.Call(&HostCall{Op: HostFstat, Handle: h.handle})
	if r.Errno != 0 {
		return nil, r.Errno
	}
	return r.Out, nil
}

func (h *hostFile) close(k *Kernel) {
	if h.closed {
		return
	}
	h.closed = true
	k.host.Call(&HostCall{Op: HostClose, Handle: h.handle})
}
