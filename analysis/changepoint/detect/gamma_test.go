package detect

import (
	"math"
	"slices"
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
		got, ok := medianPairDistBracketed(s, nil)
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

// TestBracketPairsVector compares the vector pass over the pairs with the
// Go one: the same count below the bracket and the same distances kept,
// for 1 to 5 dimensions, row counts that leave 0 to 3 pairs of a row to
// Go, ties and values of very different sizes.
func TestBracketPairsVector(t *testing.T) {
	if !vectorAVX2 {
		t.Skip("no AVX2 here")
	}
	rng := newRand(23)
	for trial := range 40 {
		n := 9 + rng.IntN(300)
		d := 1 + trial%5
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = make([]float64, d)
			for j := range rows[i] {
				switch trial % 3 {
				case 0:
					rows[i][j] = float64(rng.IntN(4))
				case 1:
					rows[i][j] = rng.NormFloat64()
				default:
					rows[i][j] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4))
				}
			}
		}
		s, err := NewSignal(rows)
		if err != nil {
			t.Fatal(err)
		}
		a, b := sqDist(s.Row(rng.IntN(n)), s.Row(rng.IntN(n))), sqDist(s.Row(rng.IntN(n)), s.Row(rng.IntN(n)))
		lo, hi := min(a, b), max(a, b)
		loBits, span := math.Float64bits(lo), math.Float64bits(hi)-math.Float64bits(lo)
		wantBelow, want := bracketPairs(s, loBits, span, nil)
		gotBelow, got := bracketPairsVector(s, loBits, span, nil)
		slices.Sort(want)
		slices.Sort(got)
		if gotBelow != wantBelow || !slices.Equal(got, want) {
			t.Fatalf("trial %d (n=%d, d=%d): below %d, kept %d; want %d, %d", trial, n, d, gotBelow, len(got), wantBelow, len(want))
		}
	}
}

// TestDrawPairsVector checks the AVX-512 draws against the Go ones: the
// same pairs and distances bit for bit, for sample lengths around the
// vector width and row counts from 2.
func TestDrawPairsVector(t *testing.T) {
	for _, n := range []int{2, 3, 9, 500, 4001} {
		s, _, err := PwConstant(n, 3, min(3, n-1), 1, uint64(n))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []int{1, 7, 8, 9, 64, 1997} {
			var want []float64
			withAVX512(func(on bool) {
				got := make([]float64, m)
				drawPairs(s, got)
				if want == nil {
					want = got
					return
				}
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d m=%d: AVX-512 %v draws differ", n, m, on)
				}
			})
			// The Go loop, checked against the definition for a few.
			for _, k := range []int{0, m - 1} {
				r := uint64(k+1) * 0x9e3779b97f4a7c15
				r = (r ^ r>>30) * 0xbf58476d1ce4e5b9
				r = (r ^ r>>27) * 0x94d049bb133111eb
				r ^= r >> 31
				i := int((r & 0xffffffff) * uint64(n) >> 32)
				j := int((r >> 32) * uint64(n-1) >> 32)
				if j >= i {
					j++
				}
				if d := sqDist(s.Row(i), s.Row(j)); d != want[k] {
					t.Fatalf("n=%d draw %d: %v, want the pair (%d, %d) at %v", n, k, want[k], i, j, d)
				}
			}
		}
	}
}
