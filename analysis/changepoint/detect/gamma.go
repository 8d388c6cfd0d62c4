package detect

import (
	"math"
	"math/rand/v2"
	"slices"
)

// exactMedianPairs bounds the number of pairwise distances the median
// heuristic stores; beyond it multivariate signals use a seeded sample.
const exactMedianPairs = 8 << 20

// MedianHeuristicGamma returns ruptures' default rbf bandwidth for s:
// 1/median of the pairwise squared Euclidean distances, or 1 when that
// median is zero. It is exact for every univariate signal (in O(n log n)
// time and O(n) memory) and for multivariate signals up to about 4,000
// samples; longer multivariate signals use the median of 8 Mi pairs drawn
// with a fixed seed.
func MedianHeuristicGamma(s *Signal) (float64, error) { return medianHeuristicGamma(s, nil) }

// medianHeuristicGamma is MedianHeuristicGamma, with the column-major
// copy of s the caller already has (nil for none).
func medianHeuristicGamma(s *Signal, cols *columnCopy) (float64, error) {
	n := s.n
	pairs := n * (n - 1) / 2
	var med float64
	switch {
	case pairs == 0:
		// np.median of an empty array is NaN; ruptures then keeps gamma=1.
		return 1, nil
	case s.d == 1:
		med = medianPairDist1D(s.data)
	case pairs <= exactMedianPairs:
		if pairs >= 1<<16 {
			var ok bool
			if med, ok = medianPairDistBracketed(s, cols); ok {
				break
			}
		}
		dist := make([]float64, 0, pairs)
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				dist = append(dist, sqDist(s.Row(i), s.Row(j)))
			}
		}
		med = medianOf(dist)
	default:
		rng := rand.New(rand.NewPCG(1, 2))
		dist := make([]float64, exactMedianPairs)
		for k := range dist {
			i := rng.IntN(n)
			j := rng.IntN(n - 1)
			if j >= i {
				j++
			}
			dist[k] = sqDist(s.Row(i), s.Row(j))
		}
		med = medianOf(dist)
	}
	if med == 0 {
		return 1, nil
	}
	return 1 / med, nil
}

// Median returns NumPy's median of x (the mean of the two middle values
// for an even count; NaN for none), reordering x, in linear time on
// average. Other analyses (analysis/correlate) use it.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return medianOf(x)
}

// medianOf returns NumPy's median of x, reordering x.
func medianOf(x []float64) float64 {
	n := len(x)
	k := n / 2
	hi := selectKth(x, k)
	if n%2 == 1 {
		return hi
	}
	lo := slices.Max(x[:k])
	return (lo + hi) / 2
}

// selectKth partially orders x so that x[k] is its k-th smallest value
// (x[:k] holds the smaller ones) and returns it.
func selectKth(x []float64, k int) float64 {
	lo, hi := 0, len(x)-1
	for lo < hi {
		p := x[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for x[i] < p {
				i++
			}
			for x[j] > p {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return x[k]
		}
	}
	return x[k]
}

// medianPairDist1D returns the median of (x_i - x_j)^2 over i < j, exactly
// and without storing the pairs. Squaring keeps the order, so it squares
// the middle order statistics of the differences, found by kthPairDist.
func medianPairDist1D(x []float64) float64 {
	v := slices.Clone(x)
	slices.Sort(v)
	m := len(v) * (len(v) - 1) / 2
	hi := kthPairDist(v, m/2)
	if m%2 == 1 {
		return hi * hi
	}
	lo := kthPairDist(v, m/2-1)
	return (lo*lo + hi*hi) / 2
}

// kthPairDist returns the k-th smallest (0-based) difference v[j] - v[i],
// i < j, of the sorted values v. The differences are monotone in i and j,
// so the number below a threshold is counted in O(n) with two pointers;
// bisection on the bit patterns of the threshold (which order as the
// values do) narrows the answer down to O(n) candidates, selected
// directly: O(n) memory and at most 64 counts.
func kthPairDist(v []float64, k int) float64 {
	n := len(v)
	// The answer's bit pattern is in (lo, hi]; cLo differences are at or
	// below lo, cHi at or below hi (lo = -1 stands below every value).
	lo, hi := int64(-1), int64(math.Float64bits(v[n-1]-v[0]))
	cLo, cHi := 0, n*(n-1)/2
	for hi-lo > 1 && cHi-cLo > 2*n {
		mid := lo + (hi-lo)/2
		if c := countPairsAtMost(v, math.Float64frombits(uint64(mid))); c > k {
			hi, cHi = mid, c
		} else {
			lo, cLo = mid, c
		}
	}
	hiV := math.Float64frombits(uint64(hi))
	if hi-lo == 1 {
		return hiV
	}
	loV := -1.0
	if lo >= 0 {
		loV = math.Float64frombits(uint64(lo))
	}
	// The candidates: differences in (loV, hiV].
	cand := make([]float64, 0, cHi-cLo)
	iHi, iLo := 0, 0 // per j, the first i with v[j]-v[i] <= hiV, and <= loV
	for j := 1; j < n; j++ {
		for v[j]-v[iHi] > hiV {
			iHi++
		}
		for iLo < j && v[j]-v[iLo] > loV {
			iLo++
		}
		for i := iHi; i < iLo; i++ {
			cand = append(cand, v[j]-v[i])
		}
	}
	return selectKth(cand, k-cLo)
}

// countPairsAtMost counts the differences v[j] - v[i], i < j, at most t
// (t >= 0) of the sorted values v.
func countPairsAtMost(v []float64, t float64) int {
	c, i := 0, 0
	for j := 1; j < len(v); j++ {
		for v[j]-v[i] > t {
			i++
		}
		c += j - i
	}
	return c
}
