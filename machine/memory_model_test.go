package machine

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestMemoryModel checks Memory against a flat byte-array model under random
// writes (kernel and guest stores), clones, remaps and delta collections:
// contents always agree, and CollectDelta reports every byte that changed
// since the previous collection, in ranges that start and end with a changed
// byte and hold no run of gap unchanged bytes, at least gap bytes apart.
func TestMemoryModel(t *testing.T) {
	const base, npages = 0x100000, 8
	r := rand.New(rand.NewSource(7))
	m := NewMemory()
	m.Map(base, npages*PageSize, ProtRead|ProtWrite)
	model := make([]byte, npages*PageSize)
	snap := make([]byte, len(model))
	cpu := NewCPU(m)
	remapped := map[int]bool{} // pages mapped since the last collect: their base is zero
	var clones []*Memory
	var cloneModels [][]byte
	for step := 0; step < 3000; step++ {
		switch op := r.Intn(10); {
		case op < 5: // kernel write
			off := r.Intn(len(model) - 64)
			if r.Intn(2) == 0 { // near a page boundary
				off = (1+r.Intn(npages-1))*PageSize - 32
			}
			b := make([]byte, 1+r.Intn(64))
			r.Read(b)
			if r.Intn(2) == 0 { // sparse: mostly the bytes already there
				copy(b, model[off:])
				for k := r.Intn(4); k >= 0; k-- {
					b[r.Intn(len(b))] ^= byte(1 + r.Intn(255))
				}
			}
			if err := m.Write(base+uint64(off), b); err != nil {
				t.Fatal(err)
			}
			copy(model[off:], b)
		case op < 7: // guest store through the TLB
			off := r.Intn(len(model) - 8)
			v := r.Uint64()
			cpu.syncTLB() // as at Run entry
			if !cpu.wr(base+uint64(off), 8, v) {
				t.Fatalf("guest store faulted: %+v", cpu.pend)
			}
			le.PutUint64(model[off:], v)
			if got, ok := cpu.rd(base+uint64(off), 8); !ok || got != v {
				t.Fatalf("guest load after store = %#x, want %#x", got, v)
			}
		case op == 7: // clone
			clones = append(clones, m.Clone())
			cloneModels = append(cloneModels, bytes.Clone(model))
			if cpu.tlbGen != m.gen {
				cpu.flushTLB()
			}
		case op == 8: // remap a page: it reads as zero again
			pg := r.Intn(npages)
			m.Map(base+uint64(pg)*PageSize, PageSize, ProtRead|ProtWrite)
			clear(model[pg*PageSize : (pg+1)*PageSize])
			remapped[pg] = true
		default: // collect
			for pg := range remapped {
				clear(snap[pg*PageSize : (pg+1)*PageSize])
			}
			clear(remapped)
			got := make([]byte, len(model))
			copy(got, snap)
			prevEnd := 0
			gap := []int{0, 1, 16}[r.Intn(3)]
			m.CollectDelta(gap, func(addr uint64, data []byte) {
				off := int(addr - base)
				if prevEnd > 0 && off < prevEnd+max(gap, 1) {
					t.Fatalf("range at %#x closer than gap %d to the previous one", addr, gap)
				}
				if snap[off] == data[0] || snap[off+len(data)-1] == data[len(data)-1] {
					t.Fatalf("delta range %#x+%d starts or ends with an unchanged byte", addr, len(data))
				}
				same := 0
				for i, b := range data {
					if snap[off+i] == b {
						if same++; same >= max(gap, 1) {
							t.Fatalf("delta range %#x+%d holds %d unchanged bytes in a row", addr, len(data), same)
						}
					} else {
						same = 0
					}
				}
				prevEnd = off + len(data)
				copy(got[off:], data)
			})
			if !bytes.Equal(got, model) {
				t.Fatalf("snapshot + delta != memory at step %d", step)
			}
			copy(snap, model)
		}
		if step%100 == 0 {
			all := make([]byte, len(model))
			if err := m.Read(base, all); err != nil || !bytes.Equal(all, model) {
				t.Fatalf("memory differs from the model at step %d", step)
			}
			for i, c := range clones {
				if err := c.Read(base, all); err != nil || !bytes.Equal(all, cloneModels[i]) {
					t.Fatalf("clone %d changed at step %d", i, step)
				}
			}
		}
	}
}
