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

// TestMedianPairDistBracketed compares the bracketed median with the
// median of every stored distance, for 2 to 4 dimensions, with ties, an
// even and an odd number of pairs.
func TestMedianPairDistBracketed(t *testing.T) {
	rng := newRand(11)
	for trial, n := range []int{400, 401, 402, 403, 700, 1500} {
		d := 2 + trial%3
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = make([]float64, d)
			for j := range rows[i] {
				if trial%2 == 0 {
					rows[i][j] = float64(rng.IntN(4))
				} else {
					rows[i][j] = rng.NormFloat64() * float64(1+i/100)
				}
			}
		}
		s, err := NewSignal(rows)
		if err != nil {
			t.Fatal(err)
		}
		var all []float64
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				all = append(all, sqDist(s.Row(i), s.Row(j)))
			}
		}
		got, ok := medianPairDistBracketed(s)
		if want := medianOf(all); !ok || got != want {
			t.Fatalf("n=%d d=%d: got %v (ok %v), want %v", n, d, got, ok, want)
		}
	}
}

func BenchmarkMedianHeuristicGamma(b *testing.B) {
	s, _, _ := PwConstant(1500, 3, 5, 1, 1)
	defer reportCPU(b)()
	for range b.N {
		if _, err := MedianHeuristicGamma(s); err != nil {
			b.Fatal(err)
		}
	}
}
