package detect

import (
	"slices"
	"testing"
)

// TestSelectKthNonNeg compares selectKthNonNeg with a sort, for every k of
// short inputs and some of long ones, with many ties, all equal values,
// zeros and values spanning many orders of magnitude; x[:k] must hold the
// values at or below the answer.
func TestSelectKthNonNeg(t *testing.T) {
	rng := newRand(31)
	for trial := range 300 {
		n := 1 + rng.IntN(60)
		if trial%10 == 0 {
			n = 2000 + rng.IntN(3000)
		}
		x := make([]float64, n)
		for i := range x {
			switch trial % 4 {
			case 0:
				x[i] = float64(rng.IntN(3))
			case 1:
				x[i] = rng.Float64()
			case 2:
				x[i] = 5
			default:
				x[i] = rng.ExpFloat64() * float64(int(1)<<rng.IntN(60))
			}
		}
		want := slices.Sorted(slices.Values(x))
		ks := []int{0, n / 2, n - 1, rng.IntN(n)}
		if n <= 60 {
			ks = ks[:0]
			for k := range n {
				ks = append(ks, k)
			}
		}
		for _, k := range ks {
			y := slices.Clone(x)
			if got := selectKthNonNeg(y, k); got != want[k] {
				t.Fatalf("trial %d, n=%d, k=%d: got %v, want %v", trial, n, k, got, want[k])
			}
			if slices.Max(y[:k+1]) != want[k] {
				t.Fatalf("trial %d, n=%d, k=%d: x[:k] holds a value above x[k]", trial, n, k)
			}
		}
	}
}
