package changepoint

import (
	"context"
	"math"
)

// gramPrefixLimit is the largest signal length for which kernel costs
// precompute 2-D prefix sums of the Gram matrix ((n+1)^2 float64s, 128 MiB
// at the limit). Longer signals compute each segment's kernel sum on the
// fly and hold no n x n matrix.
const gramPrefixLimit = 4000

// kernelSums gives O(1) segment sums of a Gram matrix through 2-D prefix
// sums, or computes them directly from the kernel for long signals.
type kernelSums struct {
	n      int
	kern   func(i, j int) float64 // off-diagonal kernel value, i != j
	diag   float64                // kernel value on the diagonal
	prefix []float64              // (n+1) x (n+1), nil in direct mode
	ctx    context.Context        // the search's; on-the-fly sums stop when it is done
}

// init prepares the sums for n samples; direct forces on-the-fly sums.
func (k *kernelSums) init(n int, diag float64, kern func(i, j int) float64, direct bool) {
	k.n, k.kern, k.diag, k.prefix = n, kern, diag, nil
	if direct || n > gramPrefixLimit {
		return
	}
	w := n + 1
	p := make([]float64, w*w)
	// Fill the Gram matrix (each pair computed once) at offset (1, 1),
	// then turn it into 2-D prefix sums in place.
	for i := 0; i < n; i++ {
		p[(i+1)*w+i+1] = diag
		for j := i + 1; j < n; j++ {
			v := kern(i, j)
			p[(i+1)*w+j+1] = v
			p[(j+1)*w+i+1] = v
		}
	}
	for i := 1; i <= n; i++ {
		acc := 0.0
		row, prev := p[i*w:(i+1)*w], p[(i-1)*w:i*w]
		for j := 1; j <= n; j++ {
			acc += row[j]
			row[j] = prev[j] + acc
		}
	}
	k.prefix = p
}

// cost returns trace - sum/len of the Gram sub-matrix on [start, end).
func (k *kernelSums) cost(start, end int) float64 {
	l := end - start
	tr := k.diag * float64(l)
	var sum float64
	if k.prefix != nil {
		w := k.n + 1
		p := k.prefix
		sum = p[end*w+end] - p[start*w+end] - p[end*w+start] + p[start*w+start]
	} else {
		off := 0.0
		for i := start; i < end; i++ {
			if (i-start)&63 == 0 && k.ctx != nil && k.ctx.Err() != nil {
				return math.NaN()
			}
			for j := i + 1; j < end; j++ {
				off += k.kern(i, j)
			}
		}
		sum = tr + 2*off
	}
	return tr - sum/float64(l)
}
