package changepoint

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

// pairwiseSumStrided is pairwiseSum over x[0], x[stride], ... (n values).
func pairwiseSumStrided(x []float64, n, stride int) float64 {
	if n < 8 {
		res := 0.0
		for i := 0; i < n; i++ {
			res += x[i*stride]
		}
		return res
	}
	if n <= 128 {
		var r [8]float64
		for j := 0; j < 8; j++ {
			r[j] = x[j*stride]
		}
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := 0; j < 8; j++ {
				r[j] += x[(i+j)*stride]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += x[i*stride]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSumStrided(x, n2, stride) + pairwiseSumStrided(x[n2*stride:], n-n2, stride)
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
