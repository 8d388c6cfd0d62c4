package detect

import (
	"math"
	"slices"
	"testing"
)

// TestBracketPairsBlocks compares the pass that decides blocks of pairs
// in bulk with the pass over every pair: the same count below the bracket
// and the same distances kept, for row counts around the block size and
// the vector width, piecewise constant signals (most block pairs decided
// in bulk), noise alone, ties, and brackets narrow and wide.
func TestBracketPairsBlocks(t *testing.T) {
	if !vectorAVX2 {
		t.Skip("no AVX2 here")
	}
	rng := newRand(41)
	sizes := []int{2, 3, 5, 15, 16, 17, 31, 33, 64, 67, 130, 301}
	for trial := range 600 {
		n := sizes[trial%len(sizes)]
		var s *Signal
		var err error
		switch trial % 3 {
		case 0:
			s, _, err = PwConstant(n, 3, min(4, n-1), 0.5, uint64(trial))
			if err == nil && trial%2 == 1 {
				// Reversed: later blocks below earlier ones.
				rows := make([][]float64, n)
				for i := range rows {
					rows[i] = slices.Clone(s.Row(n - 1 - i))
				}
				s, err = NewSignal(rows)
			}
		case 1:
			rows := make([][]float64, n)
			for i := range rows {
				rows[i] = []float64{float64(rng.IntN(3)), float64(rng.IntN(2)), float64(i / 20)}
			}
			s, err = NewSignal(rows)
		default:
			rows := make([][]float64, n)
			for i := range rows {
				rows[i] = []float64{rng.NormFloat64(), rng.NormFloat64() * 100, rng.NormFloat64() * 1e-3}
			}
			s, err = NewSignal(rows)
		}
		if err != nil {
			t.Fatal(err)
		}
		a, b := sqDist(s.Row(rng.IntN(n)), s.Row(rng.IntN(n))), sqDist(s.Row(rng.IntN(n)), s.Row(rng.IntN(n)))
		lo, hi := min(a, b), max(a, b)
		switch trial % 4 {
		case 0:
			hi = lo // a bracket of one value
		case 1:
			lo, hi = a*0.97, a // narrow, just below a distance
		}
		loBits, span := math.Float64bits(lo), math.Float64bits(hi)-math.Float64bits(lo)
		wantBelow, want := bracketPairs(s, loBits, span, nil)
		slices.Sort(want)
		// The copy made here, and one padded as Pelt's running sums
		// share it.
		stride := (n+7)&^7 + 8
		padded := &columnCopy{soa: make([]float64, 3*stride), stride: stride}
		fillColumnMajor(padded.soa, s, stride)
		for _, cols := range []*columnCopy{nil, padded} {
			withAVX512(func(on bool) {
				gotBelow, got := bracketPairsBlocks(s, cols, loBits, span, nil)
				slices.Sort(got)
				if gotBelow != wantBelow || !slices.Equal(got, want) {
					t.Fatalf("trial %d (n=%d, AVX-512 %v, padded %v): below %d, kept %d; want %d, %d",
						trial, n, on, cols != nil, gotBelow, len(got), wantBelow, len(want))
				}
			})
		}
	}
}

// TestBoxDistances checks the bounds on random boxes: every rounded
// distance between points of the boxes lies within them, and both are
// reached by a pair of points (the closest and the farthest corners).
func TestBoxDistances(t *testing.T) {
	rng := newRand(43)
	for trial := range 2000 {
		var a, b [6]float64
		for k := range 3 {
			scale := math.Pow(10, float64(rng.IntN(6)-3))
			a[k], a[3+k] = sortedPair(rng.NormFloat64()*scale, rng.NormFloat64()*scale)
			b[k], b[3+k] = sortedPair(rng.NormFloat64()*scale, rng.NormFloat64()*scale)
		}
		near, far := boxDistances(a[:], b[:])
		for range 20 {
			var p, q [3]float64
			for k := range 3 {
				p[k] = a[k] + rng.Float64()*(a[3+k]-a[k])
				q[k] = b[k] + rng.Float64()*(b[3+k]-b[k])
				p[k], q[k] = min(max(p[k], a[k]), a[3+k]), min(max(q[k], b[k]), b[3+k])
			}
			if d := sqDist(p[:], q[:]); d < near || d > far {
				t.Fatalf("trial %d: %v outside [%v, %v]", trial, d, near, far)
			}
		}
		var pn, qn, pf, qf [3]float64
		for k := range 3 {
			switch {
			case a[k]-b[3+k] > 0:
				pn[k], qn[k] = a[k], b[3+k]
			case a[3+k]-b[k] < 0:
				pn[k], qn[k] = a[3+k], b[k]
			default:
				pn[k] = max(a[k], b[k])
				qn[k] = pn[k]
			}
			if b[3+k]-a[k] >= a[3+k]-b[k] {
				pf[k], qf[k] = a[k], b[3+k]
			} else {
				pf[k], qf[k] = a[3+k], b[k]
			}
		}
		if got := sqDist(pn[:], qn[:]); got != near {
			t.Fatalf("trial %d: the closest corners are %v apart, near %v", trial, got, near)
		}
		if got := sqDist(pf[:], qf[:]); got != far {
			t.Fatalf("trial %d: the farthest corners are %v apart, far %v", trial, got, far)
		}
	}
}

func sortedPair(a, b float64) (float64, float64) { return min(a, b), max(a, b) }
