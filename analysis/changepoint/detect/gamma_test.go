package detect

import (
	"math"
	"testing"
)

// TestMedianPairDist1D compares the order-statistics median with the
// median of every pair's squared distance, on signals with ties, a
// constant signal and outliers.
func TestMedianPairDist1D(t *testing.T) {
	rng := newRand(5)
	for trial := 0; trial < 400; trial++ {
		n := 2 + rng.IntN(120)
		if trial%50 == 0 {
			n = 1500
		}
		x := make([]float64, n)
		for i := range x {
			switch trial % 4 {
			case 0:
				x[i] = float64(rng.IntN(5))
			case 1:
				x[i] = rng.NormFloat64()
			case 2:
				x[i] = 3
			default:
				x[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
			}
		}
		var d []float64
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				d = append(d, (x[i]-x[j])*(x[i]-x[j]))
			}
		}
		if got, want := medianPairDist1D(x), medianOf(d); got != want {
			t.Fatalf("trial %d, n=%d: got %v, want %v", trial, n, got, want)
		}
	}
}
