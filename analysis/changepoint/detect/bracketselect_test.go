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

// TestSelectKept compares the narrowed selection with sorting, on value
// counts past the narrowing threshold, with ties, values bunched at one
// end, and a periodic order that the strided sample misreads (so the
// fallback runs too).
func TestSelectKept(t *testing.T) {
	rng := newRand(53)
	for trial := range 60 {
		n := selectKeptMin + rng.IntN(40000)
		x := make([]float64, n)
		for i := range x {
			switch trial % 4 {
			case 0:
				x[i] = float64(rng.IntN(9))
			case 1:
				x[i] = 5 + rng.Float64()
			case 2:
				x[i] = 5 + rng.ExpFloat64()*rng.ExpFloat64()
			default:
				// Every (n/1024)-th value is the least: the sample sees
				// only those.
				x[i] = 5 + rng.Float64()
				if i%(n/1024) == 0 {
					x[i] = 5
				}
			}
		}
		sorted := slices.Clone(x)
		slices.Sort(sorted)
		base := math.Float64bits(sorted[0])
		span := math.Float64bits(sorted[n-1]) - base
		before := slices.Clone(x)
		for _, k := range []int{0, rng.IntN(n), n / 2, n - 1} {
			prev, kth, _ := selectKept(x, base, span, k, nil)
			if kth != sorted[k] || (k > 0 && prev != sorted[k-1]) {
				t.Fatalf("trial %d (n=%d, k=%d): got %v, %v; want %v, %v", trial, n, k, prev, kth, sorted[max(k-1, 0)], sorted[k])
			}
		}
		if !slices.Equal(x, before) {
			t.Fatalf("trial %d: x was reordered", trial)
		}
	}
}
