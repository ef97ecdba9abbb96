package machine

import "testing"

// TestChangedPagesIgnoresClones: writing pages that a clone shares copies
// them again and lists them again (DirtyPages grows), but ChangedPages
// counts each changed page once, as it would without the clone.
func TestChangedPagesIgnoresClones(t *testing.T) {
	m := NewMemory()
	m.Map(0x10000, 16*PageSize, ProtRead|ProtWrite)
	m.CollectDelta(0, func(uint64, []byte) {})
	write := func(pages int) {
		for i := 0; i < pages; i++ {
			if err := m.Write(0x10000+uint64(i)*PageSize, []byte{byte(i + 1)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(8)
	if n := m.ChangedPages(); n != 8 {
		t.Fatalf("ChangedPages = %d after writing 8 pages, want 8", n)
	}
	clone := m.Clone() // a checkpoint: the pages are shared again
	write(8)
	if m.DirtyPages() <= 8 {
		t.Logf("DirtyPages = %d: writes after the clone were not listed again", m.DirtyPages())
	}
	if n := m.ChangedPages(); n != 8 {
		t.Errorf("ChangedPages = %d after writing the same 8 pages after a clone, want 8", n)
	}
	write(10)
	if n := m.ChangedPages(); n != 10 {
		t.Errorf("ChangedPages = %d after writing 10 pages, want 10", n)
	}
	if n := clone.ChangedPages(); n != 8 {
		t.Errorf("the clone's ChangedPages = %d, want 8", n)
	}
}
