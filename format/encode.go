package format

import (
	"encoding/binary"
	"fmt"
)

// enc appends little-endian varint fields to a buffer.
type enc struct{ b []byte }

func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) svarint(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// strs encodes a string list as count+1 (0 for nil) and the strings.
func (e *enc) strs(ss []string) {
	if ss == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(ss)) + 1)
	for _, s := range ss {
		e.str(s)
	}
}

// Byte-field tags: 0 nil, 1 blob reference (uvarint blob id follows),
// n+2 n inline bytes follow.
const (
	bytesNil    = 0
	bytesBlob   = 1
	bytesInline = 2
)

// dec reads varint fields from a buffer. The first error sticks; later
// reads return zero values. Every length is checked against what is left
// before anything is allocated.
type dec struct {
	b   []byte
	off int
	err string
}

func (d *dec) fail(msg string) {
	if d.err == "" {
		d.err = msg
	}
}

func (d *dec) left() int { return len(d.b) - d.off }

func (d *dec) uvarint() uint64 {
	if d.err != "" {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *dec) svarint() int64 {
	if d.err != "" {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *dec) i32() int32 {
	v := d.svarint()
	if v != int64(int32(v)) {
		d.fail("int32 field out of range")
		return 0
	}
	return int32(v)
}

func (d *dec) u32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail("uint32 field out of range")
		return 0
	}
	return uint32(v)
}

func (d *dec) byte1() byte {
	if d.err != "" {
		return 0
	}
	if d.left() < 1 {
		d.fail("record too short")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

// raw returns the next n bytes (aliasing the buffer).
func (d *dec) raw(n uint64) []byte {
	if d.err != "" {
		return nil
	}
	if n > uint64(d.left()) {
		d.fail("length beyond end of record")
		return nil
	}
	p := d.b[d.off : d.off+int(n) : d.off+int(n)]
	d.off += int(n)
	return p
}

func (d *dec) str() string { return string(d.raw(d.uvarint())) }

// count reads a list length stored as count+1 (0 means nil). Each element
// takes at least one byte, so a count larger than what is left is corrupt.
func (d *dec) count() (n int, isNil bool) {
	v := d.uvarint()
	if v == 0 {
		return 0, true
	}
	if v-1 > uint64(d.left()) {
		d.fail("list length beyond end of record")
		return 0, true
	}
	return int(v - 1), false
}

func (d *dec) strs() []string {
	n, isNil := d.count()
	if isNil {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

func encodeHeader(h *Header) []byte {
	var e enc
	e.str(h.Program)
	e.str(h.Path)
	e.strs(h.Argv)
	e.strs(h.Envp)
	e.str(h.Cwd)
	e.str(h.Stops)
	if h.Facts == nil {
		e.uvarint(0)
	} else {
		e.uvarint(uint64(len(h.Facts)) + 1)
		for _, f := range h.Facts {
			e.str(f.Key)
			e.str(f.Value)
		}
	}
	return e.b
}

// decodeHeader parses a header record. Bytes after the known fields are
// ignored (a later minor version may append fields).
func decodeHeader(b []byte, h *Header) string {
	d := dec{b: b}
	h.Program = d.str()
	h.Path = d.str()
	h.Argv = d.strs()
	h.Envp = d.strs()
	h.Cwd = d.str()
	h.Stops = d.str()
	n, isNil := d.count()
	if !isNil {
		h.Facts = make([]Fact, n)
		for i := range h.Facts {
			h.Facts[i].Key = d.str()
			h.Facts[i].Value = d.str()
		}
	}
	return d.err
}

// chunkState is what event encoding within one chunk depends on; it starts
// at zero in every chunk so chunks decode independently.
type chunkState struct {
	icount uint64 // icount of the previous event
	regs   Regs   // registers of the previous Stop
}

// blobber stores a large payload and returns its blob id.
type blobber func(p []byte) (uint64, error)

type eventEncoder struct {
	e         enc
	st        chunkState
	blob      blobber
	threshold int // Input/Request byte fields this long or longer become blobs (0: never)
	memThresh int // memory ranges this long or longer become blobs (0: never)
	err       error
}

func (x *eventEncoder) bytes(p []byte, threshold int) {
	switch {
	case p == nil:
		x.e.uvarint(bytesNil)
	case threshold > 0 && len(p) >= threshold && x.blob != nil:
		id, err := x.blob(p)
		if err != nil && x.err == nil {
			x.err = err
		}
		x.e.uvarint(bytesBlob)
		x.e.uvarint(id)
	default:
		x.e.uvarint(uint64(len(p)) + bytesInline)
		x.e.b = append(x.e.b, p...)
	}
}

func checkEvent(ev *Event) error {
	set := 0
	for _, p := range []bool{ev.Request != nil, ev.Stop != nil, ev.Mem != nil, ev.Input != nil, ev.Exit != nil} {
		if p {
			set++
		}
	}
	var ok bool
	switch ev.Kind {
	case KindRequest:
		ok = ev.Request != nil
	case KindStop:
		ok = ev.Stop != nil
	case KindMemDelta:
		ok = ev.Mem != nil
	case KindInput:
		ok = ev.Input != nil
	case KindExit:
		ok = ev.Exit != nil
	default:
		return fmt.Errorf("format: cannot write event of kind %v", ev.Kind)
	}
	if !ok || set != 1 {
		return fmt.Errorf("format: %v event must have exactly its own payload set", ev.Kind)
	}
	return nil
}

// encode appends ev's record (length prefix and body) to x.e.b.
func (x *eventEncoder) encode(ev *Event) {
	start := len(x.e.b)
	x.e.b = append(x.e.b, make([]byte, binary.MaxVarintLen64)...) // room for the length
	body := len(x.e.b)
	x.e.b = append(x.e.b, byte(ev.Kind))
	x.e.svarint(int64(ev.Icount - x.st.icount))
	x.st.icount = ev.Icount
	x.e.svarint(int64(ev.Pid))
	x.e.svarint(int64(ev.Tid))
	switch ev.Kind {
	case KindRequest:
		r := ev.Request
		x.e.svarint(int64(r.Op))
		x.e.svarint(int64(r.Pid))
		x.e.uvarint(r.Addr)
		x.e.svarint(r.Data)
		x.e.svarint(r.Result)
		x.e.svarint(int64(r.Errno))
		x.bytes(r.In, x.threshold)
		x.bytes(r.Out, x.threshold)
	case KindStop:
		s := ev.Stop
		x.e.svarint(int64(s.Status))
		x.e.svarint(int64(s.Event))
		x.e.svarint(int64(s.Flags))
		x.e.svarint(int64(s.Signo))
		x.e.svarint(int64(s.Code))
		x.e.uvarint(s.SigAddr)
		x.e.svarint(int64(s.ChildPid))
		x.e.uvarint(uint64(s.SyscallCode))
		x.e.uvarint(uint64(s.SyscallNarg))
		var mask uint64
		for i := range s.Regs {
			if s.Regs[i] != x.st.regs[i] {
				mask |= 1 << i
			}
		}
		x.e.uvarint(mask)
		for i := range s.Regs {
			if mask&(1<<i) != 0 {
				x.e.uvarint(s.Regs[i])
			}
		}
		x.st.regs = s.Regs
	case KindMemDelta:
		m := ev.Mem
		if m.Ranges == nil {
			x.e.uvarint(0)
		} else {
			x.e.uvarint(uint64(len(m.Ranges)) + 1)
			for _, r := range m.Ranges {
				x.e.uvarint(r.Addr)
				x.bytes(r.Data, x.memThresh)
			}
		}
	case KindInput:
		in := ev.Input
		x.e.uvarint(uint64(in.Op))
		x.e.str(in.Path)
		x.e.svarint(in.Handle)
		if in.Args == nil {
			x.e.uvarint(0)
		} else {
			x.e.uvarint(uint64(len(in.Args)) + 1)
			for _, a := range in.Args {
				x.e.svarint(a)
			}
		}
		x.bytes(in.In, x.threshold)
		x.e.svarint(in.Ret)
		x.e.svarint(int64(in.Errno))
		x.bytes(in.Out, x.threshold)
	case KindExit:
		x.e.svarint(int64(ev.Exit.Status))
		x.e.str(ev.Exit.Reason)
	}
	// Move the body down to sit right after its actual length prefix.
	n := len(x.e.b) - body
	var lb [binary.MaxVarintLen64]byte
	ln := binary.PutUvarint(lb[:], uint64(n))
	copy(x.e.b[start:], lb[:ln])
	copy(x.e.b[start+ln:], x.e.b[body:])
	x.e.b = x.e.b[:start+ln+n]
}

// blobResolver returns the content of blob id (a fresh slice the caller
// may keep).
type blobResolver func(id uint64) ([]byte, error)

type eventDecoder struct {
	st      chunkState
	resolve blobResolver // nil: leave blob fields nil (skipping)
	blobErr error
}

func (x *eventDecoder) bytes(d *dec) []byte {
	tag := d.uvarint()
	switch tag {
	case bytesNil:
		return nil
	case bytesBlob:
		id := d.uvarint()
		if d.err != "" || x.resolve == nil {
			return nil
		}
		p, err := x.resolve(id)
		if err != nil && x.blobErr == nil {
			x.blobErr = err
		}
		return p
	}
	p := d.raw(tag - bytesInline)
	if p == nil {
		return nil
	}
	return p
}

// decode parses one record body (without its length prefix) into ev.
// Fields past the known ones are ignored; an unknown kind gives an event
// with only the common fields set.
func (x *eventDecoder) decode(body []byte, ev *Event) string {
	d := dec{b: body}
	ev.Kind = Kind(d.byte1())
	ev.Icount = x.st.icount + uint64(d.svarint())
	x.st.icount = ev.Icount
	ev.Pid = d.i32()
	ev.Tid = d.i32()
	switch ev.Kind {
	case KindInvalid:
		d.fail("event of kind 0")
	case KindRequest:
		r := &Request{}
		r.Op = d.i32()
		r.Pid = d.i32()
		r.Addr = d.uvarint()
		r.Data = d.svarint()
		r.Result = d.svarint()
		r.Errno = d.i32()
		r.In = x.bytes(&d)
		r.Out = x.bytes(&d)
		ev.Request = r
	case KindStop:
		s := &Stop{}
		s.Status = d.i32()
		s.Event = d.i32()
		s.Flags = d.i32()
		s.Signo = d.i32()
		s.Code = d.i32()
		s.SigAddr = d.uvarint()
		s.ChildPid = d.i32()
		s.SyscallCode = d.u32()
		s.SyscallNarg = d.u32()
		mask := d.uvarint()
		if mask>>NumRegs != 0 {
			d.fail("bad register mask")
		}
		s.Regs = x.st.regs
		for i := range s.Regs {
			if mask&(1<<i) != 0 {
				s.Regs[i] = d.uvarint()
			}
		}
		x.st.regs = s.Regs
		ev.Stop = s
	case KindMemDelta:
		m := &MemDelta{}
		n, isNil := d.count()
		if !isNil {
			m.Ranges = make([]MemRange, n)
			for i := range m.Ranges {
				m.Ranges[i].Addr = d.uvarint()
				m.Ranges[i].Data = x.bytes(&d)
			}
		}
		ev.Mem = m
	case KindInput:
		in := &Input{}
		op := d.uvarint()
		if op > 0xffff {
			d.fail("input op out of range")
		}
		in.Op = uint16(op)
		in.Path = d.str()
		in.Handle = d.svarint()
		n, isNil := d.count()
		if !isNil {
			in.Args = make([]int64, n)
			for i := range in.Args {
				in.Args[i] = d.svarint()
			}
		}
		in.In = x.bytes(&d)
		in.Ret = d.svarint()
		in.Errno = d.i32()
		in.Out = x.bytes(&d)
		ev.Input = in
	case KindExit:
		ev.Exit = &Exit{Status: d.i32(), Reason: d.str()}
	}
	return d.err
}
