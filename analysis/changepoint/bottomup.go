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

// node is a segment of the merge tree (ruptures' Bnode).
type node struct {
	start, end  int
	val         float64
	left, right *node
}

// gain is the cost increase of merging the node's two children.
func (n *node) gain() float64 {
	if n.left == nil || n.right == nil || math.IsInf(n.val, -1) {
		return 0
	}
	return n.val - (n.left.val + n.right.val)
}

type candidate struct {
	gain float64
	n    *node
}

// candidateLess is Python's (gain, Bnode) tuple order: gain, then start
// unless the nodes are equal (same start and end).
func candidateLess(a, b candidate) bool {
	if a.gain != b.gain {
		return a.gain < b.gain
	}
	if a.n.start == b.n.start && a.n.end == b.n.end {
		return false
	}
	return a.n.start < b.n.start
}

// Segment runs the search; all three stopping rules apply.
func (b *BottomUp) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := b.cfg.begin(ctx, "bottomup", s, stop, StopPenalty, StopCount, StopEpsilon); err != nil {
		return nil, err
	}
	n := s.n
	cost := b.cfg.cost
	leaves := b.growTree(n)
	merge := func(l, r *node) *node {
		return &node{start: l.start, end: r.end, val: cost.Error(l.start, r.end), left: l, right: r}
	}
	removed := map[[2]int]bool{}
	h := &pyHeap[candidate]{less: candidateLess}
	for i := 0; i+1 < len(leaves); i++ {
		c := merge(leaves[i], leaves[i+1])
		h.push(candidate{c.gain(), c})
	}
	isRemoved := func(x *node) bool { return removed[[2]int{x.start, x.end}] }
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if h.len() == 0 {
			break
		}
		c := h.pop()
		exhausted := false
		for isRemoved(c.n.left) || isRemoved(c.n.right) {
			if h.len() == 0 {
				exhausted = true
				break
			}
			c = h.pop()
		}
		if exhausted {
			break
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
				sum += l.val
			}
			grow = sum < stop.Epsilon
		}
		if !grow {
			break
		}
		leaf := c.n
		idx := sort.Search(len(leaves), func(i int) bool { return leaves[i].start >= leaf.left.start })
		leaves[idx] = leaf
		leaves = append(leaves[:idx+1], leaves[idx+2:]...)
		removed[[2]int{leaf.left.start, leaf.left.end}] = true
		removed[[2]int{leaf.right.start, leaf.right.end}] = true
		if idx > 0 {
			m := merge(leaves[idx-1], leaf)
			h.push(candidate{m.gain(), m})
		}
		if idx < len(leaves)-1 {
			m := merge(leaf, leaves[idx+1])
			h.push(candidate{m.gain(), m})
		}
	}
	bkps := make([]int, len(leaves))
	for i, l := range leaves {
		bkps[i] = l.end
	}
	return finish(ctx, bkps)
}

type span struct{ negLen, start, end int }

func spanLess(a, b span) bool {
	if a.negLen != b.negLen {
		return a.negLen < b.negLen
	}
	if a.start != b.start {
		return a.start < b.start
	}
	return a.end < b.end
}

// growTree cuts [0, n) recursively, longest segment first, at the grid
// point nearest its middle, until the longest segment cannot be cut.
func (b *BottomUp) growTree(n int) []*node {
	jump, minSize := b.cfg.jump, b.cfg.minSize
	h := &pyHeap[span]{less: spanLess}
	h.push(span{-n, 0, n})
	for {
		top := h.items[0]
		start, end := top.start, top.end
		mid := float64(start+end) * 0.5
		best, bestDist := -1, 0.0
		for bkp := ceilDiv(start, jump) * jump; bkp < end; bkp += jump {
			if bkp-start < minSize || end-bkp < minSize {
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
		h.push(span{start - best, start, best})
		h.push(span{best - end, best, end})
	}
	spans := h.items
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	leaves := make([]*node, len(spans))
	for i, sp := range spans {
		leaves[i] = &node{start: sp.start, end: sp.end, val: b.cfg.cost.Error(sp.start, sp.end)}
	}
	return leaves
}
