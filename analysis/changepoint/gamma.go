package changepoint

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// exactMedianPairs bounds the number of pairwise distances the median
// heuristic stores; beyond it multivariate signals use a seeded sample.
const exactMedianPairs = 8 << 20

// MedianHeuristicGamma returns ruptures' default rbf bandwidth for s:
// 1/median of the pairwise squared Euclidean distances, or 1 when that
// median is zero. It is exact for every univariate signal and for
// multivariate signals up to about 4,000 samples; longer multivariate
// signals use the median of 8 Mi pairs drawn with a fixed seed.
func MedianHeuristicGamma(s *Signal) (float64, error) {
	n := s.n
	pairs := n * (n - 1) / 2
	var med float64
	switch {
	case pairs == 0:
		// np.median of an empty array is NaN; ruptures then keeps gamma=1.
		return 1, nil
	case s.d == 1 && pairs > exactMedianPairs:
		med = medianPairDist1D(s.data)
	case pairs <= exactMedianPairs:
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

// medianPairDist1D returns the median of (x_i - x_j)^2 over i < j without
// storing the pairs: the order statistics of |x_i - x_j| are found by
// bisection on float64 bit patterns, counting pairs with two pointers.
func medianPairDist1D(x []float64) float64 {
	v := append([]float64(nil), x...)
	sort.Float64s(v)
	n := len(v)
	m := n * (n - 1) / 2
	kth := func(k int) float64 { // k-th smallest (0-based) absolute difference
		lo, hi := uint64(0), math.Float64bits(v[n-1]-v[0])
		for lo < hi {
			mid := lo + (hi-lo)/2
			t := math.Float64frombits(mid)
			cnt, i := 0, 0
			for j := 1; j < n; j++ {
				for v[j]-v[i] > t {
					i++
				}
				cnt += j - i
			}
			if cnt > k {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return math.Float64frombits(lo)
	}
	hiD := kth(m / 2)
	if m%2 == 1 {
		return hiD * hiD
	}
	loD := kth(m/2 - 1)
	return (loD*loD + hiD*hiD) / 2
}
