package diff

// opKind is one step of an edit script.
type opKind uint8

const (
	opSame opKind = iota // a[i] and b[j] align
	opDel                // a[i] only in A
	opIns                // b[j] only in B
)

// edit is one step of an alignment: for opSame both indices are set, for
// opDel only i, for opIns only j (the other is the position it falls at).
type edit struct {
	op   opKind
	i, j int
}

// maxEditCost bounds Myers' search (D, the number of insertions plus
// deletions): past it the alignment of the remaining middle falls back to
// lock-step, so two unrelated traces cost O(N·maxEditCost), not O(N²).
const maxEditCost = 2048

// align returns an edit script turning a into b: common prefix and suffix
// are matched directly, the middle with Myers' O((N+M)·D) algorithm
// ("An O(ND) Difference Algorithm and Its Variations", 1986), which is
// linear when the traces differ in a few places.
func align(a, b []uint64) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := make([]edit, 0, max(len(a), len(b))+8)
	for k := 0; k < pre; k++ {
		out = append(out, edit{opSame, k, k})
	}
	out = append(out, myers(a[pre:len(a)-suf], b[pre:len(b)-suf], pre, pre)...)
	for k := 0; k < suf; k++ {
		out = append(out, edit{opSame, len(a) - suf + k, len(b) - suf + k})
	}
	return out
}

// myers aligns a and b (offsets ai, bi are added to the indices returned).
func myers(a, b []uint64, ai, bi int) []edit {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		var out []edit
		for i := 0; i < n; i++ {
			out = append(out, edit{opDel, ai + i, bi})
		}
		for j := 0; j < m; j++ {
			out = append(out, edit{opIns, ai, bi + j})
		}
		return out
	}
	maxD := min(n+m, maxEditCost)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int // v after each round, for the backtrack
	found := -1
	for d := 0; d <= maxD && found < 0; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = d
				break
			}
		}
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
	}
	if found < 0 {
		return lockstep(a, b, ai, bi)
	}
	// Backtrack from (n, m).
	var rev []edit
	x, y := n, m
	for d := found; d > 0; d-- {
		prev := trace[d-1] // covers k in [-(d-1)-1, (d-1)+1]
		at := func(k int) int { return prev[k+d] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x--
			y--
			rev = append(rev, edit{opSame, ai + x, bi + y})
		}
		if x == px {
			y--
			rev = append(rev, edit{opIns, ai + x, bi + y})
		} else {
			x--
			rev = append(rev, edit{opDel, ai + x, bi + y})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, edit{opSame, ai + x, bi + y})
	}
	out := make([]edit, len(rev))
	for i := range rev {
		out[i] = rev[len(rev)-1-i]
	}
	return out
}

// lockstep aligns a and b position by position: the fallback when they
// differ too much for an edit script to mean anything.
func lockstep(a, b []uint64, ai, bi int) []edit {
	var out []edit
	n := min(len(a), len(b))
	for k := 0; k < n; k++ {
		if a[k] == b[k] {
			out = append(out, edit{opSame, ai + k, bi + k})
		} else {
			out = append(out, edit{opDel, ai + k, bi + k}, edit{opIns, ai + k + 1, bi + k})
		}
	}
	for k := n; k < len(a); k++ {
		out = append(out, edit{opDel, ai + k, bi + n})
	}
	for k := n; k < len(b); k++ {
		out = append(out, edit{opIns, ai + n, bi + k})
	}
	return out
}
