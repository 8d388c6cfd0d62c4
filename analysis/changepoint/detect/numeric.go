package detect

// pairwiseSum adds x the way NumPy's add.reduce does over a contiguous
// axis (blocks of eight partial sums, halves above 128 values), so that
// costs round exactly like ruptures' NumPy code.
func pairwiseSum(x []float64) float64 {
	n := len(x)
	if n < 8 {
		res := 0.0
		for _, v := range x {
			res += v
		}
		return res
	}
	if n <= 128 {
		var r [8]float64
		copy(r[:], x[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			r[0] += x[i]
			r[1] += x[i+1]
			r[2] += x[i+2]
			r[3] += x[i+3]
			r[4] += x[i+4]
			r[5] += x[i+5]
			r[6] += x[i+6]
			r[7] += x[i+7]
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += x[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum(x[:n2]) + pairwiseSum(x[n2:])
}

// numpyBuffer is the number of values NumPy's reductions pass to the
// pairwise sum at a time (its iterator's buffer size).
const numpyBuffer = 8192

// numpySum adds x as np.sum does over a contiguous array of any shape:
// the pairwise sum of each run of numpyBuffer values, the runs' sums added
// in order.
func numpySum(x []float64) float64 {
	if len(x) <= numpyBuffer {
		return pairwiseSum(x)
	}
	s := 0.0
	for len(x) > 0 {
		k := min(len(x), numpyBuffer)
		s += pairwiseSum(x[:k])
		x = x[k:]
	}
	return s
}

// columnMean returns the mean of column j over samples [start, end) of a
// row-major n x d array, summed as NumPy's mean(axis=0) does: pairwise
// when d == 1, sequentially otherwise.
func columnMean(data []float64, d, j, start, end int) float64 {
	l := end - start
	if d == 1 {
		return pairwiseSum(data[start:end]) / float64(l)
	}
	s := 0.0
	for i := start; i < end; i++ {
		s += data[i*d+j]
	}
	return s / float64(l)
}

// ceilDiv returns ceil(a/b) for non-negative a and positive b.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// sortOrder sets idx (of len(x)) to the positions of x in increasing
// order of value, equal values (-0 and +0 among them) in increasing order
// of position: the order of (x[i], i) pairs. tmp is scratch space of the
// same length. It is a stable merge sort, with insertion-sorted runs,
// which on the short signals of most searches costs less than a sort
// through a comparison function.
func sortOrder(x []float64, idx, tmp []int32) {
	n := len(x)
	idx, tmp = idx[:n], tmp[:n]
	for i := range idx {
		idx[i] = int32(i)
	}
	if n < 2 {
		return
	}
	const run = 16
	for lo := 0; lo < n; lo += run {
		hi := min(lo+run, n)
		for i := lo + 1; i < hi; i++ {
			p := idx[i]
			v := x[p]
			j := i
			for ; j > lo && v < x[idx[j-1]]; j-- {
				idx[j] = idx[j-1]
			}
			idx[j] = p
		}
	}
	src, dst := idx, tmp
	for w := run; w < n; w *= 2 {
		for lo := 0; lo < n; lo += 2 * w {
			mid, hi := min(lo+w, n), min(lo+2*w, n)
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				// The right run's item goes first only if strictly smaller.
				if x[src[j]] < x[src[i]] {
					dst[k] = src[j]
					j++
				} else {
					dst[k] = src[i]
					i++
				}
				k++
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	if &src[0] != &idx[0] {
		copy(idx, src)
	}
}
