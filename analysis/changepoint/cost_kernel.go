package changepoint

import (
	"context"
	"math"
)

// gramPrefixLimit is the largest signal length for which kernel costs
// precompute the sums of the Gram matrix over every segment
// ((n+1)(n+2)/2 float64s, 64 MiB at the limit). Longer signals compute
// each segment's kernel sum on the fly and hold no n x n matrix.
const gramPrefixLimit = 4000

// gramSums gives the sum of a kernel over the pairs i < j of any segment
// [s, e): in O(1) from a table for short signals, and on the fly (O(len^2)
// kernel values) for long ones.
type gramSums struct {
	// tri[e(e+1)/2 + s] is the sum of K(i, j) over s <= i < j < e, built
	// column by column (each kernel column once, as ruptures' C code
	// does); nil in on-the-fly mode.
	tri  []float64
	row  kernelRow // K(s, t) for s in [lo, t]
	buf  []float64 // a kernel column, for on-the-fly sums
	done func() bool
}

// init prepares the sums for n samples. With direct, or beyond
// gramPrefixLimit, nothing is precomputed.
func (g *gramSums) init(ctx context.Context, n int, row kernelRow, direct bool) {
	g.row, g.tri, g.buf = row, nil, make([]float64, n)
	g.done = func() bool { return ctx != nil && ctx.Err() != nil }
	if direct || n > gramPrefixLimit {
		return
	}
	tri := make([]float64, (n+1)*(n+2)/2)
	col := g.buf
	for e := 1; e <= n; e++ {
		if e&63 == 0 && g.done() {
			return // the search stops at its next check
		}
		// col[s] = K(s, e-1); tri[e][s] = tri[e-1][s] + sum of col[s:e-1].
		row(e-1, 0, col)
		cur, prev := tri[e*(e+1)/2:], tri[(e-1)*e/2:]
		acc := 0.0
		for s := e - 1; s >= 0; s-- {
			cur[s] = prev[s] + acc
			if s > 0 {
				acc += col[s-1]
			}
		}
	}
	g.tri = tri
}

// offDiag returns the sum of K(i, j) over start <= i < j < end, or NaN
// once the search's context is done.
func (g *gramSums) offDiag(start, end int) float64 {
	if g.tri != nil {
		return g.tri[end*(end+1)/2+start]
	}
	sum := 0.0
	for t := start + 1; t < end; t++ {
		if (t-start)&63 == 1 && g.done() {
			return math.NaN()
		}
		col := g.buf[:t-start+1]
		g.row(t, start, col)
		for _, v := range col[:t-start] {
			sum += v
		}
	}
	return sum
}
