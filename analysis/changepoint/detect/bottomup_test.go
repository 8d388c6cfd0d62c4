package detect

import (
	"math"
	"slices"
	"testing"
)

// growTreeReference is ruptures' _grow_tree: a heap of (-length, start,
// end), the longest segment cut first at the admissible grid point
// nearest its middle, until the longest cannot be cut.
func growTreeReference(n, jump, minSize int) []node {
	type item struct{ negLen, start, end int }
	h := &pyHeap[item]{less: func(a, b item) bool {
		if a.negLen != b.negLen {
			return a.negLen < b.negLen
		}
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end < b.end
	}}
	h.push(item{-n, 0, n})
	for {
		top := h.items[0]
		mid := float64(top.start+top.end) * 0.5
		best, bestDist := -1, 0.0
		for bkp := top.start; bkp < top.end; bkp++ {
			if bkp%jump != 0 || bkp-top.start < minSize || top.end-bkp < minSize {
				continue
			}
			if d := math.Abs(float64(bkp) - mid); best < 0 || d < bestDist {
				best, bestDist = bkp, d
			}
		}
		if best < 0 {
			break
		}
		h.pop()
		h.push(item{top.start - best, top.start, best})
		h.push(item{best - top.end, best, top.end})
	}
	out := make([]node, len(h.items))
	for i, it := range h.items {
		out[i] = node{start: int32(it.start), end: int32(it.end), left: -1, right: -1}
	}
	slices.SortFunc(out, func(a, b node) int { return int(a.start - b.start) })
	return out
}

// TestGrowTree checks the depth-first initial partition against ruptures'
// heap order for every small n, jump and min_size.
func TestGrowTree(t *testing.T) {
	for n := 1; n <= 160; n++ {
		for jump := 1; jump <= 9; jump++ {
			for minSize := 1; minSize <= 9; minSize++ {
				b := &BottomUp{searchConfig{jump: jump, minSize: minSize}}
				got, want := b.growTree(n, nil), growTreeReference(n, jump, minSize)
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d jump=%d min_size=%d: got %v, want %v", n, jump, minSize, got, want)
				}
			}
		}
	}
}

// TestMergeHeap checks that mergeHeap pops candidates in the order of
// pyHeap with ruptures' (gain, Bnode) ordering, ties included.
func TestMergeHeap(t *testing.T) {
	rng := newRand(5)
	for rep := 0; rep < 200; rep++ {
		ref := &pyHeap[candidate]{less: func(a, b candidate) bool {
			if a.gain != b.gain {
				return a.gain < b.gain
			}
			return a.start < b.start
		}}
		var h mergeHeap
		for i := 0; i < 500; i++ {
			if h.len() > 0 && rng.IntN(3) == 0 {
				if got, want := h.pop(), ref.pop(); got != want {
					t.Fatalf("rep %d, op %d: popped %+v, want %+v", rep, i, got, want)
				}
				continue
			}
			c := candidate{gain: float64(rng.IntN(4)), start: int32(rng.IntN(6)), n: int32(i)}
			h.push(c)
			ref.push(c)
		}
		for h.len() > 0 {
			if got, want := h.pop(), ref.pop(); got != want {
				t.Fatalf("rep %d: popped %+v, want %+v", rep, got, want)
			}
		}
	}
}
