package changepoint

import (
	"context"
	"math"
	"sort"
)

// BottomUp is bottom-up segmentation: the signal is first cut on a fine
// grid, then neighbouring segments are merged, cheapest merge first, as in
// ruptures' BottomUp.
type BottomUp struct{ cfg searchConfig }

// NewBottomUp returns a bottom-up segmentation with the given cost, minimum
// segment length and grid step.
func NewBottomUp(cost Cost, minSize, jump int) (*BottomUp, error) {
	cfg, err := newSearchConfig(cost, minSize, jump)
	return &BottomUp{cfg}, err
}

// Name returns "bottomup".
func (b *BottomUp) Name() string { return "bottomup" }

// node is a segment of the merge tree (ruptures' Bnode). Nodes live in
// one slice and refer to their children by index (-1 for none).
type node struct {
	start, end  int32
	val         float64
	left, right int32
	// removed is set once the node has been merged into its parent
	// (ruptures' removed set, keyed like Bnode by start and end: the
	// segments of the leaves only grow, so no two live nodes share both).
	removed bool
}

// candidate is a possible merge: the node it would create, and its gain.
type candidate struct {
	gain float64
	n    int32
}

// Segment runs the search; all three stopping rules apply.
func (b *BottomUp) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := b.cfg.begin(ctx, "bottomup", s, stop, StopPenalty, StopCount, StopEpsilon); err != nil {
		return nil, err
	}
	cost := b.cfg.cost
	nodes := b.growTree(s.n)
	leaves := make([]int32, len(nodes)) // the current partition, by start
	for i := range nodes {
		nodes[i].val = cost.Error(int(nodes[i].start), int(nodes[i].end))
		leaves[i] = int32(i)
	}
	// merge creates the parent of l and r and returns its candidate, with
	// ruptures' Bnode.gain.
	merge := func(l, r int32) candidate {
		ln, rn := &nodes[l], &nodes[r]
		val := cost.Error(int(ln.start), int(rn.end))
		gain := 0.0
		if !math.IsInf(val, -1) {
			gain = val - (ln.val + rn.val)
		}
		nodes = append(nodes, node{start: ln.start, end: rn.end, val: val, left: l, right: r})
		return candidate{gain, int32(len(nodes) - 1)}
	}
	// Python orders (gain, Bnode) tuples by gain, then by start unless the
	// nodes are equal (same start and end).
	h := &pyHeap[candidate]{less: func(a, b candidate) bool {
		if a.gain != b.gain {
			return a.gain < b.gain
		}
		na, nb := &nodes[a.n], &nodes[b.n]
		return na.start < nb.start && !(na.start == nb.start && na.end == nb.end)
	}, items: make([]candidate, 0, len(leaves))}
	for i := 0; i+1 < len(leaves); i++ {
		h.push(merge(leaves[i], leaves[i+1]))
	}
	check := ctxEvery(ctx)
	for h.len() > 0 {
		if err := check(); err != nil {
			return nil, err
		}
		c := h.pop()
		for (nodes[nodes[c.n].left].removed || nodes[nodes[c.n].right].removed) && h.len() > 0 {
			c = h.pop()
		}
		if nodes[nodes[c.n].left].removed || nodes[nodes[c.n].right].removed {
			break // every candidate was stale: ruptures' IndexError
		}
		grow := false
		switch stop.Kind {
		case StopCount:
			grow = len(leaves) > stop.NBkps+1
		case StopPenalty:
			grow = c.gain < stop.Pen
		case StopEpsilon:
			sum := 0.0
			for _, l := range leaves {
				sum += nodes[l].val
			}
			grow = sum < stop.Epsilon
		}
		if !grow {
			break
		}
		nd := nodes[c.n]
		idx := sort.Search(len(leaves), func(i int) bool { return nodes[leaves[i]].start >= nodes[nd.left].start })
		leaves[idx] = c.n
		leaves = append(leaves[:idx+1], leaves[idx+2:]...)
		nodes[nd.left].removed, nodes[nd.right].removed = true, true
		if idx > 0 {
			h.push(merge(leaves[idx-1], c.n))
		}
		if idx < len(leaves)-1 {
			h.push(merge(c.n, leaves[idx+1]))
		}
	}
	bkps := make([]int, len(leaves))
	for i, l := range leaves {
		bkps[i] = int(nodes[l].end)
	}
	return finish(ctx, bkps)
}

// growTree returns ruptures' initial partition as leaf nodes (without
// their costs), sorted by start: [0, n)
// cut recursively at the admissible grid point nearest each segment's
// middle (the first of two at the same distance) until no segment can be
// cut.
//
// ruptures cuts the longest segment first (a heap) and stops as soon as
// the longest cannot be cut. Every segment but the last starts and ends on
// the grid, so whether it can be cut depends only on its length, and a
// last segment that can be cut is never shorter than an inner one that
// cannot: when the longest cannot be cut, none can. The order of the cuts
// therefore does not matter, and the partition is built depth first.
func (b *BottomUp) growTree(n int) []node {
	jump, minSize := b.cfg.jump, b.cfg.minSize
	leaves := n/max(jump, minSize) + 1
	out := make([]node, 0, 3*leaves) // room for the merges too
	var cut func(start, end int)
	cut = func(start, end int) {
		lo := ceilDiv(start+minSize, jump) * jump // the admissible grid points
		hi := (end - minSize) / jump * jump
		if lo > hi {
			out = append(out, node{start: int32(start), end: int32(end), left: -1, right: -1})
			return
		}
		// The grid points on either side of the middle, clamped; the
		// distances are doubled to stay in integers.
		below := min(max((start+end)/2/jump*jump, lo), hi)
		above := min(max(below+jump, lo), hi)
		bkp := below
		if abs(2*above-start-end) < abs(2*below-start-end) {
			bkp = above
		}
		cut(start, bkp)
		cut(bkp, end)
	}
	cut(0, n)
	return out
}
