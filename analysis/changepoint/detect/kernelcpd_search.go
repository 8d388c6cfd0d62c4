package detect

import (
	"context"
	"math"
)

// ekcpdDynamic is the dynamic program of ruptures' ekcpd_compute: the
// kernel sums S[s] of every segment [s, t) are updated in O(t) per t.
//
// The C code loops over the start s and, inside, over the number of
// breakpoints k; here each t first tables the segment costs c[s] and then
// runs, for each k, the minimum of best[k-1][s] + c[s] over s on
// contiguous rows (best is stored k-major). The candidates, the sums and
// the tie rule (the first s wins) are the C code's, so is the answer.
func ekcpdDynamic(ctx context.Context, n, nBkps, minSize int, kern kernelRow) ([]int, error) {
	w := n + 1
	d := make([]float64, n+1)
	sums := make([]float64, n+1)
	best := make([]float64, (nBkps+1)*w) // best[k*w+t]: k breakpoints in [0, t)
	path := make([]int32, (nBkps+1)*w)
	cost := make([]float64, n+1)
	row := make([]float64, n)
	for t := 1; t <= n; t++ {
		if t&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		kern(t-1, 0, row)
		diag := row[t-1]
		d[t] = d[t-1] + diag
		cr := 0.0
		sm := sums[:t]
		for s := t - 1; s >= 0; s-- {
			cr += row[s]
			sm[s] += 2*cr - diag
		}
		best[t] = d[t] - sums[0]/float64(t)
		hi := t - minSize // the last start
		if hi < minSize {
			continue
		}
		dt := d[t]
		for s := minSize; s <= hi; s++ {
			cost[s] = dt - d[s] - sums[s]/float64(t-s)
		}
		for k := 1; k <= nBkps; k++ {
			lo := k * minSize
			if lo > hi {
				break
			}
			v, arg := argminSum(best[(k-1)*w+lo:(k-1)*w+hi+1], cost[lo:hi+1])
			best[k*w+t], path[k*w+t] = v, int32(lo+arg)
		}
	}
	bkps := make([]int, nBkps+1)
	bkps[nBkps] = n
	for k := nBkps; k > 0; k-- {
		bkps[k-1] = int(path[k*w+bkps[k]])
	}
	return bkps, nil
}

// argminSum returns the least a[i] + b[i] and the first i where it is
// reached (len(a) == len(b) > 0). Two independent running minima, over
// even and odd i, keep the processor busy; the earlier index wins a tie
// between them.
func argminSum(a, b []float64) (float64, int) {
	b = b[:len(a)]
	v0, i0 := a[0]+b[0], 0
	v1, i1 := math.Inf(1), -1
	i := 1
	for ; i+1 < len(a); i += 2 {
		if x := a[i] + b[i]; v1 > x || i1 < 0 {
			v1, i1 = x, i
		}
		if x := a[i+1] + b[i+1]; v0 > x {
			v0, i0 = x, i+1
		}
	}
	if i < len(a) {
		if x := a[i] + b[i]; v1 > x || i1 < 0 {
			v1, i1 = x, i
		}
	}
	if i1 >= 0 && (v1 < v0 || (v1 == v0 && i1 < i0)) {
		return v1, i1
	}
	return v0, i0
}

// ekcpdPelt is the penalised search of ruptures' ekcpd_pelt_compute, with
// its pruning of the start index.
func ekcpdPelt(ctx context.Context, n int, beta float64, minSize int, kern kernelRow) ([]int, error) {
	d := make([]float64, n+1)
	sums := make([]float64, n+1)
	mv := make([]float64, n+1)
	prune := make([]float64, n+1)
	path := make([]int32, n+1)
	row := make([]float64, n)
	update := func(t, sMin int) {
		kern(t-1, sMin, row)
		diag := row[t-1-sMin]
		d[t] = d[t-1] + diag
		cr := 0.0
		for s := t - 1; s >= sMin; s-- {
			cr += row[s-sMin]
			sums[s] += 2*cr - diag
		}
	}
	for t := 1; t < 2*minSize && t <= n; t++ {
		update(t, 0)
		mv[t] = d[t] - d[0] - sums[0]/float64(t) + beta
	}
	sMin := 0
	for t := 2 * minSize; t <= n; t++ {
		if t&255 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		update(t, sMin)
		s := sMin
		c := d[t] - d[s] - sums[s]/float64(t-s)
		v := mv[s] + c
		prune[s] = v
		mv[t] = v + beta
		path[t] = int32(s)
		for s = max(sMin+1, minSize); s < t-minSize+1; s++ {
			c = d[t] - d[s] - sums[s]/float64(t-s)
			v = mv[s] + c
			prune[s] = v
			v += beta
			if mv[t] > v {
				mv[t] = v
				path[t] = int32(s)
			}
		}
		for prune[sMin] >= mv[t] && sMin < t-minSize+1 {
			if sMin == 0 {
				sMin += minSize
			} else {
				sMin++
			}
		}
	}
	var bkps []int
	for ind := n; ind > 0; ind = int(path[ind]) {
		bkps = append(bkps, ind)
	}
	for i, j := 0, len(bkps)-1; i < j; i, j = i+1, j-1 {
		bkps[i], bkps[j] = bkps[j], bkps[i]
	}
	return bkps, nil
}
