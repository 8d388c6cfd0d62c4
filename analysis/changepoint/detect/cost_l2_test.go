package detect

import (
	"math"
	"math/big"
	"testing"
)

// TestCostL2Bound checks, on continuous and tie-heavy signals and on
// values far from zero, that Error is within rounding of the real cost
// (computed in rational arithmetic) and that approxError is within
// errorBound of Error.
func TestCostL2Bound(t *testing.T) {
	cont, _, _ := PwConstant(150, 3, 4, 2, 9)
	rng := newRand(7)
	ties := make([][]float64, 120)
	far := make([][]float64, 100)
	for i := range ties {
		ties[i] = []float64{float64(rng.IntN(4))}
	}
	for i := range far {
		far[i] = []float64{1e6 + rng.NormFloat64(), float64(rng.IntN(3)) / 2}
	}
	signals := []*Signal{cont}
	for _, rows := range [][][]float64{ties, far} {
		s, err := NewSignal(rows)
		if err != nil {
			t.Fatal(err)
		}
		signals = append(signals, s)
	}
	for k, s := range signals {
		var c CostL2
		if err := c.Fit(s); err != nil {
			t.Fatal(err)
		}
		for a := 0; a < s.Len(); a += 7 {
			for b := a + 1; b <= s.Len(); b += 5 {
				got := c.Error(a, b)
				real := realL2(s, a, b)
				if math.Abs(got-real) > 1e-9*(1+math.Abs(real))+c.errorBound()/4 {
					t.Fatalf("signal %d [%d,%d): Error %v, real cost %v", k, a, b, got, real)
				}
				if est := c.approxError(a, b); math.Abs(est-got) > c.errorBound() {
					t.Fatalf("signal %d [%d,%d): estimate %v is %g from %v, beyond the bound %g", k, a, b, est, est-got, got, c.errorBound())
				}
			}
		}
	}
}

// realL2 is the l2 cost of [a, b) in rational arithmetic, rounded once.
func realL2(s *Signal, a, b int) float64 {
	total := new(big.Rat)
	l := big.NewRat(int64(b-a), 1)
	for j := range s.Dims() {
		sum, sq := new(big.Rat), new(big.Rat)
		for i := a; i < b; i++ {
			v := new(big.Rat).SetFloat64(s.Row(i)[j])
			sum.Add(sum, v)
			sq.Add(sq, v.Mul(v, v))
		}
		// sq - sum^2/l
		sum.Mul(sum, sum)
		sum.Quo(sum, l)
		total.Add(total, sq.Sub(sq, sum))
	}
	f, _ := total.Float64()
	return f
}

// TestCostCosineBound checks, on continuous and tie-heavy signals with
// zero samples, that exactError is within rounding of the cost summed
// directly from SciPy's norms and that Error is within errorBound of
// exactError.
func TestCostCosineBound(t *testing.T) {
	cont, _, _ := PwConstant(90, 3, 4, 2, 9)
	rng := newRand(8)
	rows := make([][]float64, 80)
	for i := range rows {
		rows[i] = []float64{float64(rng.IntN(3)), float64(rng.IntN(3) - 1)}
	}
	ties, err := NewSignal(rows)
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range []*Signal{cont, ties} {
		var c CostCosine
		if err := c.Fit(s); err != nil {
			t.Fatal(err)
		}
		for a := 0; a < s.Len(); a += 9 {
			for b := a + 1; b <= s.Len(); b += 7 {
				exact := c.exactError(a, b)
				sum := 0.0
				for i := a; i < b; i++ {
					for j := a; j < b; j++ {
						if i != j && c.norms[i] != 0 && c.norms[j] != 0 {
							sum += dot(s.Row(i), s.Row(j)) / (c.norms[i] * c.norms[j])
						}
					}
				}
				if real := -sum / float64(b-a); math.Abs(exact-real) > 1e-12*float64(b-a) {
					t.Fatalf("signal %d [%d,%d): exactError %v, real cost %v", k, a, b, exact, real)
				}
				if got := c.Error(a, b); math.Abs(got-exact) > c.errorBound() {
					t.Fatalf("signal %d [%d,%d): Error %v is %g from exactError %v, beyond the bound %g", k, a, b, got, got-exact, exact, c.errorBound())
				}
			}
		}
	}
}
