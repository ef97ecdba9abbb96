package format

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refDecodeSyscalls is decodeSyscalls as it was first written, through dec's
// varint methods and a template copy per record: the reference the faster
// decoder must agree with.
func refDecodeSyscalls(st *chunkState, d *dec) []Syscall {
	n := d.uvarint()
	if n > uint64(d.left()) {
		d.fail("syscall count beyond end of record")
		return nil
	}
	recs := make([]Syscall, n)
	for i := range recs {
		code := d.uvarint()
		if code > 0xffffffff {
			d.fail("syscall code out of range")
			return nil
		}
		slot := &st.sys[code%sysSlots]
		mask := d.uvarint()
		if mask > sysMaskAll {
			d.fail("syscall field mask out of range")
			return nil
		}
		r := &recs[i]
		if slot.Code == uint32(code) {
			*r = *slot
		} else {
			*r = Syscall{Code: uint32(code)}
		}
		r.Icount = st.sysIcount + uint64(d.svarint())
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
		if mask&sysRIP != 0 {
			r.RIP += uint64(d.svarint())
		}
		if mask&sysRet != 0 {
			r.Ret += d.svarint()
		}
		for j := range r.Args {
			if mask&(sysArg0<<j) != 0 {
				r.Args[j] += uint64(d.svarint())
			}
		}
		if d.err != "" {
			return nil
		}
		*slot = *r
		st.sysIcount = r.Icount
	}
	return recs
}

// encodedSyscalls is the encoding of batches of random records, templates
// at work (loops of the same syscalls), varints of every length.
func encodedSyscalls(seed uint64, batches int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var x eventEncoder
	var out [][]byte
	var ic uint64
	for b := 0; b < batches; b++ {
		recs := make([]Syscall, rng.IntN(40))
		for i := range recs {
			code := []uint32{0, 1, 110, 64 + 1, 231, 0xfffffff0}[rng.IntN(6)]
			r := Syscall{Tid: 100000 + int32(rng.IntN(3)), Code: code, Icount: ic, RIP: 0x401000 + uint64(code)*16}
			if i > 0 && rng.IntN(3) > 0 {
				r = recs[i-1]
			}
			ic += uint64(rng.IntN(1 << rng.IntN(40)))
			r.Icount = ic
			r.Args[rng.IntN(6)] += uint64(rng.Int64N(1<<rng.IntN(63))) - 7
			r.Ret = rng.Int64N(1<<rng.IntN(63)) - 1<<rng.IntN(20)
			r.Flags = rng.Uint32() >> (31 - rng.IntN(2)*31)
			recs[i] = r
		}
		x.e.b = x.e.b[:0]
		x.encodeSyscalls(recs)
		out = append(out, slices.Clone(x.e.b))
	}
	return out
}

// decodeBoth decodes each body with the decoder and the reference, one
// chunk state each carried from body to body, and fails on the first
// difference in records, bytes read, error or state.
func decodeBoth(t *testing.T, bodies [][]byte) {
	var x eventDecoder
	var ref chunkState
	var reuse []Syscall
	x.sysRecs = &reuse
	for i, b := range bodies {
		d, rd := dec{b: b}, dec{b: b}
		got := x.decodeSyscalls(&d)
		want := refDecodeSyscalls(&ref, &rd)
		if d.err != rd.err {
			t.Fatalf("body %d: error %q, reference %q", i, d.err, rd.err)
		}
		if d.err != "" {
			return // the reader stops at an error; the states may differ after it
		}
		if d.off != rd.off || !slices.Equal(got, want) || x.st.sysIcount != ref.sysIcount || x.st.sys != ref.sys {
			t.Fatalf("body %d: decoded %v (%d bytes), reference %v (%d bytes)", i, got, d.off, want, rd.off)
		}
	}
}

// TestDecodeSyscallsMatchesReference decodes encoded batches (and every
// truncation of them) with decodeSyscalls and the reference decoder.
func TestDecodeSyscallsMatchesReference(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		bodies := encodedSyscalls(seed, 30)
		decodeBoth(t, bodies)
		for _, b := range bodies[:5] {
			for n := 0; n < len(b); n++ {
				decodeBoth(t, [][]byte{b[:n]})
			}
		}
	}
}

// FuzzDecodeSyscalls decodes arbitrary bytes as two syscall events' records
// with decodeSyscalls and the reference decoder: same records, same error.
func FuzzDecodeSyscalls(f *testing.F) {
	for seed := uint64(1); seed <= 4; seed++ {
		b := encodedSyscalls(seed, 2)
		f.Add(b[0], b[1])
	}
	f.Add([]byte{1, 0x80}, []byte{})
	f.Add([]byte{2, 1, 0xff, 0x7f, 0}, []byte{1, 1, 0x10, 2, 2})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		decodeBoth(t, [][]byte{a, b})
	})
}
