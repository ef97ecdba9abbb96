// Package gdbremote serves the gdb remote serial protocol over a replay, so
// that gdb can debug a recorded execution, forwards and backwards.
//
// The server speaks to one gdb at a time. It advertises ReverseStep and
// ReverseContinue; bs and bc run backwards by restoring a checkpoint and
// re-executing (replay.Replayer). Breakpoints (Z0, Z1) and watchpoints (Z2,
// Z3, Z4) become the replay's debugger slots, which the guest never sees.
// The replayed processes are read-only: G, P, M and X are refused with an
// error. Registers follow gdb's amd64 target description (i386/64bit-core,
// 64bit-sse and 64bit-segments), served by qXfer:features:read.
package gdbremote

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ptrec/kernel"
	"ptrec/machine"
	"ptrec/replay"
)

// MaxPacket is the largest packet the server accepts (and advertises).
const MaxPacket = 0x4000

// ErrPacket is wrapped by errors about malformed packets.
var ErrPacket = errors.New("gdbremote: malformed packet")

// ReadPacket reads one packet: "$data#xx" (returning data, unescaped) or an
// interrupt byte 0x03 (returning "\x03"). Acks ('+', '-') before a packet
// are skipped. A checksum mismatch returns ErrPacket, with ok false so the
// caller can ask for a retransmission.
func ReadPacket(r *bufio.Reader) (data []byte, err error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch c {
		case '$':
			return readBody(r)
		case 0x03:
			return []byte{0x03}, nil
		}
		// '+', '-' and noise between packets are skipped.
	}
}

func readBody(r *bufio.Reader) ([]byte, error) {
	var raw []byte
	var sum byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == '#' {
			break
		}
		sum += c
		raw = append(raw, c)
		if len(raw) > 2*MaxPacket {
			return nil, fmt.Errorf("%w: longer than %d bytes", ErrPacket, 2*MaxPacket)
		}
	}
	var cs [2]byte
	if _, err := io.ReadFull(r, cs[:]); err != nil {
		return nil, err
	}
	want, err := strconv.ParseUint(string(cs[:]), 16, 8)
	if err != nil || byte(want) != sum {
		return nil, fmt.Errorf("%w: bad checksum", ErrPacket)
	}
	return Unescape(raw)
}

// Unescape undoes the protocol's '}' escaping and run-length encoding.
func Unescape(raw []byte) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '}':
			if i+1 >= len(raw) {
				return nil, fmt.Errorf("%w: escape at end", ErrPacket)
			}
			i++
			out = append(out, raw[i]^0x20)
		case '*':
			if len(out) == 0 || i+1 >= len(raw) {
				return nil, fmt.Errorf("%w: bad run length", ErrPacket)
			}
			i++
			n := int(raw[i]) - 29
			if n < 0 || n > 97 {
				return nil, fmt.Errorf("%w: bad run length", ErrPacket)
			}
			last := out[len(out)-1]
			for j := 0; j < n; j++ {
				out = append(out, last)
			}
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// WritePacket frames data as "$data#xx", escaping what must be.
func WritePacket(w io.Writer, data []byte) error {
	var b bytes.Buffer
	b.WriteByte('$')
	var sum byte
	for _, c := range data {
		if c == '$' || c == '#' || c == '}' || c == '*' {
			b.WriteByte('}')
			sum += '}'
			c ^= 0x20
		}
		b.WriteByte(c)
		sum += c
	}
	fmt.Fprintf(&b, "#%02x", sum)
	_, err := w.Write(b.Bytes())
	return err
}

// Target is what the server debugs: a replay.
type Target = *replay.Replayer

type server struct {
	r      Target
	rw     *bufio.ReadWriter
	noAck  bool
	done   bool
	last   replay.Stop
	gTid   int32 // Hg thread
	cTid   int32 // Hc thread (-1: all)
	thread []int32
}

// Serve runs the protocol on conn until gdb kills or detaches, or the
// connection ends.
func Serve(conn io.ReadWriter, r Target) error {
	s := &server{r: r, rw: bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))}
	// Run to the first user instruction, as a debugger attaching at exec sees.
	if err := r.GotoIcount(0); err != nil {
		return err
	}
	for !s.done {
		pkt, err := ReadPacket(s.rw.Reader)
		if errors.Is(err, ErrPacket) {
			if !s.noAck {
				s.rw.WriteString("-")
				s.rw.Flush()
			}
			continue
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(pkt) == 1 && pkt[0] == 0x03 {
			continue // nothing runs asynchronously: an interrupt has nothing to stop
		}
		if !s.noAck {
			s.rw.WriteString("+")
		}
		reply := s.Handle(string(pkt))
		if err := WritePacket(s.rw, []byte(reply)); err != nil {
			return err
		}
		if err := s.rw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Handle answers one packet (exported for tests and fuzzing through
// HandlePacket).
func (s *server) Handle(p string) string {
	if p == "" {
		return ""
	}
	switch p[0] {
	case '?':
		return s.stopReply(s.last)
	case 'q':
		return s.query(p)
	case 'Q':
		if p == "QStartNoAckMode" {
			s.noAck = true
			return "OK"
		}
		return ""
	case 'v':
		return s.vPacket(p)
	case 'H':
		if len(p) < 2 {
			return "E01"
		}
		tid, ok := parseTid(p[2:])
		if !ok {
			return "E01"
		}
		if p[1] == 'g' {
			if tid > 0 {
				if s.r.SelectThread(tid) != nil {
					return "E01"
				}
			}
			s.gTid = tid
		} else {
			s.cTid = tid
		}
		return "OK"
	case 'T':
		tid, ok := parseTid(p[1:])
		if ok && s.alive(tid) {
			return "OK"
		}
		return "E01"
	case 'g':
		return s.readRegs()
	case 'p':
		n, err := strconv.ParseUint(p[1:], 16, 16)
		if err != nil {
			return "E01"
		}
		t := s.r.Thread()
		if t == nil {
			return "E01"
		}
		v, ok := regBytes(t.CPU(), int(n))
		if !ok {
			return "E01"
		}
		return hex.EncodeToString(v)
	case 'G', 'P', 'M', 'X':
		return "E01" // read-only: replay.ErrReadOnly
	case 'm', 'x':
		addr, n, ok := parseAddrLen(p[1:])
		if !ok {
			return "E01"
		}
		if n > MaxPacket/2 {
			n = MaxPacket / 2
		}
		b, err := s.r.ReadMemory(addr, int(n))
		if err != nil || (len(b) == 0 && n > 0) {
			return "E14"
		}
		if p[0] == 'x' {
			return "b" + string(b)
		}
		return hex.EncodeToString(b)
	case 'Z', 'z':
		return s.breakpoint(p)
	case 'c':
		return s.resume(replay.Forward, false)
	case 's':
		return s.resume(replay.Forward, true)
	case 'b':
		if p == "bc" {
			return s.resume(replay.Reverse, false)
		}
		if p == "bs" {
			return s.resume(replay.Reverse, true)
		}
		return ""
	case 'k':
		s.done = true
		return "OK"
	case 'D':
		s.done = true
		return "OK"
	}
	return ""
}

func (s *server) alive(tid int32) bool {
	for _, t := range s.r.Threads() {
		if t.Tid == tid {
			return true
		}
	}
	return false
}

// parseTid parses a thread id: hex, "-1" (all) or "0" (any); the
// multiprocess form "pPID.TID" takes TID.
func parseTid(s string) (int32, bool) {
	if i := strings.IndexByte(s, '.'); i >= 0 && strings.HasPrefix(s, "p") {
		s = s[i+1:]
	}
	if s == "-1" {
		return -1, true
	}
	v, err := strconv.ParseUint(s, 16, 31)
	if err != nil {
		return 0, false
	}
	return int32(v), true
}

func parseAddrLen(s string) (uint64, uint64, bool) {
	a, l, ok := strings.Cut(s, ",")
	if !ok {
		return 0, 0, false
	}
	addr, err1 := strconv.ParseUint(a, 16, 64)
	n, err2 := strconv.ParseUint(l, 16, 32)
	return addr, n, err1 == nil && err2 == nil
}

func (s *server) query(p string) string {
	switch {
	case strings.HasPrefix(p, "qSupported"):
		return fmt.Sprintf("PacketSize=%x;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;ReverseStep+;ReverseContinue+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+", MaxPacket)
	case p == "qAttached" || strings.HasPrefix(p, "qAttached:"):
		return "1"
	case p == "qC":
		if t := s.r.Thread(); t != nil {
			return fmt.Sprintf("QC%x", t.Tid)
		}
		return ""
	case p == "qfThreadInfo":
		var ids []string
		for _, t := range s.r.Threads() {
			ids = append(ids, fmt.Sprintf("%x", t.Tid))
		}
		if len(ids) == 0 {
			return "l"
		}
		return "m" + strings.Join(ids, ",")
	case p == "qsThreadInfo":
		return "l"
	case strings.HasPrefix(p, "qThreadExtraInfo,"):
		tid, ok := parseTid(p[len("qThreadExtraInfo,"):])
		if !ok {
			return "E01"
		}
		return hex.EncodeToString([]byte(fmt.Sprintf("tid %d", tid)))
	case strings.HasPrefix(p, "qXfer:"):
		return s.xfer(p)
	case p == "qSymbol::":
		return "OK"
	case p == "qOffsets":
		return ""
	}
	return ""
}

// xfer answers qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH.
func (s *server) xfer(p string) string {
	f := strings.SplitN(p, ":", 5)
	if len(f) != 5 || f[2] != "read" {
		return ""
	}
	off, n, ok := parseAddrLen(f[4])
	if !ok {
		return "E01"
	}
	var data []byte
	switch f[1] {
	case "features":
		if f[3] != "target.xml" {
			return "E00"
		}
		data = []byte(targetXML)
	case "auxv":
		data = s.r.Auxv()
	case "exec-file":
		path, _ := s.r.Executable()
		data = []byte(path)
	default:
		return ""
	}
	if off >= uint64(len(data)) {
		return "l"
	}
	end := off + n
	if end > uint64(len(data)) || end < off {
		end = uint64(len(data))
	}
	chunk := data[off:end]
	if end == uint64(len(data)) {
		return "l" + string(chunk)
	}
	return "m" + string(chunk)
}

func (s *server) vPacket(p string) string {
	switch {
	case p == "vCont?":
		return "vCont;c;C;s;S"
	case strings.HasPrefix(p, "vCont;"):
		// The first action decides; a thread-specific step steps that thread.
		act := strings.Split(p[len("vCont;"):], ";")[0]
		a, tidStr, _ := strings.Cut(act, ":")
		if tidStr != "" {
			if tid, ok := parseTid(tidStr); ok && tid > 0 {
				s.r.SelectThread(tid)
			}
		}
		switch {
		case strings.HasPrefix(a, "c") || strings.HasPrefix(a, "C"):
			return s.resume(replay.Forward, false)
		case strings.HasPrefix(a, "s") || strings.HasPrefix(a, "S"):
			return s.resume(replay.Forward, true)
		}
		return "E01"
	case p == "vMustReplyEmpty":
		return ""
	case strings.HasPrefix(p, "vKill"):
		s.done = true
		return "OK"
	}
	return ""
}

func (s *server) breakpoint(p string) string {
	f := strings.Split(p[1:], ",")
	if len(f) < 3 {
		return "E01"
	}
	typ, err1 := strconv.Atoi(f[0])
	addr, err2 := strconv.ParseUint(f[1], 16, 64)
	kind, err3 := strconv.ParseUint(strings.SplitN(f[2], ";", 2)[0], 16, 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return "E01"
	}
	var sk kernel.SlotKind
	switch typ {
	case 0, 1:
		sk = kernel.SlotExec
	case 2:
		sk = kernel.SlotWrite
	case 3, 4:
		sk = kernel.SlotAccess // x86 has no read-only watchpoints
	default:
		return ""
	}
	if p[0] == 'z' {
		s.r.DeleteAt(sk, addr)
		return "OK"
	}
	if sk == kernel.SlotExec {
		for _, b := range s.r.Breakpoints() {
			if b.Kind == sk && b.Addr == addr {
				return "OK"
			}
		}
		if _, err := s.r.AddBreakpoint(addr, ""); err != nil {
			return "E0e"
		}
		return "OK"
	}
	if kind == 0 || kind > 8 {
		return "E01"
	}
	if _, err := s.r.AddWatchpoint(addr, int(kind), sk, ""); err != nil {
		return "E0e"
	}
	return "OK"
}

func (s *server) resume(dir replay.Direction, step bool) string {
	r := s.r
	r.SetDirection(dir)
	defer r.SetDirection(replay.Forward)
	var st replay.Stop
	var err error
	if step {
		t := r.Thread()
		if t == nil {
			return "E01"
		}
		st, err = r.StepThread(t.Tid, 1)
	} else {
		st, err = r.Continue()
	}
	if err != nil {
		return "E01"
	}
	s.last = st
	return s.stopReply(st)
}

func (s *server) stopReply(st replay.Stop) string {
	r := s.r
	if st.Reason == replay.StopEnd {
		status, _ := r.Status()
		ws := abi32(status)
		if ws&0x7f == 0 {
			return fmt.Sprintf("W%02x", (ws>>8)&0xff)
		}
		return fmt.Sprintf("X%02x", ws&0x7f)
	}
	t := r.Thread()
	if t == nil {
		return "W00"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "T05thread:%x;", t.Tid)
	switch st.Reason {
	case replay.StopBreakpoint:
		b.WriteString("hwbreak:;")
	case replay.StopWatchpoint:
		kind := "watch"
		for _, bp := range r.Breakpoints() {
			if bp.ID == st.Break && bp.Kind == kernel.SlotAccess {
				kind = "awatch"
			}
		}
		fmt.Fprintf(&b, "%s:%x;", kind, st.Addr)
	case replay.StopStart:
		b.WriteString("replaylog:begin;")
	}
	return b.String()
}

func abi32(v int32) uint32 { return uint32(v) }

// Register numbers of the target description.
const (
	regRIP    = 16
	regEflags = 17
	regCS     = 18
	regST0    = 24
	regFctrl  = 32
	regXMM0   = 40
	regMXCSR  = 56
	regFSBase = 57
	regGSBase = 58
	numRegs   = 59
)

// gdb's amd64 order of the general registers, as CPU.Regs indices.
var gprOrder = [16]int{machine.RAX, machine.RBX, machine.RCX, machine.RDX, machine.RSI, machine.RDI, machine.RBP, machine.RSP,
	machine.R8, machine.R9, machine.R10, machine.R11, machine.R12, machine.R13, machine.R14, machine.R15}

func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n && i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// regBytes returns register n in target byte order.
func regBytes(c *machine.CPU, n int) ([]byte, bool) {
	var fx [512]byte
	c.FXSave(&fx)
	u16 := func(o int) uint64 { return uint64(fx[o]) | uint64(fx[o+1])<<8 }
	u32 := func(o int) uint64 { return u16(o) | u16(o+2)<<16 }
	u64 := func(o int) uint64 { return u32(o) | u32(o+4)<<32 }
	switch {
	case n < 16:
		return le(c.Regs[gprOrder[n]], 8), true
	case n == regRIP:
		return le(c.RIP, 8), true
	case n == regEflags:
		return le(c.Flags(), 4), true
	case n >= regCS && n < regST0:
		sel := [6]uint64{0x33, 0x2b, 0, 0, 0, 0} // cs ss ds es fs gs as Linux user mode
		return le(sel[n-regCS], 4), true
	case n >= regST0 && n < regFctrl:
		o := 32 + 16*(n-regST0)
		return append([]byte(nil), fx[o:o+10]...), true
	case n >= regFctrl && n < regXMM0:
		var v uint64
		switch n - regFctrl {
		case 0:
			v = u16(0)
		case 1:
			v = u16(2)
		case 2: // full tag word from the abridged one: valid 00, empty 11
			ab := fx[4]
			for i := 0; i < 8; i++ {
				if ab>>i&1 == 0 {
					v |= 3 << (2 * i)
				}
			}
		case 3:
			v = 0
		case 4:
			v = u64(8) & 0xffffffff
		case 5:
			v = 0
		case 6:
			v = u64(16) & 0xffffffff
		case 7:
			v = u16(6)
		}
		return le(v, 4), true
	case n >= regXMM0 && n < regMXCSR:
		o := 160 + 16*(n-regXMM0)
		return append([]byte(nil), fx[o:o+16]...), true
	case n == regMXCSR:
		return le(u32(24), 4), true
	case n == regFSBase:
		return le(c.FSBase, 8), true
	case n == regGSBase:
		return le(c.GSBase, 8), true
	}
	return nil, false
}

func (s *server) readRegs() string {
	t := s.r.Thread()
	if t == nil {
		return "E01"
	}
	var b strings.Builder
	for n := 0; n < numRegs; n++ {
		v, _ := regBytes(t.CPU(), n)
		b.WriteString(hex.EncodeToString(v))
	}
	return b.String()
}

const targetXML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386:x86-64</architecture>
<osabi>GNU/Linux</osabi>
<feature name="org.gnu.gdb.i386.core">
<flags id="i386_eflags" size="4">
<field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>
<field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
<field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>
<field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
<field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>
<field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/>
</flags>
<reg name="rax" bitsize="64" type="int64" regnum="0"/>
<reg name="rbx" bitsize="64" type="int64"/>
<reg name="rcx" bitsize="64" type="int64"/>
<reg name="rdx" bitsize="64" type="int64"/>
<reg name="rsi" bitsize="64" type="int64"/>
<reg name="rdi" bitsize="64" type="int64"/>
<reg name="rbp" bitsize="64" type="data_ptr"/>
<reg name="rsp" bitsize="64" type="data_ptr"/>
<reg name="r8" bitsize="64" type="int64"/>
<reg name="r9" bitsize="64" type="int64"/>
<reg name="r10" bitsize="64" type="int64"/>
<reg name="r11" bitsize="64" type="int64"/>
<reg name="r12" bitsize="64" type="int64"/>
<reg name="r13" bitsize="64" type="int64"/>
<reg name="r14" bitsize="64" type="int64"/>
<reg name="r15" bitsize="64" type="int64"/>
<reg name="rip" bitsize="64" type="code_ptr"/>
<reg name="eflags" bitsize="32" type="i386_eflags"/>
<reg name="cs" bitsize="32" type="int32"/>
<reg name="ss" bitsize="32" type="int32"/>
<reg name="ds" bitsize="32" type="int32"/>
<reg name="es" bitsize="32" type="int32"/>
<reg name="fs" bitsize="32" type="int32"/>
<reg name="gs" bitsize="32" type="int32"/>
<reg name="st0" bitsize="80" type="i387_ext"/>
<reg name="st1" bitsize="80" type="i387_ext"/>
<reg name="st2" bitsize="80" type="i387_ext"/>
<reg name="st3" bitsize="80" type="i387_ext"/>
<reg name="st4" bitsize="80" type="i387_ext"/>
<reg name="st5" bitsize="80" type="i387_ext"/>
<reg name="st6" bitsize="80" type="i387_ext"/>
<reg name="st7" bitsize="80" type="i387_ext"/>
<reg name="fctrl" bitsize="32" type="int" group="float"/>
<reg name="fstat" bitsize="32" type="int" group="float"/>
<reg name="ftag" bitsize="32" type="int" group="float"/>
<reg name="fiseg" bitsize="32" type="int" group="float"/>
<reg name="fioff" bitsize="32" type="int" group="float"/>
<reg name="foseg" bitsize="32" type="int" group="float"/>
<reg name="fooff" bitsize="32" type="int" group="float"/>
<reg name="fop" bitsize="32" type="int" group="float"/>
</feature>
<feature name="org.gnu.gdb.i386.sse">
<vector id="v8bf16" type="bfloat16" count="8"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
<field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>
<field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/>
</union>
<flags id="i386_mxcsr" size="4">
<field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>
<field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
<field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>
<field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
<field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
</flags>
<reg name="xmm0" bitsize="128" type="vec128" regnum="40"/>
<reg name="xmm1" bitsize="128" type="vec128"/>
<reg name="xmm2" bitsize="128" type="vec128"/>
<reg name="xmm3" bitsize="128" type="vec128"/>
<reg name="xmm4" bitsize="128" type="vec128"/>
<reg name="xmm5" bitsize="128" type="vec128"/>
<reg name="xmm6" bitsize="128" type="vec128"/>
<reg name="xmm7" bitsize="128" type="vec128"/>
<reg name="xmm8" bitsize="128" type="vec128"/>
<reg name="xmm9" bitsize="128" type="vec128"/>
<reg name="xmm10" bitsize="128" type="vec128"/>
<reg name="xmm11" bitsize="128" type="vec128"/>
<reg name="xmm12" bitsize="128" type="vec128"/>
<reg name="xmm13" bitsize="128" type="vec128"/>
<reg name="xmm14" bitsize="128" type="vec128"/>
<reg name="xmm15" bitsize="128" type="vec128"/>
<reg name="mxcsr" bitsize="32" type="i386_mxcsr" group="vector"/>
</feature>
<feature name="org.gnu.gdb.i386.segments">
<reg name="fs_base" bitsize="64" type="int" regnum="57"/>
<reg name="gs_base" bitsize="64" type="int"/>
</feature>
</target>
`

// HandlePacket answers one packet against r, as a fresh server would.
// It exists for tests and the fuzz target.
func HandlePacket(r Target, p string) string {
	s := &server{r: r}
	return s.Handle(p)
}
