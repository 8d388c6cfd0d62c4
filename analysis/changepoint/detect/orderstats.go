package detect

import "math/bits"

// orderStats answers "the k-th smallest value of x[a:b], and the sum of
// the values below it" for any range in O(log n): a wavelet matrix over
// the ranks of the values, with prefix sums of the values in the order of
// every level. It takes about (n+1) * (1 + log2 n) * 12 bytes.
type orderStats struct {
	n, levels int
	last      []float64 // last[i]: the key at position i in the last level's order
	zeros     []int     // zeros[l]: how many ranks have a 0 at level l's bit
	rank0     []int32   // rank0[l*(n+1)+i]: zeros among the first i positions at level l
	// sums[l*(n+1)+i]: the sum of the first i values in level l's order
	// (level 0 is x's order, level `levels` sorted order).
	sums []float64
}

// newOrderStatsKeyed builds the structure over vals ranked by keys (of the
// same length): the ranks, and kthKey, follow keys; the sums add vals. An
// order of keys must also order vals (vals a non-decreasing function of
// keys, such as keys minus their mean), or the sums mean nothing.
func newOrderStatsKeyed(keys, vals []float64) *orderStats {
	x := vals
	n := len(x)
	levels := 0
	if n > 1 {
		levels = bits.Len(uint(n - 1))
	}
	w := n + 1
	// Ranks are distinct: equal values rank by position.
	scratch := make([]int32, 4*n)
	idx, tmp, rank, nextRank := scratch[:n], scratch[n:2*n], scratch[2*n:3*n], scratch[3*n:]
	sortOrder(keys, idx, tmp)
	o := &orderStats{n: n, levels: levels, zeros: make([]int, levels),
		rank0: make([]int32, levels*w), sums: make([]float64, (levels+1)*w), last: make([]float64, n)}
	for r, i := range idx {
		rank[i] = int32(r)
	}
	// Each level's row first holds the values in that level's order (from
	// index 1), with their ranks in rank; the prefix sums are taken at the
	// end, every level in one pass.
	copy(o.sums[1:w], x)
	for l := 0; l < levels; l++ {
		shift := uint(levels - 1 - l)
		// Ranks are 0..n-1, so the count of 0 bits at this level is known
		// up front and the ones can be placed in the same pass.
		z := n>>(shift+1)<<shift + min(n&(1<<(shift+1)-1), 1<<shift)
		o.zeros[l] = z
		r0 := o.rank0[l*w : (l+1)*w]
		val, next := o.sums[l*w+1:(l+1)*w], o.sums[(l+1)*w+1:(l+2)*w]
		zero, one := 0, z
		for i, rk := range rank {
			if rk>>shift&1 == 0 {
				nextRank[zero], next[zero] = rk, val[i]
				zero++
			} else {
				nextRank[one], next[one] = rk, val[i]
				one++
			}
			r0[i+1] = int32(zero)
		}
		rank, nextRank = nextRank, rank
	}
	for i, r := range rank {
		o.last[i] = keys[idx[r]]
	}
	// sums[l*w+i+1] = sums[l*w+i] + value, as a pass over each level's
	// values in turn would add them; the levels' independent chains of
	// additions are interleaved so that they overlap in the processor.
	for i := 0; i < n; i++ {
		for l := 0; l <= levels; l++ {
			s := o.sums[l*w+i : l*w+i+2]
			s[1] = s[0] + s[1]
		}
	}
	return o
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

// kthKey returns the k-th smallest key of [a, b) (0-based, k < b-a),
// exactly as stored.
func (o *orderStats) kthKey(a, b, k int) float64 {
	w := o.n + 1
	for l := 0; l < o.levels; l++ {
		r0 := o.rank0[l*w : (l+1)*w]
		za, zb := int(r0[a]), int(r0[b])
		if k < zb-za {
			a, b = za, zb
			continue
		}
		k -= zb - za
		a, b = o.zeros[l]+a-za, o.zeros[l]+b-zb
	}
	return o.last[a]
}

// total returns the sum of x[a:b].
func (o *orderStats) total(a, b int) float64 { return o.sums[b] - o.sums[a] }
