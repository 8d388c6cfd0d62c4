package detect

import (
	"context"
	"math"
)

// gramPrefixLimit is the largest signal length for which kernel costs
// precompute the sums of the Gram matrix over every segment
// ((n+1)(n+2)/2 float64s, 64 MiB at the limit). Longer signals compute
// each segment's kernel sum on the fly and hold no n x n matrix.
const gramPrefixLimit = 4000

// gramTableLimit bounds any table of Gram sums (that of every segment at
// gramPrefixLimit samples).
const gramTableLimit = (gramPrefixLimit + 1) * (gramPrefixLimit + 2) / 2

// gramSums gives the sum of a kernel over the pairs i < j of any segment
// [s, e): in O(1) from a table, or on the fly (O(len^2) kernel values).
// The table holds every segment for short signals, or only the segments
// up to band samples long when the search needs no longer ones (Window
// with a number of breakpoints): n*band kernel values instead of n^2/2.
type gramSums struct {
	// tab[index(s, e)] is the sum of K(i, j) over s <= i < j < e, built
	// column by column (each kernel column once, as ruptures' C code
	// does); nil in on-the-fly mode.
	tab  []float64
	band int       // 0 for every segment
	row  kernelRow // K(s, t) for s in [lo, t]
	buf  []float64 // a kernel column
	done func() bool
}

// index locates segment [s, e) in the table.
func (g *gramSums) index(s, e int) int {
	if g.band == 0 {
		return e*(e+1)/2 + s
	}
	return e*(g.band+1) + s - e + g.band
}

// first is the first start the table holds for segments ending at e.
func (g *gramSums) first(e int) int {
	if g.band == 0 {
		return 0
	}
	return max(0, e-g.band)
}

// init prepares the sums for n samples: a table of every segment, of the
// segments up to band samples (band > 0), or nothing (direct, or n beyond
// gramPrefixLimit without a band).
func (g *gramSums) init(ctx context.Context, n int, row kernelRow, direct bool, band int) {
	g.row, g.tab, g.buf, g.band = row, nil, make([]float64, n), 0
	g.done = func() bool { return ctx != nil && ctx.Err() != nil }
	size := (n + 1) * (n + 2) / 2
	switch {
	case direct:
		return
	case band > 0 && band < n && (n+1)*(band+1) <= gramTableLimit:
		g.band, size = band, (n+1)*(band+1)
	case n > gramPrefixLimit:
		return
	}
	tab := make([]float64, size)
	for e := 1; e <= n; e++ {
		if e&63 == 0 && g.done() {
			return // the search stops at its next check
		}
		// col[s-lo] = K(s, e-1); tab[s, e] = tab[s, e-1] + sum of K(i, e-1), s <= i < e-1.
		lo := g.first(e)
		col := g.buf[:e-lo]
		row(e-1, lo, col)
		acc := 0.0
		for s := e - 1; s >= lo; s-- {
			tab[g.index(s, e)] = tab[g.index(s, e-1)] + acc
			if s > lo {
				acc += col[s-1-lo]
			}
		}
	}
	g.tab = tab
}

// offDiag returns the sum of K(i, j) over start <= i < j < end, or NaN
// once the search's context is done.
func (g *gramSums) offDiag(start, end int) float64 {
	if g.tab != nil && start >= g.first(end) {
		return g.tab[g.index(start, end)]
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
