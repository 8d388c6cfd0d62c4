package detect

import (
	"math"
	"slices"
	"testing"
)

// TestSelectBracketed compares the bucketed selection with sorting: the
// k-th value and the one ranked before it, for values spread evenly,
// bunched (ties, runs of equal buckets) and of very different sizes.
func TestSelectBracketed(t *testing.T) {
	rng := newRand(31)
	for trial := range 300 {
		n := 1 + rng.IntN(3000)
		x := make([]float64, n)
		for i := range x {
			switch trial % 3 {
			case 0:
				x[i] = float64(rng.IntN(7))
			case 1:
				x[i] = 10 + rng.Float64()
			default:
				x[i] = rng.Float64() * math.Pow(10, float64(rng.IntN(10)-5))
			}
		}
		sorted := slices.Clone(x)
		slices.Sort(sorted)
		base := math.Float64bits(sorted[0])
		span := math.Float64bits(sorted[n-1]) - base
		k := rng.IntN(n)
		before := slices.Clone(x)
		prev, kth, _ := selectBracketed(x, base, span, k, nil)
		if kth != sorted[k] || (k > 0 && prev != sorted[k-1]) {
			t.Fatalf("trial %d (n=%d, k=%d): got %v, %v; want %v, %v", trial, n, k, prev, kth, sorted[max(k-1, 0)], sorted[k])
		}
		if !slices.Equal(x, before) {
			t.Fatalf("trial %d: x was reordered", trial)
		}
	}
}

// TestSampleBracket checks that the bracket holds the two ranked values.
func TestSampleBracket(t *testing.T) {
	rng := newRand(37)
	for trial := range 200 {
		n := 2 + rng.IntN(5000)
		x := make([]float64, n)
		for i := range x {
			if trial%2 == 0 {
				x[i] = float64(rng.IntN(5))
			} else {
				x[i] = rng.ExpFloat64() * math.Pow(10, float64(rng.IntN(6)-3))
			}
		}
		sorted := slices.Clone(x)
		slices.Sort(sorted)
		rLo := rng.IntN(n)
		rHi := rLo + rng.IntN(n-rLo)
		lo, hi := sampleBracket(x, rLo, rHi)
		if a, b := math.Float64bits(sorted[rLo]), math.Float64bits(sorted[rHi]); a < lo || b > hi || lo > hi {
			t.Fatalf("trial %d: bracket [%x, %x] misses %x or %x", trial, lo, hi, a, b)
		}
	}
}
