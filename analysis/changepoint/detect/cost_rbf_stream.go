package detect

// rbfStream holds, for the segments [s, cur) with s >= low on the grid
// (the multiples of grid), the sum of the kernel over their pairs, in
// O(n) memory and with only the kernel values of starts the search still
// considers. Each sum gets the same additions in the same order as
// gramSums' table (so the costs are the same): per new column, the
// column's values from the diagonal down, added to the sum as one
// running total.
type rbfStream struct {
	sums     []float64 // sums[s], s on the grid: pairs of [s, cur)
	grid     int
	cur, low int
	// cols[k] holds the kernel column c0+k of a group of columns, rows
	// from low, zero from the diagonal on (adding zero to a running total
	// of values >= 0 changes nothing).
	cols [streamGroup][]float64
}

// streamGroup is how many columns streamTo adds at once: their running
// totals are independent, so the processor overlaps their additions. It
// is Pelt's default jump (5 new columns a step): a smaller group leaves
// a step's last columns to a group of their own, which passes over every
// row again.
const streamGroup = 5

func newRBFStream(n, grid int) *rbfStream {
	st := &rbfStream{sums: make([]float64, n+1), grid: grid}
	// Room for kernelRows' rounding up (n+8).
	buf := make([]float64, streamGroup*(n+9))
	for k := range st.cols {
		st.cols[k] = buf[k*(n+9) : (k+1)*(n+9) : (k+1)*(n+9)]
	}
	return st
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
	for s := max(first, (st.cur+g-1)/g*g); s < end; s += g {
		st.sums[s] = 0 // a new start: [s, s+1) has no pair
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
