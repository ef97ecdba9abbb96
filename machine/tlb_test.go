package machine

import (
	"bytes"
	"math/rand"
	"testing"
)

// TestTLBModel checks guest loads and stores through the software TLBs of
// two CPUs sharing a memory (two threads) against a model of the pages'
// contents and protections, under random kernel writes, mmap, munmap,
// mprotect, fork (Memory.Clone), delta collections (which make pages
// copy-on-write again) and decoding of code on the pages, for CPUs whose
// TLBs are unallocated, small, grown to tlbLarge, and cloned. The pages
// include ones whose numbers collide in the small and the large TLB.
func TestTLBModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		grow int // distinct pages read first: fills before the model runs
	}{
		{"fresh", 0},
		{"small", 100},
		{"large", tlbGrowFills + 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testTLBModel(t, tc.grow)
		})
	}
}

func testTLBModel(t *testing.T, grow int) {
	const base = 0x1000000 // page number 0x1000
	pns := []uint64{0, 1, 2, 3, tlbSmall, tlbSmall + 1, tlbLarge, tlbLarge + 1, 2 * tlbLarge}
	const all = ProtRead | ProtWrite | ProtExec
	r := rand.New(rand.NewSource(int64(11 + grow)))
	m := NewMemory()
	for _, pn := range pns {
		m.Map(base+pn*PageSize, PageSize, all)
	}
	cpus := []*CPU{NewCPU(m), NewCPU(m)}
	if grow > 0 {
		const far = 0x40000000
		m.Map(far, uint64(grow)*PageSize, ProtRead)
		for i := 0; i < grow; i++ {
			cpus[0].syncTLB()
			if _, ok := cpus[0].rd(far+uint64(i)*PageSize, 8); !ok {
				t.Fatalf("read of the grow region faulted: %+v", cpus[0].pend)
			}
		}
		want := uint64(tlbSmall - 1)
		if grow > tlbGrowFills {
			want = tlbLarge - 1
		}
		if cpus[0].tlbMask != want {
			t.Fatalf("after %d fills the TLB mask is %#x, want %#x", grow, cpus[0].tlbMask, want)
		}
		cpus[1] = cpus[0].Clone(m)
		if len(cpus[1].rtlb) != 1 {
			t.Fatalf("a clone has a %d-entry TLB, want none", len(cpus[1].rtlb))
		}
	}
	model := make([][]byte, len(pns))
	prot := make([]Prot, len(pns))
	for i := range model {
		model[i] = make([]byte, PageSize)
		prot[i] = all
	}
	type fork struct {
		m     *Memory
		model [][]byte
	}
	var forks []fork
	addr := func(i, off int) uint64 { return base + pns[i]*PageSize + uint64(off) }
	for step := 0; step < 6000; step++ {
		i := r.Intn(len(pns))
		switch op := r.Intn(20); {
		case op < 12: // a run of guest accesses by one CPU, as inside one Run
			c := cpus[r.Intn(2)]
			c.syncTLB()
			for n := 1 + r.Intn(8); n > 0; n-- {
				i := r.Intn(len(pns))
				off := r.Intn(PageSize - 8)
				a := addr(i, off)
				if r.Intn(2) == 0 {
					v := r.Uint64()
					ok := c.wr(a, 8, v)
					if want := prot[i] != 0 && prot[i]&ProtWrite != 0; ok != want {
						t.Fatalf("step %d: store to page %#x (prot %v) succeeded=%v", step, pns[i], prot[i], ok)
					}
					if ok {
						le.PutUint64(model[i][off:], v)
					} else if c.pend.Reason != ExitPageFault || c.pend.Addr != a || c.pend.Access != AccessWrite {
						t.Fatalf("step %d: store fault %+v", step, c.pend)
					}
				} else {
					v, ok := c.rd8(a)
					if !ok {
						v, ok = c.rd(a, 8)
					}
					if want := prot[i]&ProtRead != 0; ok != want {
						t.Fatalf("step %d: load from page %#x (prot %v) succeeded=%v", step, pns[i], prot[i], ok)
					}
					if ok && v != le.Uint64(model[i][off:]) {
						t.Fatalf("step %d: load from page %#x+%#x = %#x, want %#x (stale translation)", step, pns[i], off, v, le.Uint64(model[i][off:]))
					}
				}
			}
		case op == 12: // kernel write
			off := r.Intn(PageSize - 16)
			b := make([]byte, 1+r.Intn(16))
			r.Read(b)
			err := m.Write(addr(i, off), b)
			if (err == nil) != (prot[i]&ProtWrite != 0) {
				t.Fatalf("step %d: kernel write to prot %v: %v", step, prot[i], err)
			}
			if err == nil {
				copy(model[i][off:], b)
			}
		case op == 13: // mmap: fresh zero page
			p := []Prot{all, ProtRead, ProtRead | ProtWrite}[r.Intn(3)]
			m.Map(addr(i, 0), PageSize, p)
			clear(model[i])
			prot[i] = p
		case op == 14: // munmap
			m.Unmap(addr(i, 0), PageSize)
			clear(model[i])
			prot[i] = 0
		case op == 15: // mprotect (of a mapped page)
			if prot[i] != 0 {
				p := []Prot{all, ProtRead, 0, ProtRead | ProtWrite}[r.Intn(4)]
				if p == 0 {
					p = ProtExec // mapped but neither readable nor writable
				}
				m.Protect(addr(i, 0), PageSize, p)
				prot[i] = p
			}
		case op == 16: // fork
			f := fork{m: m.Clone()}
			for _, b := range model {
				f.model = append(f.model, bytes.Clone(b))
			}
			forks = append(forks, f)
		case op == 17: // delta collection
			m.CollectDelta(0, func(uint64, []byte) {})
		case op == 18: // decode code on the page (a later store must drop it)
			if prot[i]&ProtExec != 0 {
				c := cpus[r.Intn(2)]
				c.syncTLB()
				if _, ok := c.fetch(addr(i, r.Intn(PageSize-16))); !ok && c.pend.Reason != ExitUD {
					t.Fatalf("step %d: fetch faulted: %+v", step, c.pend)
				}
			}
		default: // check the whole memory and the forks
			for j := range pns {
				got := make([]byte, PageSize)
				_, err := m.ReadForce(addr(j, 0), got)
				if (err == nil) != (prot[j] != 0) || err == nil && !bytes.Equal(got, model[j]) {
					t.Fatalf("step %d: page %#x differs from the model (err %v)", step, pns[j], err)
				}
			}
			for k, f := range forks {
				for j := range pns {
					got := make([]byte, PageSize)
					if _, err := f.m.ReadForce(addr(j, 0), got); err == nil && !bytes.Equal(got, f.model[j]) {
						t.Fatalf("step %d: fork %d page %#x changed", step, k, pns[j])
					}
				}
			}
		}
	}
}

// TestCodeCacheInvalidation checks that a CPU's cache of decoded code
// pages never runs stale code: a page of code called, then rewritten by
// the guest from another page (within one Run), by the kernel or a
// debugger between Runs, made non-executable, and unmapped and mapped
// again with other code, is decoded afresh each time.
func TestCodeCacheInvalidation(t *testing.T) {
	// Page 0: call f; mov ebx, eax; mov byte [f+1], 2; call f; int3.
	// Page 1 (f): mov eax, 1; ret.
	main := unhex(t, "e8fb0f0000"+"89c3"+"c605f30f000002"+"e8ed0f0000"+"cc")
	f := unhex(t, "b801000000c3")
	m := NewMemory()
	m.Map(testCode, 2*PageSize, ProtRead|ProtWrite|ProtExec)
	m.Write(testCode, main)
	m.Write(testCode+PageSize, f)
	m.Map(testStack-PageSize, PageSize, ProtRead|ProtWrite)
	c := NewCPU(m)
	run := func(rip uint64) Exit {
		c.RIP, c.Regs[RSP] = rip, testStack
		return c.Run(100)
	}
	if ex := run(testCode); ex.Reason != ExitBreakpoint || c.Regs[RBX] != 1 || c.Regs[RAX] != 2 {
		t.Fatalf("guest rewrite of a called page: %+v rbx %d rax %d, want breakpoint, 1, 2", ex, c.Regs[RBX], c.Regs[RAX])
	}
	// The call target is now mov eax, 2. A debugger patches it to 3.
	m.WriteForce(testCode+PageSize+1, []byte{3})
	if ex := run(testCode + 14); ex.Reason != ExitBreakpoint || c.Regs[RAX] != 3 {
		t.Fatalf("after WriteForce: %+v rax %d, want breakpoint, 3", ex, c.Regs[RAX])
	}
	// Another thread, which has the page cached, after a kernel write.
	other := NewCPU(m)
	other.RIP, other.Regs[RSP] = testCode+14, testStack
	other.Run(100)
	m.Write(testCode+PageSize+1, []byte{4})
	other.RIP, other.Regs[RSP] = testCode+14, testStack
	if ex := other.Run(100); ex.Reason != ExitBreakpoint || other.Regs[RAX] != 4 {
		t.Fatalf("other thread after a kernel write: %+v rax %d, want breakpoint, 4", ex, other.Regs[RAX])
	}
	// Not executable any more: the call faults at f.
	m.Protect(testCode+PageSize, PageSize, ProtRead)
	if ex := run(testCode + 14); ex.Reason != ExitPageFault || ex.Access != AccessExec || c.RIP != testCode+PageSize {
		t.Fatalf("after mprotect: %+v rip %#x, want an exec fault at f", ex, c.RIP)
	}
	// Unmapped, and mapped again with other code.
	m.Unmap(testCode+PageSize, PageSize)
	m.Map(testCode+PageSize, PageSize, ProtRead|ProtWrite|ProtExec)
	m.Write(testCode+PageSize, unhex(t, "b805000000c3"))
	if ex := run(testCode + 14); ex.Reason != ExitBreakpoint || c.Regs[RAX] != 5 {
		t.Fatalf("after remap: %+v rax %d, want breakpoint, 5", ex, c.Regs[RAX])
	}
}
