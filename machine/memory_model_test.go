package machine

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestMemoryModel checks Memory against a flat byte-array model under random
// writes (kernel and guest stores), clones, remaps and delta collections:
// contents always agree, and CollectDelta reports exactly the bytes that
// changed since the previous collection.
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
			b := make([]byte, 1+r.Intn(64))
			r.Read(b)
			if err := m.Write(base+uint64(off), b); err != nil {
				t.Fatal(err)
			}
			copy(model[off:], b)
		case op < 7: // guest store through the TLB
			off := r.Intn(len(model) - 8)
			v := r.Uint64()
			if cpu.tlbGen != m.gen { // as at Run entry
				cpu.flushTLB()
			}
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
			cpu.flushTLB()
		default: // collect
			for pg := range remapped {
				clear(snap[pg*PageSize : (pg+1)*PageSize])
			}
			clear(remapped)
			got := make([]byte, len(model))
			copy(got, snap)
			m.CollectDelta(func(addr uint64, data []byte) {
				off := int(addr - base)
				for i, b := range data {
					if snap[off+i] == b {
						t.Fatalf("delta reports unchanged byte at %#x", addr+uint64(i))
					}
				}
				copy(got[off:], data)
			})
			if !bytes.Equal(got, model) {
				t.Fatalf("snapshot + delta != memory at step %d", step)
			}
			copy(snap, model)
			cpu.flushTLB()
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
