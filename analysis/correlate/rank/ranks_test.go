package rank

import (
	"math"
	"slices"
	"testing"
)

func TestMidranksAndMannWhitney(t *testing.T) {
	var r ranker
	r.rank([]float64{3, 1, 2, 2, 5})
	if want := []float64{4, 1, 2.5, 2.5, 5}; !slices.Equal(r.ranks, want) {
		t.Fatalf("ranks = %v, want %v", r.ranks, want)
	}
	if r.ties != 6 {
		t.Errorf("tie term = %v, want 6", r.ties)
	}
	// Every later value above every earlier one: effect 1.
	r.rank([]float64{1, 2, 3, 10, 11, 12})
	if e, z := mannWhitney(r.ranks, 3, r.ties); e != 1 || z <= 0 {
		t.Errorf("effect %v z %v, want 1 and positive", e, z)
	}
	if got := HodgesLehmann([]float64{1, 2, 3}, []float64{11, 12, 13}); got != 10 {
		t.Errorf("Hodges-Lehmann = %v, want 10", got)
	}
}

func TestNegativeAndEqualValuesRankInOrder(t *testing.T) {
	var r ranker
	x := []float64{-1e300, -2, -0.5, 0, 1e-300, 3, math.MaxFloat64}
	r.rank(x)
	for i, v := range r.ranks {
		if v != float64(i+1) {
			t.Fatalf("ranks of %v = %v", x, r.ranks)
		}
	}
}
