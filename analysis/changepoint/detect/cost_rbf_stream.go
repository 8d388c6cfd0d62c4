package detect

import (
	"math"
	"sync"
)

// rbfStream holds, for the segments [s, cur) with s >= low on the grid
// (the multiples of grid), the sum of the kernel over their pairs, in
// O(n) memory and with only the kernel values of starts the search still
// considers. Each sum gets the same additions in the same order as
// gramSums' table (so the costs are the same): per new column, the
// column's values from the diagonal down, added to the sum as one
// running total.
type rbfStream struct {
	sums     []float64 // sums[s], s on the grid: pairs of [s, cur); NaN off it
	grid     int
	cur, low int
	// cols[k] holds the kernel column c0+k of a group of columns, rows
	// from low, zero from the diagonal on (adding zero to a running total
	// of values >= 0 changes nothing).
	cols [streamGroup][]float64
	// With AVX2, the signal column-major for kernelRows, stride rows per
	// dimension: n, then zeros up to a multiple of 8 and 8 more.
	soa    []float64
	stride int
	buf    []float64 // sums, cols and soa
}

// streamGroup is how many columns streamTo adds at once: their running
// totals are independent, so the processor overlaps their additions. It
// is Pelt's default jump (5 new columns a step): a smaller group leaves
// a step's last columns to a group of their own, which passes over every
// row again.
const streamGroup = 5

// rbfStreams holds released streams' memory for the next Fit: at a few
// hundred samples, allocating and faulting in fresh buffers costs as much
// as a tenth of the search.
var rbfStreams = sync.Pool{New: func() any { return new(rbfStream) }}

// newRBFStream returns empty running sums for s, on the multiples of grid.
func newRBFStream(s *Signal, grid int) *rbfStream {
	st := rbfStreams.Get().(*rbfStream)
	n := s.n
	st.stride = 0
	if vectorAVX2 {
		st.stride = (n+7)&^7 + 8
	}
	// Each column has room for kernelRows' rounding up (n+8).
	need := n + 1 + streamGroup*(n+9) + st.stride*s.d
	if cap(st.buf) < need {
		st.buf = make([]float64, need)
	}
	buf := st.buf[:need]
	st.sums, buf = buf[:n+1], buf[n+1:]
	for k := range st.cols {
		st.cols[k], buf = buf[:n+9:n+9], buf[n+9:]
	}
	st.soa = nil
	if st.stride > 0 {
		st.soa = buf
		fillColumnMajor(st.soa, s, st.stride)
	}
	st.grid, st.cur, st.low = grid, 0, 0
	return st
}

// streamDone gives the running sums' memory back once the search is over;
// later segments get Error's direct sum.
func (c *CostRBF) streamDone() {
	c.streamGrid = 0
	if c.stream != nil {
		rbfStreams.Put(c.stream)
		c.stream = nil
	}
}

// streamSegments tells the next Fit that the search asks for segments in
// order of their end, from starts on the multiples of grid that never
// decrease (Pelt's admissible set), calling streamTo first.
func (c *CostRBF) streamSegments(grid int) { c.streamGrid = max(grid, 1) }

// streamTo extends the running sums to the segments ending at end, from
// the starts at or after low.
func (c *CostRBF) streamTo(end, low int) {
	st := c.stream
	if st == nil || end <= st.cur {
		return
	}
	g := st.grid
	low = max(low, st.low)
	first := (low + g - 1) / g * g // the first start kept
	// The new starts: 0 on the grid ([s, s+1) has no pair), NaN off it
	// (no sum kept; Error then computes it).
	for s := st.cur; s < end; s++ {
		st.sums[s] = math.NaN()
	}
	for s := max(first, (st.cur+g-1)/g*g); s < end; s += g {
		st.sums[s] = 0
	}
	for c0 := st.cur; c0 < end; c0 += streamGroup {
		top := min(c0+streamGroup, end) - 1 // the group's last column
		if top <= first {
			continue // no pair of [first, top] beyond the diagonal
		}
		// Rows first .. top-1 of columns c0 .. c0+4.
		rows := top - first
		for k := range st.cols {
			col := st.cols[k][:rows+1]
			ck := c0 + k
			if ck <= first || ck > top {
				clear(col) // not a column of [first, top], or no row
				continue
			}
			c.kernelRows(ck, first, col[:cap(col)])
			clear(col[ck-first:])
		}
		c0s, c1s, c2s, c3s, c4s := st.cols[0][:rows], st.cols[1][:rows], st.cols[2][:rows], st.cols[3][:rows], st.cols[4][:rows]
		var a0, a1, a2, a3, a4 float64
		i := rows - 1
		for s := first + (top-1-first)/g*g; s >= first; s -= g {
			for ; i >= s-first; i-- {
				a0 += c0s[i]
				a1 += c1s[i]
				a2 += c2s[i]
				a3 += c3s[i]
				a4 += c4s[i]
			}
			st.sums[s] = st.sums[s] + a0 + a1 + a2 + a3 + a4
		}
	}
	st.cur, st.low = end, low
}
