package detect

import "context"

// ekcpdDynamic is the dynamic program of ruptures' ekcpd_compute: the
// kernel sums S[s] of every segment [s, t) are updated in O(t) per t.
func ekcpdDynamic(ctx context.Context, n, nBkps, minSize int, kern kernelRow) ([]int, error) {
	w := nBkps + 1
	d := make([]float64, n+1)
	sums := make([]float64, n+1)
	mv := make([]float64, (n+1)*w)
	path := make([]int32, (n+1)*w)
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
		for s := t - 1; s >= 0; s-- {
			cr += row[s]
			sums[s] += 2*cr - diag
		}
		mv[t*w] = d[t] - sums[0]/float64(t)
		for s := minSize; s < t-minSize+1; s++ {
			c := d[t] - d[s] - sums[s]/float64(t-s)
			kmax := min(nBkps, s/minSize)
			for k := 1; k <= kmax; k++ {
				v := mv[s*w+k-1] + c
				if s == k*minSize || mv[t*w+k] > v {
					mv[t*w+k] = v
					path[t*w+k] = int32(s)
				}
			}
		}
	}
	bkps := make([]int, nBkps+1)
	bkps[nBkps] = n
	for k := nBkps; k > 0; k-- {
		bkps[k-1] = int(path[bkps[k]*w+k])
	}
	return bkps, nil
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
