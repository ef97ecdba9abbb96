package format

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// genEvents makes a random but reproducible event stream using every kind
// and every field, with repeated large payloads (blobs), nil and empty
// slices, and icounts that mostly grow.
func genEvents(seed uint64, n int) []*Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var big [][]byte
	for i := 0; i < 4; i++ {
		b := make([]byte, 256+rng.IntN(3000))
		for j := range b {
			b[j] = byte(rng.IntN(7))
		}
		big = append(big, b)
	}
	bs := func() []byte {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return []byte{}
		case 2:
			return bytes.Clone(big[rng.IntN(len(big))])
		case 3:
			b := make([]byte, 256+rng.IntN(600)) // fresh large payload
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			return b
		}
		b := make([]byte, rng.IntN(100))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		return b
	}
	i32 := func() int32 { return int32(rng.Uint32()) >> rng.IntN(32) }
	u64 := func() uint64 { return rng.Uint64() >> rng.IntN(64) }
	i64 := func() int64 { return int64(rng.Uint64()) >> rng.IntN(64) }
	var evs []*Event
	var ic uint64
	var regs Regs
	lastReq, lastPid := map[int32]*Request{}, map[int32][2]int32{}
	var lastStop *Stop
	for i := 0; i < n; i++ {
		if rng.IntN(20) == 0 {
			ic = uint64(rng.IntN(100)) // icounts need not be monotonic
		} else {
			ic += uint64(rng.IntN(1000))
		}
		ev := &Event{Icount: ic, Pid: i32(), Tid: i32()}
		switch rng.IntN(6) {
		case 0:
			ev.Kind = KindRequest
			ev.Request = &Request{Op: i32(), Pid: i32(), Addr: u64(), Data: i64(), Result: i64(), Errno: i32(), In: bs(), Out: bs()}
			if rng.IntN(2) == 0 {
				// A recorder's requests: a few ops (13 and 45 share a
				// template slot), most fields and outputs as last time.
				r := ev.Request
				r.Op = []int32{13, 45, 33, 80, 81, 20, -1}[rng.IntN(7)]
				if last := lastReq[r.Op]; last != nil {
					keep := func() bool { return rng.IntN(4) != 0 }
					if keep() {
						ev.Pid, ev.Tid, r.Pid = lastPid[r.Op][0], lastPid[r.Op][1], last.Pid
					}
					if keep() {
						r.Addr, r.Data = last.Addr, last.Data
					}
					if keep() {
						r.Result, r.Errno = last.Result, last.Errno
					}
					if keep() {
						r.In = nil
					}
					if keep() {
						r.Out = bytes.Clone(last.Out)
					}
				}
				lastReq[r.Op], lastPid[r.Op] = r, [2]int32{ev.Pid, ev.Tid}
			}
		case 1:
			ev.Kind = KindStop
			for j := 0; j < rng.IntN(4); j++ {
				regs[rng.IntN(NumRegs)] = u64()
			}
			ev.Stop = &Stop{Status: i32(), Event: i32(), Flags: i32(), Signo: i32(), Code: i32(), SigAddr: u64(),
				ChildPid: i32(), SyscallCode: rng.Uint32(), SyscallNarg: rng.Uint32() >> 28, Regs: regs}
			if last := lastStop; last != nil && rng.IntN(2) == 0 {
				// Mostly like the previous stop, as a recorder's are.
				st := *last
				st.Regs = regs
				if rng.IntN(3) == 0 {
					st.SyscallCode = rng.Uint32()
				}
				if rng.IntN(3) == 0 {
					st.Flags = i32()
				}
				ev.Stop = &st
			}
			lastStop = ev.Stop
		case 2:
			ev.Kind = KindMemDelta
			m := &MemDelta{}
			if rng.IntN(10) != 0 {
				m.Ranges = []MemRange{}
				for j := 0; j < rng.IntN(4); j++ {
					m.Ranges = append(m.Ranges, MemRange{Addr: u64(), Data: bs()})
				}
				if rng.IntN(40) == 0 { // a page run large enough to be a blob
					m.Ranges = append(m.Ranges, MemRange{Addr: 0x400000, Data: make([]byte, MemBlobThreshold)})
				}
			}
			ev.Mem = m
		case 3:
			ev.Kind = KindInput
			in := &Input{Op: uint16(rng.Uint32()), Path: string(bs()), Handle: i64(), In: bs(), Ret: i64(), Errno: i32(), Out: bs()}
			if rng.IntN(4) != 0 {
				in.Args = []int64{}
				for j := 0; j < rng.IntN(6); j++ {
					in.Args = append(in.Args, i64())
				}
			}
			ev.Input = in
		case 4:
			ev.Kind = KindExit
			ev.Exit = &Exit{Status: i32(), Reason: []string{"exited", "signaled", "", "interrupted"}[rng.IntN(4)]}
		case 5:
			ev.Kind = KindSyscalls
			sc := &Syscalls{Records: []Syscall{}}
			for j := rng.IntN(8); j > 0; j-- {
				r := Syscall{Tid: i32(), Code: rng.Uint32() >> rng.IntN(32), Flags: rng.Uint32() >> 31,
					Icount: u64(), RIP: u64(), Ret: i64()}
				for a := range r.Args {
					r.Args[a] = u64()
				}
				if last := len(sc.Records) - 1; last >= 0 && rng.IntN(2) == 0 {
					// A loop of the same syscall, as guests make.
					p := sc.Records[last]
					p.Icount += uint64(rng.IntN(50))
					p.Args[rng.IntN(6)] += uint64(rng.IntN(5))
					r = p
				}
				sc.Records = append(sc.Records, r)
			}
			ev.Syscalls = sc
		}
		evs = append(evs, ev)
	}
	return evs
}

func testHeader() Header {
	return Header{
		Program: "echoargs", Path: "/bin/echoargs",
		Argv: []string{"echoargs", "a", ""}, Envp: []string{}, Cwd: "/tmp", Stops: "syscall",
		Facts: []Fact{{"uname", "Linux"}, {"uid", "1000"}},
	}
}

// writeTrace writes evs and returns the file bytes.
func writeTrace(t testing.TB, hdr Header, evs []*Event, opts ...WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, hdr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != uint64(i) {
			t.Fatalf("Write assigned Seq %d, want %d", ev.Seq, i)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().FileBytes; got != uint64(buf.Len()) {
		t.Fatalf("Stats().FileBytes = %d, file is %d", got, buf.Len())
	}
	return buf.Bytes()
}

// readAll reads every event until io.EOF or an error.
func readAll(r *Reader) ([]*Event, error) {
	var evs []*Event
	for {
		ev, err := r.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return evs, nil
			}
			return evs, err
		}
		evs = append(evs, ev)
	}
}
