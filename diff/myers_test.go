package diff

import (
	"math/rand/v2"
	"testing"
)

// apply checks that script turns a into b and returns its cost.
func apply(t *testing.T, a, b []uint64, script []edit) int {
	t.Helper()
	i, j, cost := 0, 0, 0
	for _, e := range script {
		switch e.op {
		case opSame:
			if e.i != i || e.j != j || a[i] != b[j] {
				t.Fatalf("same step %+v at (%d,%d)", e, i, j)
			}
			i, j = i+1, j+1
		case opDel:
			if e.i != i {
				t.Fatalf("del step %+v at (%d,%d)", e, i, j)
			}
			i, cost = i+1, cost+1
		case opIns:
			if e.j != j {
				t.Fatalf("ins step %+v at (%d,%d)", e, i, j)
			}
			j, cost = j+1, cost+1
		}
	}
	if i != len(a) || j != len(b) {
		t.Fatalf("script ends at (%d,%d), want (%d,%d)", i, j, len(a), len(b))
	}
	return cost
}

func TestAlign(t *testing.T) {
	cases := []struct {
		name string
		a, b []uint64
		cost int
	}{
		{"equal", []uint64{1, 2, 3}, []uint64{1, 2, 3}, 0},
		{"empty a", nil, []uint64{1, 2}, 2},
		{"empty b", []uint64{1, 2}, nil, 2},
		{"insert", []uint64{1, 2, 3, 4}, []uint64{1, 2, 9, 3, 4}, 1},
		{"delete", []uint64{1, 2, 9, 3, 4}, []uint64{1, 2, 3, 4}, 1},
		{"change", []uint64{1, 2, 3, 4}, []uint64{1, 7, 3, 4}, 2},
		{"abcabba", []uint64{1, 2, 3, 1, 2, 2, 1}, []uint64{3, 2, 1, 2, 1, 3}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := apply(t, tc.a, tc.b, align(tc.a, tc.b)); got != tc.cost {
				t.Errorf("align(%v, %v) costs %d, want %d", tc.a, tc.b, got, tc.cost)
			}
		})
	}
}

// TestAlignRandom checks scripts are valid and minimal-ish on random edits.
func TestAlignRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		a := make([]uint64, rng.IntN(200))
		for i := range a {
			a[i] = rng.Uint64N(20)
		}
		b := append([]uint64(nil), a...)
		edits := rng.IntN(6)
		for e := 0; e < edits && len(b) > 0; e++ {
			p := rng.IntN(len(b))
			if rng.IntN(2) == 0 {
				b = append(b[:p], b[p+1:]...)
			} else {
				b = append(b[:p], append([]uint64{100 + rng.Uint64N(5)}, b[p:]...)...)
			}
		}
		if cost := apply(t, a, b, align(a, b)); cost > edits {
			t.Fatalf("iteration %d: cost %d for %d edits", iter, cost, edits)
		}
	}
	// Unrelated sequences past the search bound fall back to lock-step
	// and are still a valid script.
	a := make([]uint64, 3*maxEditCost)
	b := make([]uint64, 3*maxEditCost+5)
	for i := range a {
		a[i] = uint64(i)
	}
	for i := range b {
		b[i] = uint64(i) + 1<<40
	}
	apply(t, a, b, align(a, b))
}
