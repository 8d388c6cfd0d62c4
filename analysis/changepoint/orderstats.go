package changepoint

import (
	"math/bits"
	"slices"
)

// orderStats answers "the sum of the k smallest values of x[a:b]" for any
// range in O(log n): a wavelet matrix over the ranks of the values, with
// prefix sums of the values in the order of every level. It takes
// (n+1) * (1 + log2 n) * 12 bytes.
type orderStats struct {
	levels int
	zeros  []int     // zeros[l]: how many ranks have a 0 at level l's bit
	rank0  [][]int32 // rank0[l][i]: zeros among the first i positions at level l
	sums   [][]float64
	// sums[l][i]: the sum of the first i values in level l's order (level
	// 0 is x's order, level `levels` is sorted order).
}

// newOrderStats builds the structure over x.
func newOrderStats(x []float64) *orderStats {
	n := len(x)
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return 0
	})
	rank := make([]int32, n)
	for r, i := range idx {
		rank[i] = int32(r)
	}
	levels := 0
	if n > 1 {
		levels = bits.Len(uint(n - 1))
	}
	o := &orderStats{levels: levels, zeros: make([]int, levels),
		rank0: make([][]int32, levels), sums: make([][]float64, levels+1)}
	cur := make([]int32, n) // positions of x in the current level's order
	for i := range cur {
		cur[i] = int32(i)
	}
	next := make([]int32, n)
	o.sums[0] = prefixSums(x, cur)
	for l := 0; l < levels; l++ {
		shift := uint(levels - 1 - l)
		r0 := make([]int32, n+1)
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
		o.rank0[l] = r0
		cur, next = next, cur
		o.sums[l+1] = prefixSums(x, cur)
	}
	return o
}

// prefixSums returns the prefix sums of x taken in the order of pos.
func prefixSums(x []float64, pos []int32) []float64 {
	s := make([]float64, len(pos)+1)
	for i, p := range pos {
		s[i+1] = s[i] + x[p]
	}
	return s
}

// smallest returns the sum of the k smallest values of x[a:b], 0 <= k <=
// b-a.
func (o *orderStats) smallest(a, b, k int) float64 {
	sum := 0.0
	for l := 0; l < o.levels; l++ {
		if k == 0 {
			return sum
		}
		s := o.sums[l]
		if k == b-a {
			return sum + (s[b] - s[a])
		}
		r0 := o.rank0[l]
		za, zb := int(r0[a]), int(r0[b])
		if k <= zb-za {
			a, b = za, zb
			continue
		}
		// Every value whose bit is 0 here is among the k smallest.
		below := o.sums[l+1]
		sum += below[zb] - below[za]
		k -= zb - za
		a, b = o.zeros[l]+a-za, o.zeros[l]+b-zb
	}
	if k > 0 {
		// One value is left in the range (ranks are distinct).
		s := o.sums[o.levels]
		sum += s[b] - s[a]
	}
	return sum
}

// total returns the sum of x[a:b].
func (o *orderStats) total(a, b int) float64 { return o.sums[0][b] - o.sums[0][a] }
