package replay_test

import (
	"slices"
	"testing"
)

// TestCheckpointMemory: checkpoint memory is counted in pages, so where
// checkpoints land is the same in every run; it stays under the cap (twice
// the guest's peak resident memory, 4 MiB at least); and reverse steps are
// still exact when the cap leaves only the start and the latest checkpoint.
func TestCheckpointMemory(t *testing.T) {
	trace := recordTrace(t, "spin.musl", "mem", "12")
	run := func(memory uint64) ([]uint64, [4]uint64, []string) {
		r := newReplayer(t, trace)
		r.SetCheckpointPolicy(200_000, memory)
		var hashes []string
		for _, k := range []uint64{3_000_000, 9_000_000, 1_500_000, 12_000_000, 700_000} {
			if err := r.GotoIcount(k); err != nil {
				t.Fatal(err)
			}
			h := r.Hash()
			r.SetDirection(1)
			if err := r.Step(1000); err != nil {
				t.Fatal(err)
			}
			r.SetDirection(0)
			if err := r.Step(1000); err != nil {
				t.Fatal(err)
			}
			if got := r.Hash(); got != h {
				t.Fatalf("@%d: rstep 1000; step 1000: hash %s, want %s", k, got, h)
			}
			hashes = append(hashes, h)
		}
		pages, overhead, rss, peak := r.CheckpointMemory()
		return r.Checkpoints(), [4]uint64{pages, overhead, rss, peak}, hashes
	}
	c1, m1, h1 := run(0)
	c2, m2, h2 := run(0)
	if !slices.Equal(c1, c2) || m1 != m2 || !slices.Equal(h1, h2) {
		t.Fatalf("two runs: checkpoints %v, memory %v; then %v, %v", c1, m1, c2, m2)
	}
	peak := m1[3]
	if peak < 8<<20 {
		t.Fatalf("guest peak resident %d bytes, want at least 8 MiB", peak)
	}
	if cost := m1[0] + m1[1]; cost > 2*peak || len(c1) < 4 {
		t.Fatalf("%d checkpoints cost %d bytes (pages %d, kernel copies %d), cap %d", len(c1), cost, m1[0], m1[1], 2*peak)
	}
	t.Logf("%d checkpoints %v: %.2fx the guest's peak resident memory", len(c1), c1, float64(m1[0]+m1[1])/float64(peak))
	c3, _, h3 := run(1)
	if len(c3) > 2 || !slices.Equal(h1, h3) {
		t.Fatalf("with a 1-byte cap: checkpoints %v, hashes %v, want %v", c3, h3, h1)
	}
}
