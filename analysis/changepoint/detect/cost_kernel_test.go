package detect

import (
	"math"
	"testing"
)

// gramCost is ruptures' kernel cost computed from the Gram matrix:
// trace minus sum over length, k the kernel (diag its diagonal value).
func gramCost(k func(i, j int) float64, diag float64, start, end int) float64 {
	sum := 0.0
	for i := start; i < end; i++ {
		for j := start; j < end; j++ {
			if i == j {
				sum += diag
			} else {
				sum += k(i, j)
			}
		}
	}
	l := float64(end - start)
	return diag*l - sum/l
}

func TestCostCosine(t *testing.T) {
	s, _, _ := PwConstant(90, 3, 3, 1, 5)
	for _, i := range []int{4, 50, 51} { // zero samples
		copy(s.data[i*3:(i+1)*3], []float64{0, 0, 0})
	}
	cos := func(i, j int) float64 {
		a, b := s.Row(i), s.Row(j)
		den := math.Sqrt(dot(a, a)) * math.Sqrt(dot(b, b))
		if den == 0 {
			return 0
		}
		return dot(a, b) / den
	}
	var c CostCosine
	if err := c.Fit(s); err != nil {
		t.Fatal(err)
	}
	for a := 0; a < s.Len(); a += 5 {
		for b := a + 1; b <= s.Len(); b += 4 {
			want := gramCost(cos, 0, a, b)
			if got := c.Error(a, b); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("[%d,%d): got %v, want %v", a, b, got, want)
			}
		}
	}
}

func TestCostRBF(t *testing.T) {
	for _, d := range []int{1, 3} {
		s, _, _ := PwConstant(80, d, 3, 1, 6)
		for _, mode := range []string{"table", "direct", "band"} {
			c := CostRBF{Direct: mode == "direct"}
			if mode == "band" {
				c.limitSegments(7) // longer segments are summed on the fly
			}
			if err := c.Fit(s); err != nil {
				t.Fatal(err)
			}
			rbf := func(i, j int) float64 {
				return math.Exp(-min(max(sqDist(s.Row(i), s.Row(j))*c.FittedGamma(), 1e-2), 1e2))
			}
			for a := 0; a < s.Len(); a += 3 {
				for b := a + 1; b <= s.Len(); b += 2 {
					want := gramCost(rbf, 1, a, b)
					if got := c.Error(a, b); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Fatalf("d=%d %s [%d,%d): got %v, want %v", d, mode, a, b, got, want)
					}
				}
			}
		}
	}
}
