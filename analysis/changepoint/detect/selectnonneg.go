package detect

import "math"

// selectKthNonNeg is selectKth for values >= 0 (no NaN, no -0), whose bit
// patterns order as the values do: it partially orders x so that x[k] is
// its k-th smallest value (x[:k] holds the smaller or equal ones) and
// returns it. Each round partitions without a data-dependent branch (the
// comparisons of random data mispredict half the time in selectKth), in
// two passes when the pivot has duplicates, so that runs of equal values
// cost one round.
func selectKthNonNeg(x []float64, k int) float64 {
	lo, hi := 0, len(x) // x[k] is in x[lo:hi]
	for hi-lo > 16 {
		p := math.Float64bits(median3(x[lo], x[lo+(hi-lo)/2], x[hi-1]))
		// x[lo:lt] < p, then x[lt:le] == p once the second pass has run.
		lt := partitionBelow(x[lo:hi], p) + lo
		if k < lt {
			hi = lt
			continue
		}
		le := partitionBelow(x[lt:hi], p+1) + lt
		if k < le {
			return x[k]
		}
		lo = le
	}
	// A few values left: insertion sort.
	s := x[lo:hi]
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return x[k]
}

// partitionBelow moves the values of x whose bits are below b to its
// front, without a branch on the data, and returns their number.
func partitionBelow(x []float64, b uint64) int {
	n := 0
	for i, v := range x {
		x[i], x[n] = x[n], v
		n += int((math.Float64bits(v) - b) >> 63)
	}
	return n
}

// median3 returns the median of a, b and c.
func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}
