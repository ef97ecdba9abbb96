package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// enc appends little-endian varint fields to a buffer.
type enc struct{ b []byte }

func (e *enc) uvarint(v uint64) {
	if v < 0x80 {
		e.b = append(e.b, byte(v))
		return
	}
	e.b = binary.AppendUvarint(e.b, v)
}

func (e *enc) svarint(v int64) { e.uvarint(uint64(v<<1) ^ uint64(v>>63)) }
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
	if d.off < len(d.b) && d.b[d.off] < 0x80 { // one byte: most fields
		d.off++
		return uint64(d.b[d.off-1])
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
	if d.off < len(d.b) && d.b[d.off] < 0x80 { // one byte, zig-zag
		c := int64(d.b[d.off])
		d.off++
		return c>>1 ^ -(c & 1)
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

// i32delta reads an svarint difference from prev (an int32 result).
func (d *dec) i32delta(prev int32) int32 {
	v := d.svarint() + int64(prev)
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
	// 2.0: the previous Stop's other fields, and the previous Request in
	// each op slot (op mod reqSlots), which the next one is encoded against.
	stop stopFields
	reqs [reqSlots]reqFields
	ids  [kindSlots][2]int32 // Pid and Tid of the previous event of each kind but requests
	// 2.1: the previous Syscall record in each code slot, and the
	// previous record's icount.
	sys       [sysSlots]Syscall
	sysIcount uint64
}

// stopFields are the fields of a Stop other than its registers.
type stopFields struct {
	status, event, flags, signo, code, childPid int32
	sigAddr                                     uint64
	syscallCode, syscallNarg                    uint32
}

// reqFields are a Request's fields and its event's Pid and Tid, op first.
// out is the Request's Out if it was at most maxTemplateOut bytes, else nil;
// the decoder never writes into it (a copy of the state is a snapshot).
type reqFields struct {
	op, pid, errno int32
	addr           uint64
	data, result   int64
	evPid, evTid   int32
	out            []byte
}

// maxTemplateOut is the longest Out a request template keeps.
const maxTemplateOut = 64

// reqSlots is the number of request templates of a chunk (a power of 2).
const reqSlots = 32

// Field bits of a 2.0 request record's mask.
const (
	reqPid = 1 << iota
	reqAddr
	reqData
	reqResult
	reqErrno
	reqIn
	reqOut
	reqOutSame // Out is the template's (bit reqOut clear)
	reqMaskAll = 1<<iota - 1
)

// Field bits of a 2.0 stop record's field mask.
const (
	stopStatus = 1 << iota
	stopEvent
	stopFlags
	stopSigno
	stopCode
	stopSigAddr
	stopChildPid
	stopSyscallCode
	stopSyscallNarg
	stopMaskAll = 1<<iota - 1
)

// template returns the template of op's slot: the previous request of op
// in the chunk, or zero.
func (st *chunkState) template(op int32) (*reqFields, reqFields) {
	slot := &st.reqs[uint32(op)%reqSlots]
	if slot.op != op {
		return slot, reqFields{op: op}
	}
	return slot, *slot
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

// bytes encodes p and reports whether it went out as a blob reference.
func (x *eventEncoder) bytes(p []byte, threshold int) (blob bool) {
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
		return true
	default:
		x.e.uvarint(uint64(len(p)) + bytesInline)
		x.e.b = append(x.e.b, p...)
	}
	return false
}

func checkEvent(ev *Event) error {
	// Exactly the payload of ev's kind is set (straight-line: this runs
	// for every event a recorder writes).
	var own, set bool
	n := 0
	if ev.Request != nil {
		n++
	}
	if ev.Stop != nil {
		n++
	}
	if ev.Mem != nil {
		n++
	}
	if ev.Input != nil {
		n++
	}
	if ev.Exit != nil {
		n++
	}
	if ev.Syscalls != nil {
		n++
	}
	switch ev.Kind {
	case KindRequest:
		own = ev.Request != nil
	case KindStop:
		own = ev.Stop != nil
	case KindMemDelta:
		own = ev.Mem != nil
	case KindInput:
		own = ev.Input != nil
	case KindExit:
		own = ev.Exit != nil
	case KindSyscalls:
		own = ev.Syscalls != nil
	default:
		return fmt.Errorf("format: cannot write event of kind %v", ev.Kind)
	}
	set = n == 1
	if !own || !set {
		return fmt.Errorf("format: %v event must have exactly its own payload set", ev.Kind)
	}
	return nil
}

// encode appends ev's record (length prefix and body) to x.e.b.
func (x *eventEncoder) encode(ev *Event) {
	start := len(x.e.b)
	x.e.b = append(x.e.b, 0) // room for a one-byte length
	body := len(x.e.b)
	x.e.b = append(x.e.b, byte(ev.Kind))
	x.e.svarint(int64(ev.Icount - x.st.icount))
	x.st.icount = ev.Icount
	if ev.Kind != KindRequest {
		ids := &x.st.ids[kindSlot(ev.Kind)]
		x.e.svarint(int64(ev.Pid) - int64(ids[0]))
		x.e.svarint(int64(ev.Tid) - int64(ids[1]))
		ids[0], ids[1] = ev.Pid, ev.Tid
	}
	switch ev.Kind {
	case KindRequest:
		r := ev.Request
		slot, t := x.st.template(r.Op)
		x.e.svarint(int64(r.Op))
		x.e.svarint(int64(ev.Pid) - int64(t.evPid))
		x.e.svarint(int64(ev.Tid) - int64(t.evTid))
		var mask uint64
		if r.Pid != t.pid {
			mask |= reqPid
		}
		if r.Addr != t.addr {
			mask |= reqAddr
		}
		if r.Data != t.data {
			mask |= reqData
		}
		if r.Result != t.result {
			mask |= reqResult
		}
		if r.Errno != t.errno {
			mask |= reqErrno
		}
		if r.In != nil {
			mask |= reqIn
		}
		switch {
		case r.Out != nil && t.out != nil && bytes.Equal(r.Out, t.out):
			mask |= reqOutSame
		case r.Out != nil:
			mask |= reqOut
		}
		x.e.uvarint(mask)
		if mask&reqPid != 0 {
			x.e.svarint(int64(r.Pid))
		}
		if mask&reqAddr != 0 {
			x.e.uvarint(r.Addr)
		}
		if mask&reqData != 0 {
			x.e.svarint(r.Data)
		}
		if mask&reqResult != 0 {
			x.e.svarint(r.Result)
		}
		if mask&reqErrno != 0 {
			x.e.svarint(int64(r.Errno))
		}
		if mask&reqIn != 0 {
			x.bytes(r.In, x.threshold)
		}
		inline := true
		if mask&reqOut != 0 {
			inline = !x.bytes(r.Out, x.threshold)
		}
		out := slot.out[:0] // the encoder's templates are its own: reuse
		if slot.op != r.Op || slot.out == nil {
			out = nil
		}
		if r.Out != nil && inline && len(r.Out) <= maxTemplateOut {
			out = append(out, r.Out...)
			if out == nil {
				out = []byte{}
			}
		} else {
			out = nil
		}
		*slot = reqFields{op: r.Op, pid: r.Pid, errno: r.Errno, addr: r.Addr, data: r.Data, result: r.Result,
			evPid: ev.Pid, evTid: ev.Tid, out: out}
	case KindStop:
		s := ev.Stop
		f := stopFields{status: s.Status, event: s.Event, flags: s.Flags, signo: s.Signo, code: s.Code,
			childPid: s.ChildPid, sigAddr: s.SigAddr, syscallCode: s.SyscallCode, syscallNarg: s.SyscallNarg}
		p := &x.st.stop
		var fmask uint64
		if f.status != p.status {
			fmask |= stopStatus
		}
		if f.event != p.event {
			fmask |= stopEvent
		}
		if f.flags != p.flags {
			fmask |= stopFlags
		}
		if f.signo != p.signo {
			fmask |= stopSigno
		}
		if f.code != p.code {
			fmask |= stopCode
		}
		if f.sigAddr != p.sigAddr {
			fmask |= stopSigAddr
		}
		if f.childPid != p.childPid {
			fmask |= stopChildPid
		}
		if f.syscallCode != p.syscallCode {
			fmask |= stopSyscallCode
		}
		if f.syscallNarg != p.syscallNarg {
			fmask |= stopSyscallNarg
		}
		x.e.uvarint(fmask)
		if fmask&stopStatus != 0 {
			x.e.svarint(int64(f.status))
		}
		if fmask&stopEvent != 0 {
			x.e.svarint(int64(f.event))
		}
		if fmask&stopFlags != 0 {
			x.e.svarint(int64(f.flags))
		}
		if fmask&stopSigno != 0 {
			x.e.svarint(int64(f.signo))
		}
		if fmask&stopCode != 0 {
			x.e.svarint(int64(f.code))
		}
		if fmask&stopSigAddr != 0 {
			x.e.uvarint(f.sigAddr)
		}
		if fmask&stopChildPid != 0 {
			x.e.svarint(int64(f.childPid))
		}
		if fmask&stopSyscallCode != 0 {
			x.e.uvarint(uint64(f.syscallCode))
		}
		if fmask&stopSyscallNarg != 0 {
			x.e.uvarint(uint64(f.syscallNarg))
		}
		*p = f
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
	case KindSyscalls:
		x.encodeSyscalls(ev.Syscalls.Records)
	}
	n := len(x.e.b) - body
	if n < 0x80 {
		x.e.b[start] = byte(n)
		return
	}
	// A longer record: move the body up to make room for its length.
	var lb [binary.MaxVarintLen64]byte
	ln := binary.PutUvarint(lb[:], uint64(n))
	x.e.b = append(x.e.b, lb[1:ln]...)
	copy(x.e.b[body+ln-1:], x.e.b[body:body+n])
	copy(x.e.b[start:], lb[:ln])
}

// blobResolver returns the content of blob id (a fresh slice the caller
// may keep).
type blobResolver func(id uint64) ([]byte, error)

type eventDecoder struct {
	st      chunkState
	resolve blobResolver // nil: leave blob fields nil
	skip    bool         // the event is being skipped: leave blob fields nil
	blobErr error
	v1      bool // the trace is version 1.x: requests and stops are not encoded against templates

	// Blocks the decoded events and their payloads are carved from: one
	// allocation per arenaBlock events of a kind instead of two per event.
	// Each event is its own (the blocks are never reused), so callers may
	// keep them.
	evs   []Event
	reqs  []Request
	stops []Stop
	outs  []byte
	// sysRecs, when set (Reader.ReuseSyscallRecords), is the one slice
	// the records of every syscalls event are decoded into.
	sysRecs *[]Syscall
}

const arenaBlock = 256

func (x *eventDecoder) newEvent() *Event {
	if len(x.evs) == 0 {
		x.evs = make([]Event, arenaBlock)
	}
	ev := &x.evs[0]
	x.evs = x.evs[1:]
	return ev
}

func (x *eventDecoder) newRequest() *Request {
	if len(x.reqs) == 0 {
		x.reqs = make([]Request, arenaBlock)
	}
	r := &x.reqs[0]
	x.reqs = x.reqs[1:]
	return r
}

func (x *eventDecoder) newStop() *Stop {
	if len(x.stops) == 0 {
		x.stops = make([]Stop, arenaBlock/4)
	}
	s := &x.stops[0]
	x.stops = x.stops[1:]
	return s
}

// copyOut returns a copy of a template's output (at most maxTemplateOut
// bytes), with its capacity capped so that an append cannot reach the next.
func (x *eventDecoder) copyOut(p []byte) []byte {
	if len(x.outs) < len(p) || x.outs == nil {
		x.outs = make([]byte, arenaBlock*16)
	}
	c := x.outs[:len(p):len(p)]
	copy(c, p)
	x.outs = x.outs[len(p):]
	return c
}

func (x *eventDecoder) bytes(d *dec) []byte {
	tag := d.uvarint()
	switch tag {
	case bytesNil:
		return nil
	case bytesBlob:
		id := d.uvarint()
		if d.err != "" || x.resolve == nil || x.skip {
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

// nonNilBytes is bytes for a field whose mask bit says it is not nil: a
// nil tag there is corrupt.
func (x *eventDecoder) nonNilBytes(d *dec) []byte {
	if d.err == "" && d.left() > 0 && d.b[d.off] == bytesNil {
		d.fail("nil byte string in a field marked present")
		return nil
	}
	p := x.bytes(d)
	if p == nil && d.err == "" {
		p = []byte{} // an empty inline string, or a blob being skipped
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
	if x.v1 {
		ev.Pid = d.i32()
		ev.Tid = d.i32()
	} else if ev.Kind != KindRequest {
		ids := &x.st.ids[kindSlot(ev.Kind)]
		ev.Pid = d.i32delta(ids[0])
		ev.Tid = d.i32delta(ids[1])
		ids[0], ids[1] = ev.Pid, ev.Tid
	}
	switch ev.Kind {
	case KindInvalid:
		d.fail("event of kind 0")
	case KindRequest:
		r := x.newRequest()
		if x.v1 {
			r.Op = d.i32()
			r.Pid = d.i32()
			r.Addr = d.uvarint()
			r.Data = d.svarint()
			r.Result = d.svarint()
			r.Errno = d.i32()
			r.In = x.bytes(&d)
			r.Out = x.bytes(&d)
			ev.Request = r
			break
		}
		r.Op = d.i32()
		slot, t := x.st.template(r.Op)
		ev.Pid = d.i32delta(t.evPid)
		ev.Tid = d.i32delta(t.evTid)
		mask := d.uvarint()
		if mask&reqOut != 0 && mask&reqOutSame != 0 || mask&reqOutSame != 0 && t.out == nil {
			d.fail("bad request output mask")
		}
		if mask&^reqMaskAll != 0 {
			d.fail("bad request field mask")
		}
		r.Pid, r.Addr, r.Data, r.Result, r.Errno = t.pid, t.addr, t.data, t.result, t.errno
		if mask&reqPid != 0 {
			r.Pid = d.i32()
		}
		if mask&reqAddr != 0 {
			r.Addr = d.uvarint()
		}
		if mask&reqData != 0 {
			r.Data = d.svarint()
		}
		if mask&reqResult != 0 {
			r.Result = d.svarint()
		}
		if mask&reqErrno != 0 {
			r.Errno = d.i32()
		}
		if mask&reqIn != 0 {
			r.In = x.nonNilBytes(&d)
		}
		inline := true
		if mask&reqOut != 0 {
			inline = d.err == "" && d.left() > 0 && d.b[d.off] != bytesBlob
			r.Out = x.nonNilBytes(&d)
		}
		if mask&reqOutSame != 0 && d.err == "" {
			r.Out = x.copyOut(t.out)
		}
		var out []byte
		if r.Out != nil && inline && len(r.Out) <= maxTemplateOut {
			out = append([]byte{}, r.Out...) // a new slice: never written again
		}
		*slot = reqFields{op: r.Op, pid: r.Pid, errno: r.Errno, addr: r.Addr, data: r.Data, result: r.Result,
			evPid: ev.Pid, evTid: ev.Tid, out: out}
		ev.Request = r
	case KindStop:
		s := x.newStop()
		if x.v1 {
			s.Status = d.i32()
			s.Event = d.i32()
			s.Flags = d.i32()
			s.Signo = d.i32()
			s.Code = d.i32()
			s.SigAddr = d.uvarint()
			s.ChildPid = d.i32()
			s.SyscallCode = d.u32()
			s.SyscallNarg = d.u32()
		} else {
			p := &x.st.stop
			fmask := d.uvarint()
			if fmask&^stopMaskAll != 0 {
				d.fail("bad stop field mask")
			}
			if fmask&stopStatus != 0 {
				p.status = d.i32()
			}
			if fmask&stopEvent != 0 {
				p.event = d.i32()
			}
			if fmask&stopFlags != 0 {
				p.flags = d.i32()
			}
			if fmask&stopSigno != 0 {
				p.signo = d.i32()
			}
			if fmask&stopCode != 0 {
				p.code = d.i32()
			}
			if fmask&stopSigAddr != 0 {
				p.sigAddr = d.uvarint()
			}
			if fmask&stopChildPid != 0 {
				p.childPid = d.i32()
			}
			if fmask&stopSyscallCode != 0 {
				p.syscallCode = d.u32()
			}
			if fmask&stopSyscallNarg != 0 {
				p.syscallNarg = d.u32()
			}
			s.Status, s.Event, s.Flags, s.Signo, s.Code = p.status, p.event, p.flags, p.signo, p.code
			s.SigAddr, s.ChildPid, s.SyscallCode, s.SyscallNarg = p.sigAddr, p.childPid, p.syscallCode, p.syscallNarg
		}
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
	case KindSyscalls:
		ev.Syscalls = &Syscalls{Records: x.decodeSyscalls(&d)}
	}
	return d.err
}

// Syscall records (2.1) are encoded against a template: the previous
// record in the chunk whose code had the same slot (code mod sysSlots), if
// its code is the same, else a zero record of that code; the icount
// against the previous record of any code. A loop of the same syscalls
// costs about three bytes per record before compression.
const sysSlots = 64

// Field bits of a syscall record's mask.
const (
	sysTid = 1 << iota
	sysFlags
	sysRIP
	sysRet
	sysArg0    // and the five bits after it: Args[0..5]
	sysMaskAll = 1<<(iota+5) - 1
)

func (x *eventEncoder) encodeSyscalls(recs []Syscall) {
	x.e.uvarint(uint64(len(recs)))
	for i := range recs {
		r := &recs[i]
		slot := &x.st.sys[r.Code%sysSlots]
		t := slot
		if slot.Code != r.Code {
			t = &Syscall{Code: r.Code}
		}
		var mask uint64
		if r.Tid != t.Tid {
			mask |= sysTid
		}
		if r.Flags != t.Flags {
			mask |= sysFlags
		}
		if r.RIP != t.RIP {
			mask |= sysRIP
		}
		if r.Ret != t.Ret {
			mask |= sysRet
		}
		for j, a := range r.Args {
			if a != t.Args[j] {
				mask |= sysArg0 << j
			}
		}
		x.e.uvarint(uint64(r.Code))
		x.e.uvarint(mask)
		x.e.svarint(int64(r.Icount - x.st.sysIcount))
		if mask&sysTid != 0 {
			x.e.svarint(int64(r.Tid) - int64(t.Tid))
		}
		if mask&sysFlags != 0 {
			x.e.uvarint(uint64(r.Flags))
		}
		if mask&sysRIP != 0 {
			x.e.svarint(int64(r.RIP - t.RIP))
		}
		if mask&sysRet != 0 {
			x.e.svarint(r.Ret - t.Ret)
		}
		for j, a := range r.Args {
			if mask&(sysArg0<<j) != 0 {
				x.e.svarint(int64(a - t.Args[j]))
			}
		}
		*slot = *r
		x.st.sysIcount = r.Icount
	}
}

// uvarintAt reads the varint at b[off:] and returns it with its length (0
// if it is bad or cut short). decodeSyscalls reads one-byte varints, most
// of a syscall record's, inline and calls it for the others.
func uvarintAt(b []byte, off int) (uint64, int) {
	if off >= len(b) {
		return 0, 0
	}
	v, n := binary.Uvarint(b[off:])
	return v, max(n, 0)
}

// zigzag is the signed value of a zig-zag varint.
func zigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// decodeSyscalls reads what encodeSyscalls wrote.
func (x *eventDecoder) decodeSyscalls(d *dec) []Syscall {
	n := d.uvarint()
	if n > uint64(d.left()) { // each record takes at least three bytes
		d.fail("syscall count beyond end of record")
		return nil
	}
	var recs []Syscall
	if a := x.sysRecs; a != nil {
		if uint64(cap(*a)) < n {
			*a = make([]Syscall, n)
		}
		recs = (*a)[:n]
	} else {
		recs = make([]Syscall, n)
	}
	if d.err != "" {
		return nil
	}
	// The varints are read here from b at off, d.off kept behind; d reads
	// the rare fields.
	b, off := d.b, d.off
	for i := range recs {
		var code uint64
		if off < len(b) && b[off] < 0x80 {
			code = uint64(b[off])
			off++
		} else {
			u, k := uvarintAt(b, off)
			if k == 0 {
				goto badVarint
			}
			code, off = u, off+k
		}
		if code > 0xffffffff {
			d.off = off
			d.fail("syscall code out of range")
			return nil
		}
		var mask uint64
		if off < len(b) && b[off] < 0x80 {
			mask = uint64(b[off])
			off++
		} else {
			u, k := uvarintAt(b, off)
			if k == 0 {
				goto badVarint
			}
			mask, off = u, off+k
		}
		if mask > sysMaskAll {
			d.off = off
			d.fail("syscall field mask out of range")
			return nil
		}
		// The record is decoded in its slot, the template it changes,
		// then copied out once. After an error the reader keeps the
		// error until a seek decodes the chunk again from its start.
		r := &x.st.sys[code%sysSlots]
		if r.Code != uint32(code) {
			*r = Syscall{Code: uint32(code)}
		}
		var ic uint64
		if off < len(b) && b[off] < 0x80 {
			ic = uint64(b[off])
			off++
		} else {
			u, k := uvarintAt(b, off)
			if k == 0 {
				goto badVarint
			}
			ic, off = u, off+k
		}
		r.Icount = x.st.sysIcount + uint64(zigzag(ic))
		if mask&(sysTid|sysFlags) != 0 {
			d.off = off
			if mask&sysTid != 0 {
				r.Tid = d.i32delta(r.Tid)
			}
			if mask&sysFlags != 0 {
				f := d.uvarint()
				if f > 0xffffffff {
					d.fail("syscall flags out of range")
				}
				r.Flags = uint32(f)
			}
			if d.err != "" {
				return nil
			}
			off = d.off
		}
		if mask&sysRIP != 0 {
			var v uint64
			if off < len(b) && b[off] < 0x80 {
				v = uint64(b[off])
				off++
			} else {
				u, k := uvarintAt(b, off)
				if k == 0 {
					goto badVarint
				}
				v, off = u, off+k
			}
			r.RIP += uint64(zigzag(v))
		}
		if mask&sysRet != 0 {
			var v uint64
			if off < len(b) && b[off] < 0x80 {
				v = uint64(b[off])
				off++
			} else {
				u, k := uvarintAt(b, off)
				if k == 0 {
					goto badVarint
				}
				v, off = u, off+k
			}
			r.Ret += zigzag(v)
		}
		if mask >= sysArg0 {
			for j := range r.Args {
				if mask&(sysArg0<<j) != 0 {
					var v uint64
					if off < len(b) && b[off] < 0x80 {
						v = uint64(b[off])
						off++
					} else {
						u, k := uvarintAt(b, off)
						if k == 0 {
							goto badVarint
						}
						v, off = u, off+k
					}
					r.Args[j] += uint64(zigzag(v))
				}
			}
		}
		recs[i] = *r
		x.st.sysIcount = r.Icount
	}
	d.off = off
	return recs
badVarint:
	d.off = off
	d.fail("bad varint")
	return nil
}
