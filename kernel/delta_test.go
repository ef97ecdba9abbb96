package kernel_test

import (
	"bytes"
	"testing"

	"ptrec/kernel"
	"ptrec/machine"
)

// TestDeltaInPieces checks PT_PTREC_GETDELTA's page budget at the level of
// its encoding: a delta fetched a few pages at a time (AppendDeltaMax)
// holds exactly the bytes of the same delta fetched at once, each piece
// covers at most the budget, and the count of pages left goes down to 0.
func TestDeltaInPieces(t *testing.T) {
	const pages = 23
	mk := func() *machine.Memory {
		m := machine.NewMemory()
		m.Map(0x10000, pages*machine.PageSize, machine.ProtRead|machine.ProtWrite)
		for i := 0; i < pages; i++ {
			// Sparse writes in some pages, a run across others' boundary.
			if i%3 != 1 {
				m.Write(0x10000+uint64(i)*machine.PageSize+uint64(i*7), []byte{byte(i + 1), 0xaa, byte(i)})
			}
		}
		m.Write(0x10000+5*machine.PageSize-4, bytes.Repeat([]byte{0x55}, 12))
		return m
	}
	for _, gap := range []int{0, 16} {
		whole, left := kernel.AppendDeltaMax(nil, mk(), gap, 0)
		if left != 0 {
			t.Fatalf("gap %d: %d pages left without a budget", gap, left)
		}
		m := mk()
		var pieces []byte
		calls := 0
		for {
			out, left := kernel.AppendDeltaMax(nil, m, gap, 4)
			calls++
			touched := map[uint64]bool{}
			kernel.DecodeDelta(out, func(addr uint64, data []byte) {
				for a := addr; a < addr+uint64(len(data)); a++ {
					touched[a/machine.PageSize] = true
				}
			})
			if len(touched) > 4 {
				t.Errorf("gap %d: a piece covers %d pages, more than 4", gap, len(touched))
			}
			pieces = append(pieces, out...)
			if left == 0 {
				break
			}
			if calls > pages {
				t.Fatalf("gap %d: %d pages still left after %d calls", gap, left, calls)
			}
		}
		if calls < 3 {
			t.Errorf("gap %d: %d calls for a %d-page delta with a budget of 4", gap, calls, pages)
		}
		if a, b := flatten(whole), flatten(pieces); !bytes.Equal(a, b) {
			t.Errorf("gap %d: the pieces hold other bytes than the whole delta", gap)
		}
		if out, left := kernel.AppendDeltaMax(nil, m, gap, 4); len(out) != 0 || left != 0 {
			t.Errorf("gap %d: after the last piece: %d bytes, %d pages left", gap, len(out), left)
		}
	}
}

// flatten lists a delta as (address, byte) pairs in order.
func flatten(delta []byte) []byte {
	var out []byte
	kernel.DecodeDelta(delta, func(addr uint64, data []byte) {
		for i, b := range data {
			a := addr + uint64(i)
			out = append(out, byte(a), byte(a>>8), byte(a>>16), b)
		}
	})
	return out
}
