package changepoint

import (
	"math/bits"
	"slices"
)

// orderStats answers "the k-th smallest value of x[a:b], and the sum of
// the values below it" for any range in O(log n): a wavelet matrix over
// the ranks of the values, with prefix sums of the values in the order of
// every level. It takes about (n+1) * (1 + log2 n) * 12 bytes.
type orderStats struct {
	n, levels int
	zeros     []int   // zeros[l]: how many ranks have a 0 at level l's bit
	rank0     []int32 // rank0[l*(n+1)+i]: zeros among the first i positions at level l
	// sums[l*(n+1)+i]: the sum of the first i values in level l's order
	// (level 0 is x's order, level `levels` sorted order).
	sums []float64
}

// newOrderStats builds the structure over x.
func newOrderStats(x []float64) *orderStats {
	n := len(x)
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return int(a - b) // distinct ranks for equal values
	})
	levels := 0
	if n > 1 {
		levels = bits.Len(uint(n - 1))
	}
	w := n + 1
	o := &orderStats{n: n, levels: levels, zeros: make([]int, levels),
		rank0: make([]int32, levels*w), sums: make([]float64, (levels+1)*w)}
	rank := make([]int32, n)
	for r, i := range idx {
		rank[i] = int32(r)
	}
	cur, next := idx, make([]int32, n)
	for i := range cur {
		cur[i] = int32(i)
	}
	o.prefix(0, x, cur)
	for l := 0; l < levels; l++ {
		shift := uint(levels - 1 - l)
		r0 := o.rank0[l*w : (l+1)*w]
		z := 0
		for i, p := range cur {
			if rank[p]>>shift&1 == 0 {
				next[z] = p
				z++
			}
			r0[i+1] = int32(z)
		}
		o.zeros[l] = z
		one := z
		for _, p := range cur {
			if rank[p]>>shift&1 == 1 {
				next[one] = p
				one++
			}
		}
		cur, next = next, cur
		o.prefix(l+1, x, cur)
	}
	return o
}

// prefix fills level l's prefix sums of x taken in the order of pos.
func (o *orderStats) prefix(l int, x []float64, pos []int32) {
	s := o.sums[l*(o.n+1) : (l+1)*(o.n+1)]
	for i, p := range pos {
		s[i+1] = s[i] + x[p]
	}
}

// kth returns the k-th smallest value of x[a:b] (0-based, k < b-a) and
// the sum of the k values ranked below it.
func (o *orderStats) kth(a, b, k int) (v, below float64) {
	w := o.n + 1
	for l := 0; l < o.levels; l++ {
		r0 := o.rank0[l*w : (l+1)*w]
		za, zb := int(r0[a]), int(r0[b])
		if k < zb-za {
			a, b = za, zb
			continue
		}
		// Every value whose bit is 0 here ranks below the k-th.
		s := o.sums[(l+1)*w:]
		below += s[zb] - s[za]
		k -= zb - za
		a, b = o.zeros[l]+a-za, o.zeros[l]+b-zb
	}
	// One value is left in the range (ranks are distinct).
	s := o.sums[o.levels*w:]
	return s[a+1] - s[a], below
}

// total returns the sum of x[a:b].
func (o *orderStats) total(a, b int) float64 { return o.sums[b] - o.sums[a] }
