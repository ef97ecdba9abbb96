package kernel

import "ptrec/kernel/abi"

// AF_UNIX socket pairs (socketpair(2)): two in-kernel pipes, one per
// direction. SOCK_STREAM is a byte stream; SOCK_DGRAM and SOCK_SEQPACKET
// keep message boundaries. There is no bind/connect to the filesystem.

// Socket constants (include/linux/socket.h, net.h).
const (
	afUnix        = 1
	sockStream    = 1
	sockDgram     = 2
	sockSeqpacket = 5
	sockNonblock  = abi.O_NONBLOCK
	sockCloexec   = abi.O_CLOEXEC

	msgPeek     = 0x2
	msgTrunc    = 0x20
	msgDontwait = 0x40
	msgWaitall  = 0x100
	msgNosignal = 0x4000

	shutRd   = 0
	shutWr   = 1
	shutRdwr = 2

	solSocket   = 1
	soType      = 3
	soError     = 4
	soSndbuf    = 7
	soRcvbuf    = 8
	soPeercred  = 17
	soAcceptcon = 30
	soDomain    = 39
	soProtocol  = 38
)

// unixSocket is one end of a socket pair.
type unixSocket struct {
	rx, tx  *pipe
	typ     int
	rdShut  bool  // SHUT_RD: reads return 0
	wrShut  bool  // SHUT_WR: writes fail with EPIPE
	peerPid int32 // SO_PEERCRED: the creator of the pair
	closed  bool
}

func (s *unixSocket) packets() bool { return s.typ != sockStream }

func (s *unixSocket) read(k *Kernel, t *Thread, f *File, b []byte, off int64, pread bool) (int, error) {
	if pread {
		return 0, abi.ESPIPE
	}
	n, _, err := s.recv(k, t, f, b, 0)
	return n, err
}

// recv takes data (one message for packet sockets) and returns the bytes
// copied and the full length of the message.
func (s *unixSocket) recv(k *Kernel, t *Thread, f *File, b []byte, flags int) (int, int, error) {
	p := s.rx
	if len(p.buf) == 0 {
		if p.writers == 0 || s.rdShut {
			return 0, 0, nil
		}
		if len(b) == 0 && !s.packets() {
			return 0, 0, nil
		}
		if f.flags&abi.O_NONBLOCK != 0 || flags&msgDontwait != 0 {
			return 0, 0, abi.EAGAIN
		}
		if t.interrupted {
			return 0, 0, abi.ERESTARTSYS
		}
		k.sleepOn(t, &p.rq, 0)
		return 0, 0, errBlock
	}
	avail := len(p.buf)
	if s.packets() && len(p.msgs) > 0 {
		avail = p.msgs[0]
	}
	n := copy(b, p.buf[:avail])
	if flags&msgPeek != 0 {
		return n, avail, nil
	}
	consumed := n
	if s.packets() {
		consumed = avail
		p.msgs = p.msgs[1:]
	}
	p.buf = p.buf[consumed:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	p.seq++
	k.wakeAll(&p.wq)
	k.pollNotify()
	return n, avail, nil
}

func (s *unixSocket) write(k *Kernel, t *Thread, f *File, b []byte, off int64, pwrite bool) (int, error) {
	if pwrite {
		return 0, abi.ESPIPE
	}
	return s.send(k, t, f, b, 0)
}

func (s *unixSocket) send(k *Kernel, t *Thread, f *File, b []byte, flags int) (int, error) {
	p := s.tx
	if s.wrShut || p.readers == 0 {
		if flags&msgNosignal == 0 {
			k.postSignal(t.p, t, Siginfo{Signo: int32(abi.SIGPIPE), Code: abi.SI_USER, Pid: t.p.Pid})
		}
		return 0, abi.EPIPE
	}
	room := pipeCapacity - len(p.buf)
	if s.packets() {
		if len(b) > pipeCapacity {
			return 0, abi.EMSGSIZE
		}
		if room < len(b) {
			return s.sendWait(k, t, f, flags)
		}
		p.buf = append(p.buf, b...)
		p.msgs = append(p.msgs, len(b))
	} else {
		if len(b) == 0 {
			return 0, nil
		}
		if room == 0 {
			return s.sendWait(k, t, f, flags)
		}
		n := min(room, len(b))
		p.buf = append(p.buf, b[:n]...)
		b = b[:n]
	}
	p.seq++
	k.wakeAll(&p.rq)
	k.pollNotify()
	return len(b), nil
}

func (s *unixSocket) sendWait(k *Kernel, t *Thread, f *File, flags int) (int, error) {
	if f.flags&abi.O_NONBLOCK != 0 || flags&msgDontwait != 0 {
		return 0, abi.EAGAIN
	}
	if t.interrupted {
		return 0, abi.ERESTARTSYS
	}
	k.sleepOn(t, &s.tx.wq, 0)
	return 0, errBlock
}

func (s *unixSocket) stat(k *Kernel) ([]byte, error) {
	st := abi.Stat{Mode: abi.S_IFSOCK | 0o777, Nlink: 1, Blksize: 4096, Ino: uint64(s.rx.id), Dev: 0x8}
	b := make([]byte, abi.StatSize)
	st.Marshal(b)
	return b, nil
}

func (s *unixSocket) close(k *Kernel) {
	if s.closed {
		return
	}
	s.closed = true
	if !s.rdShut {
		s.rx.readers--
	}
	if !s.wrShut {
		s.tx.writers--
	}
	for _, p := range []*pipe{s.rx, s.tx} {
		p.seq++
		k.wakeAll(&p.rq)
		k.wakeAll(&p.wq)
	}
	k.pollNotify()
}

// pollEvents follows unix_poll: a peer that is gone (or shut its writing
// side) makes the socket readable with RDHUP; both directions shut is HUP.
func (s *unixSocket) pollEvents() uint32 {
	var ev uint32
	rdDown := s.rx.writers <= 0 || s.rdShut
	wrDown := s.tx.readers <= 0 || s.wrShut
	if len(s.rx.buf) > 0 || rdDown {
		ev |= abi.POLLIN | abi.POLLRDNORM
	}
	if rdDown {
		ev |= abi.POLLRDHUP
	}
	if rdDown && wrDown {
		ev |= abi.POLLHUP
	}
	if !wrDown && len(s.tx.buf) < pipeCapacity {
		ev |= abi.POLLOUT | abi.POLLWRNORM
	}
	return ev
}

func (s *unixSocket) pollSeq() uint64 { return s.rx.seq + s.tx.seq }

func sysSocketpair(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	domain, typ, proto, sv := int(int32(a[0])), int(int32(a[1])), int(int32(a[2])), a[3]
	if domain != afUnix {
		return 0, abi.EAFNOSUPPORT
	}
	flags := uint32(typ) & (sockNonblock | sockCloexec)
	typ &^= int(sockNonblock | sockCloexec)
	if typ != sockStream && typ != sockDgram && typ != sockSeqpacket {
		return 0, abi.EINVAL
	}
	if proto != 0 && proto != afUnix {
		return 0, abi.EPROTONOSUPPORT
	}
	r1, _ := k.newPipe()
	r2, _ := k.newPipe()
	p1, p2 := r1.pipe, r2.pipe
	s1 := &unixSocket{rx: p1, tx: p2, typ: typ, peerPid: t.p.Pid}
	s2 := &unixSocket{rx: p2, tx: p1, typ: typ, peerPid: t.p.Pid}
	fl := abi.O_RDWR | flags&sockNonblock
	f1 := newFile(s1, fl, "")
	f2 := newFile(s2, fl, "")
	cloexec := flags&sockCloexec != 0
	fd1 := t.p.files.install(f1, 0, cloexec)
	fd2 := t.p.files.install(f2, 0, cloexec)
	var b [8]byte
	putLE32(b[:], uint32(fd1))
	putLE32(b[4:], uint32(fd2))
	if err := t.writeMem(sv, b[:]); err != nil {
		t.p.files.closeFD(k, fd1)
		t.p.files.closeFD(k, fd2)
		return 0, err
	}
	return 0, nil
}

// socketOf returns the socket at fd: EBADF for a bad descriptor, ENOTSOCK
// for any other kind of file.
func (t *Thread) socketOf(fd uint64) (*File, *unixSocket, error) {
	f, err := t.p.files.get(int(int32(fd)))
	if err != nil {
		return nil, nil, err
	}
	s, ok := f.ops.(*unixSocket)
	if !ok {
		return nil, nil, abi.ENOTSOCK
	}
	return f, s, nil
}

func sysShutdown(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	how := int(int32(a[1]))
	if how != shutRd && how != shutWr && how != shutRdwr {
		return 0, abi.EINVAL
	}
	// A shut direction is a closed pipe end: the peer reads end of file once
	// the data already sent is read, or gets EPIPE when it writes.
	if how != shutWr && !s.rdShut {
		s.rdShut = true
		s.rx.readers--
	}
	if how != shutRd && !s.wrShut {
		s.wrShut = true
		s.tx.writers--
	}
	for _, p := range []*pipe{s.rx, s.tx} {
		p.seq++
		k.wakeAll(&p.rq)
		k.wakeAll(&p.wq)
	}
	k.pollNotify()
	return 0, nil
}

// sockaddrUnnamed writes an unnamed AF_UNIX address (what a socketpair end
// reports) with the usual addrlen in/out protocol.
func (t *Thread) sockaddrUnnamed(addr, lenAddr uint64) error {
	if addr == 0 || lenAddr == 0 {
		return abi.EFAULT
	}
	n, err := t.readU32(lenAddr)
	if err != nil {
		return err
	}
	if int32(n) < 0 {
		return abi.EINVAL
	}
	sa := []byte{afUnix, 0}
	if err := t.writeMem(addr, sa[:min(int(n), 2)]); err != nil {
		return err
	}
	return t.writeU32(lenAddr, 2)
}

func sysGetsockname(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if _, _, err := t.socketOf(a[0]); err != nil {
		return 0, err
	}
	return 0, t.sockaddrUnnamed(a[1], a[2])
}

func sysGetpeername(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if s.tx.readers == 0 {
		return 0, abi.ENOTCONN
	}
	return 0, t.sockaddrUnnamed(a[1], a[2])
}

func sysGetsockopt(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	_, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	level, name, val, lenAddr := int(int32(a[1])), int(int32(a[2])), a[3], a[4]
	if level != solSocket {
		return 0, abi.ENOPROTOOPT
	}
	var out []byte
	switch name {
	case soType:
		out = le32b(uint32(s.typ))
	case soError, soAcceptcon:
		out = le32b(0)
	case soSndbuf, soRcvbuf:
		out = le32b(pipeCapacity)
	case soDomain:
		out = le32b(afUnix)
	case soProtocol:
		out = le32b(0)
	case soPeercred:
		out = make([]byte, 12)
		putLE32(out, uint32(s.peerPid))
		putLE32(out[4:], t.p.cred.Euid)
		putLE32(out[8:], t.p.cred.Egid)
	default:
		return 0, abi.ENOPROTOOPT
	}
	n, err := t.readU32(lenAddr)
	if err != nil {
		return 0, err
	}
	if int32(n) < 0 {
		return 0, abi.EINVAL
	}
	out = out[:min(int(n), len(out))]
	if err := t.writeMem(val, out); err != nil {
		return 0, err
	}
	return 0, t.writeU32(lenAddr, uint32(len(out)))
}

func le32b(v uint32) []byte {
	b := make([]byte, 4)
	putLE32(b, v)
	return b
}

func sysSetsockopt(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	if _, _, err := t.socketOf(a[0]); err != nil {
		return 0, err
	}
	if int(int32(a[1])) != solSocket {
		return 0, abi.ENOPROTOOPT
	}
	// Buffer sizes and the like are accepted; the pair's capacity is fixed.
	return 0, nil
}

func sysSendto(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	if a[4] != 0 {
		return 0, abi.EISCONN
	}
	b := make([]byte, min(a[2], maxIOChunk))
	if err := t.readMem(a[1], b); err != nil {
		return 0, err
	}
	n, err := s.send(k, t, f, b, int(int32(a[3])))
	return uint64(n), err
}

func sysRecvfrom(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	flags := int(int32(a[3]))
	b := make([]byte, min(a[2], maxIOChunk))
	n, full, err := s.recv(k, t, f, b, flags)
	if err != nil {
		return 0, err
	}
	if err := t.writeMem(a[1], b[:n]); err != nil {
		return 0, err
	}
	if a[4] != 0 && a[5] != 0 {
		if err := t.writeU32(a[5], 0); err != nil {
			return 0, err
		}
	}
	if flags&msgTrunc != 0 && s.packets() {
		return uint64(full), nil
	}
	return uint64(n), nil
}

// msghdr offsets (struct user_msghdr, 56 bytes).
const (
	msgName       = 0
	msgIov        = 16
	msgIovlen     = 24
	msgControl    = 32
	msgControllen = 40
	msgFlags      = 48
)

func sysSendmsg(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	var h [56]byte
	if err := t.readMem(a[1], h[:]); err != nil {
		return 0, err
	}
	if le64(h[msgName:]) != 0 {
		return 0, abi.EISCONN
	}
	if le64(h[msgControllen:]) != 0 {
		// SCM_RIGHTS and credentials are not carried.
		return 0, abi.EOPNOTSUPP
	}
	vs, err := t.iovecs(le64(h[msgIov:]), le64(h[msgIovlen:]))
	if err != nil {
		return 0, err
	}
	var all []byte
	for _, v := range vs {
		l := min(v[1], uint64(maxIOChunk-len(all)))
		b := make([]byte, l)
		if err := t.readMem(v[0], b); err != nil {
			return 0, err
		}
		all = append(all, b...)
	}
	n, err := s.send(k, t, f, all, int(int32(a[2])))
	return uint64(n), err
}

func sysRecvmsg(k *Kernel, t *Thread, a *SyscallArgs) (uint64, error) {
	f, s, err := t.socketOf(a[0])
	if err != nil {
		return 0, err
	}
	var h [56]byte
	if err := t.readMem(a[1], h[:]); err != nil {
		return 0, err
	}
	vs, err := t.iovecs(le64(h[msgIov:]), le64(h[msgIovlen:]))
	if err != nil {
		return 0, err
	}
	total := uint64(0)
	for _, v := range vs {
		total += v[1]
	}
	flags := int(int32(a[2]))
	b := make([]byte, min(total, maxIOChunk))
	n, full, err := s.recv(k, t, f, b, flags)
	if err != nil {
		return 0, err
	}
	rest := b[:n]
	for _, v := range vs {
		if len(rest) == 0 {
			break
		}
		c := min(uint64(len(rest)), v[1])
		if err := t.writeMem(v[0], rest[:c]); err != nil {
			return 0, err
		}
		rest = rest[c:]
	}
	var outFlags uint32
	if s.packets() && full > n {
		outFlags |= msgTrunc
	}
	putLE64(h[msgControllen:], 0)
	putLE32(h[msgFlags:], outFlags)
	if le64(h[msgName:]) != 0 {
		putLE32(h[8:], 0) // msg_namelen: unnamed peer
	}
	if err := t.writeMem(a[1], h[:]); err != nil {
		return 0, err
	}
	if flags&msgTrunc != 0 && s.packets() {
		return uint64(full), nil
	}
	return uint64(n), nil
}
