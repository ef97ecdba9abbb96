package kernel

import "ptrec/kernel/abi"

const pipeCapacity = 65536

// pipe is an in-kernel pipe (or one direction of a socketpair).
type pipe struct {
	id      int64
	buf     []byte
	readers int
	writers int
	rq, wq  waitQueue // readers waiting for data, writers waiting for room
	seq     uint64    // readiness events, for edge-triggered epoll
	msgs    []int     // message lengths (packet sockets only)
}

// pipeEnd is one end of a pipe.
type pipeEnd struct {
	pipe     *pipe
	writeEnd bool
}

func (k *Kernel) newPipe() (*pipeEnd, *pipeEnd) {
	k.pipeSeq++
	p := &pipe{id: k.pipeSeq, readers: 1, writers: 1}
	return &pipeEnd{pipe: p}, &pipeEnd{pipe: p, writeEnd: true}
}

func (e *pipeEnd) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	if pread {
		return 0, abi.ESPIPE
	}
	if e.writeEnd {
		return 0, abi.EBADF
	}
	p := e.pipe
	if len(p.buf) == 0 {
		if p.writers == 0 || len(b) == 0 {
			return 0, nil
		}
		if f.flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &p.rq, 0)
		return 0, errBlock
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	p.seq++
	k.wakeAll(&p.wq)
	k.pollNotify()
	return n, nil
}

func (e *pipeEnd) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	if pwrite {
		return 0, abi.ESPIPE
	}
	if !e.writeEnd {
		return 0, abi.EBADF
	}
	p := e.pipe
	if p.readers == 0 {
		return 0, abi.EPIPE
	}
	room := pipeCapacity - len(p.buf)
	// Writes of up to PIPE_BUF bytes are atomic.
	if room == 0 || (len(b) <= 4096 && room < len(b)) {
		if f.flags&abi.O_NONBLOCK != 0 {
			return 0, abi.EAGAIN
		}
		if t.interrupted {
			return 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &p.wq, 0)
		return 0, errBlock
	}
	n := min(room, len(b))
	p.buf = append(p.buf, b[:n]...)
	p.seq++
	k.wakeAll(&p.rq)
	k.pollNotify()
	return n, nil
}

func (e *pipeEnd) stat(k *Kernel) ([]byte, error) {
	st := abi.Stat{Mode: abi.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096, Ino: uint64(e.pipe.id), Dev: 0xc}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, nil
}

func (e *pipeEnd) close(k *Kernel) {
	p := e.pipe
	if e.writeEnd {
		p.writers--
	} else {
		p.readers--
	}
	p.seq++
	k.wakeAll(&p.rq)
	k.wakeAll(&p.wq)
	k.pollNotify()
}

// readable and writable answer poll.
func (e *pipeEnd) pollEvents() uint32 {
	p := e.pipe
	var ev uint32
	if !e.writeEnd {
		if len(p.buf) > 0 {
			ev |= abi.POLLIN
		}
		if p.writers == 0 {
			ev |= abi.POLLHUP
		}
	} else {
		if p.readers == 0 {
			ev |= abi.POLLERR
		} else if len(p.buf) < pipeCapacity {
			ev |= abi.POLLOUT
		}
	}
	return ev
}

func (e *pipeEnd) pollSeq() uint64 { return e.pipe.seq }

func sysPipe(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	return k.doPipe(t, a[0], 0)
}

func sysPipe2(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	flags := uint32(a[1])
	if flags&^(abi.O_CLOEXEC|abi.O_NONBLOCK|abi.O_DIRECT) != 0 {
		return 0, abi.EINVAL
	}
	return k.doPipe(t, a[0], flags)
}

func (k *Kernel) doPipe(t *Thread, addr uint64, flags uint32) (uint64, error) {
	r, w := k.newPipe()
	fl := flags & abi.O_NONBLOCK
	rf := newFile(r, abi.O_RDONLY|fl, "")
	wf := newFile(w, abi.O_WRONLY|fl, "")
	cloexec := flags&abi.O_CLOEXEC != 0
	rfd := t.p.files.install(rf, 0, cloexec)
	wfd := t.p.files.install(wf, 0, cloexec)
	var b [8]byte
	putLE32(b[:], uint32(rfd))
	putLE32(b[4:], uint32(wfd))
	if err := t.writeMem(addr, b[:]); err != nil {
		t.p.files.closeFD(k, rfd)
		t.p.files.closeFD(k, wfd)
		return 0, err
	}
	return 0, nil
}

// pollNotify wakes every thread sleeping in poll/select/epoll: they re-check.
func (k *Kernel) pollNotify() {
	k.wakeAll(&k.pollWait)
}
