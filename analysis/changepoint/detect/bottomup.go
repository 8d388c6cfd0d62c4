package detect

import (
	"context"
	"math"
	"slices"
	"sync"
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
	// exact is set once val is the cost's Error (not its estimate, see
	// boundedCost); gainExact once the candidate that creates the node
	// has its gain from exact values.
	exact, gainExact bool
}

// tree is the merge tree's nodes.
type tree []node

// stale reports whether c merges a node that is no longer a leaf.
func (t tree) stale(c candidate) bool {
	nd := &t[c.n]
	return t[nd.left].removed || t[nd.right].removed
}

// candidate is a possible merge: the node it would create, its gain, and
// the node's start, which breaks ties between equal gains.
type candidate struct {
	gain  float64
	start int32
	n     int32
}

// Segment runs the search; all three stopping rules apply.
func (b *BottomUp) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := b.cfg.begin(ctx, "bottomup", s, stop, StopPenalty, StopCount, StopEpsilon); err != nil {
		return nil, err
	}
	cost := b.cfg.cost
	buf, _ := bottomUpBuffers.Get().(*bottomUpScratch)
	if buf == nil {
		buf = new(bottomUpScratch)
	}
	defer buf.put()
	nodes := tree(b.growTree(s.n, buf.nodes))
	leaves := slices.Grow(buf.leaves[:0], len(nodes))[:len(nodes)] // the current partition, by start
	// With a bounded cost, the costs are estimates until a decision needs
	// them exactly; widest bounds every candidate's error.
	errorOf, exactOf, bound, bounded := estimatesOf(cost)
	widest := 0.0
	for i := range nodes {
		nodes[i].val = errorOf(int(nodes[i].start), int(nodes[i].end))
		nodes[i].exact = !bounded
		leaves[i] = int32(i)
	}
	gainOf := func(val float64, ln, rn *node) float64 {
		if math.IsInf(val, -1) {
			return 0
		}
		return val - (ln.val + rn.val)
	}
	// merge creates the parent of l and r and returns its candidate, with
	// ruptures' Bnode.gain. growTree left room for every node.
	merge := func(nodes tree, l, r int32) (tree, candidate) {
		ln, rn := &nodes[l], &nodes[r]
		val := errorOf(int(ln.start), int(rn.end))
		gain := gainOf(val, ln, rn)
		if bounded {
			// Three estimates, and the rounding of the two operations.
			m := 3*bound + 4*epsilon*(math.Abs(gain)+2*(math.Abs(val)+math.Abs(ln.val)+math.Abs(rn.val)))
			widest = max(widest, m)
		}
		nodes = append(nodes, node{start: ln.start, end: rn.end, val: val, left: l, right: r, exact: !bounded, gainExact: !bounded})
		return nodes, candidate{gain, ln.start, int32(len(nodes) - 1)}
	}
	exactVal := func(i int32) {
		if nd := &nodes[i]; !nd.exact {
			nd.val, nd.exact = exactOf(int(nd.start), int(nd.end)), true
		}
	}
	// exactGain gives c its gain from exact values.
	exactGain := func(c *candidate) {
		nd := &nodes[c.n]
		if nd.gainExact {
			return
		}
		exactVal(c.n)
		exactVal(nd.left)
		exactVal(nd.right)
		c.gain, nd.gainExact = gainOf(nd.val, &nodes[nd.left], &nodes[nd.right]), true
	}
	var near []candidate
	// At most one candidate per leaf pair, then two per merge.
	h := mergeHeap(slices.Grow(buf.heap[:0], 2*len(leaves)))
	for i := 0; i+1 < len(leaves); i++ {
		var c candidate
		nodes, c = merge(nodes, leaves[i], leaves[i+1])
		h.push(c)
	}
	for iter := 1; h.len() > 0; iter++ {
		if iter&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c := h.pop()
		for nodes.stale(c) && h.len() > 0 {
			c = h.pop()
		}
		if nodes.stale(c) {
			break // every candidate was stale: ruptures' IndexError
		}
		if bounded {
			// The least exact gain is among the candidates whose
			// estimates are within twice the widest error of the least
			// estimate; the others are strictly larger.
			near = append(near[:0], c)
			for h.len() > 0 && h[0].gain <= c.gain+2*widest {
				if x := h.pop(); !nodes.stale(x) {
					near = append(near, x)
				}
			}
			if len(near) > 1 {
				best := 0
				for i := range near {
					exactGain(&near[i])
					if near[i].less(near[best]) {
						best = i
					}
				}
				c = near[best]
				for i, x := range near {
					if i != best {
						h.push(x)
					}
				}
			} else if stop.Kind == StopPenalty && math.Abs(c.gain-stop.Pen) <= widest {
				exactGain(&c)
			}
		}
		grow := false
		switch stop.Kind {
		case StopCount:
			grow = len(leaves) > stop.NBkps+1
		case StopPenalty:
			grow = c.gain < stop.Pen
		case StopEpsilon:
			sum, size := 0.0, 0.0
			for _, l := range leaves {
				sum += nodes[l].val
				size += math.Abs(nodes[l].val)
			}
			if m := float64(len(leaves)) * (bound + 2*epsilon*size); bounded && math.Abs(sum-stop.Epsilon) <= m {
				sum = 0
				for _, l := range leaves {
					exactVal(l)
					sum += nodes[l].val
				}
			}
			grow = sum < stop.Epsilon
		}
		if !grow {
			break
		}
		nd := nodes[c.n]
		// The left child is a leaf: find it by its start.
		lo, hi := 0, len(leaves)
		for lo < hi {
			if mid := int(uint(lo+hi) >> 1); nodes[leaves[mid]].start < c.start {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		idx := lo
		leaves[idx] = c.n
		leaves = append(leaves[:idx+1], leaves[idx+2:]...)
		nodes[nd.left].removed, nodes[nd.right].removed = true, true
		if idx > 0 {
			nodes, c = merge(nodes, leaves[idx-1], leaves[idx])
			h.push(c)
		}
		if idx < len(leaves)-1 {
			nodes, c = merge(nodes, leaves[idx], leaves[idx+1])
			h.push(c)
		}
	}
	bkps := make([]int, len(leaves))
	for i, l := range leaves {
		bkps[i] = int(nodes[l].end)
	}
	buf.nodes, buf.leaves, buf.heap = nodes, leaves, h
	return finish(ctx, bkps)
}

// bottomUpScratch holds the buffers of one search, kept for the next
// (searches on short signals otherwise spend much of their time
// allocating and clearing them).
type bottomUpScratch struct {
	nodes  []node
	leaves []int32
	heap   []candidate
}

// bottomUpBuffers holds *bottomUpScratch values.
var bottomUpBuffers sync.Pool

// maxPooledNodes bounds the node buffer kept for the next search (2 MiB).
const maxPooledNodes = 1 << 16

// put returns b to bottomUpBuffers, unless its buffers are too large to
// keep around.
func (b *bottomUpScratch) put() {
	if cap(b.nodes) > maxPooledNodes {
		return
	}
	bottomUpBuffers.Put(b)
}

// mergeHeap is pyHeap specialised to candidates: Python orders (gain,
// Bnode) tuples by gain, then by start unless the nodes are equal (same
// start and end), which amounts to ordering by start. It moves items
// exactly as CPython's heapq does.
type mergeHeap []candidate

func (a candidate) less(b candidate) bool {
	if a.gain != b.gain {
		return a.gain < b.gain
	}
	return a.start < b.start
}

func (h mergeHeap) len() int { return len(h) }

// push is heapq.heappush.
func (h *mergeHeap) push(x candidate) {
	*h = append(*h, x)
	h.siftDown(0, len(*h)-1)
}

// pop is heapq.heappop; the heap must not be empty.
func (h *mergeHeap) pop() candidate {
	a := *h
	last := a[len(a)-1]
	a = a[:len(a)-1]
	*h = a
	if len(a) == 0 {
		return last
	}
	ret := a[0]
	a[0] = last
	h.siftUp(0)
	return ret
}

func (h mergeHeap) siftDown(start, pos int) {
	item := h[pos]
	for pos > start {
		parent := (pos - 1) >> 1
		if !item.less(h[parent]) {
			break
		}
		h[pos] = h[parent]
		pos = parent
	}
	h[pos] = item
}

func (h mergeHeap) siftUp(pos int) {
	end, start := len(h), pos
	item := h[pos]
	child := 2*pos + 1
	for child < end {
		if right := child + 1; right < end && !h[child].less(h[right]) {
			child = right
		}
		h[pos] = h[child]
		pos = child
		child = 2*pos + 1
	}
	h[pos] = item
	h.siftDown(start, pos)
}

// growTree returns ruptures' initial partition as leaf nodes (without
// their costs), sorted by start, in buf's memory: [0, n)
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
func (b *BottomUp) growTree(n int, buf []node) []node {
	jump, minSize := b.cfg.jump, b.cfg.minSize
	// Room for the merges too: one per pair of leaves, then two per merge.
	leaves := n/max(jump, minSize) + 1
	out := slices.Grow(buf[:0], 4*leaves)
	small := n <= 1<<30 && jump <= 1<<30 && minSize <= 1<<30
	// The segments still to cut, the next one last.
	var backing [64][2]int
	stack := append(backing[:0], [2]int{0, n})
	for len(stack) > 0 {
		start, end := stack[len(stack)-1][0], stack[len(stack)-1][1]
		stack = stack[:len(stack)-1]
		// The admissible grid points, and the one below the middle. No
		// division when there is none (rounding to the grid keeps lo > hi)
		// or the grid is every index; 32-bit division when it fits.
		lo, hi, mid := start+minSize, end-minSize, (start+end)/2
		if lo <= hi && jump > 1 {
			if small {
				j := uint32(jump)
				lo, hi, mid = int((uint32(lo)+j-1)/j*j), int(uint32(hi)/j*j), int(uint32(mid)/j*j)
			} else {
				lo, hi, mid = ceilDiv(lo, jump)*jump, hi/jump*jump, mid/jump*jump
			}
		}
		if lo > hi {
			out = append(out, node{start: int32(start), end: int32(end), left: -1, right: -1})
			continue
		}
		// The grid points on either side of the middle, clamped; the
		// distances are doubled to stay in integers.
		below := min(max(mid, lo), hi)
		above := min(max(below+jump, lo), hi)
		bkp := below
		if abs(2*above-start-end) < abs(2*below-start-end) {
			bkp = above
		}
		stack = append(stack, [2]int{bkp, end}, [2]int{start, bkp})
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
