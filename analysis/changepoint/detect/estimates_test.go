package detect

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// exactCost hides a cost's estimate: its Error is the exact value
// (exactError for a refinedCost), and it has no other method, so the
// searches compute every cost exactly.
type exactCost struct{ c Cost }

func (e exactCost) Name() string        { return e.c.Name() }
func (e exactCost) MinSize() int        { return e.c.MinSize() }
func (e exactCost) Fit(s *Signal) error { return e.c.Fit(s) }
func (e exactCost) Error(a, b int) float64 {
	if r, ok := e.c.(refinedCost); ok {
		return r.exactError(a, b)
	}
	return e.c.Error(a, b)
}

// TestSearchesOnEstimates checks that BottomUp and Window, which decide
// on a cost's estimate and compute the exact value only where its bound
// leaves a comparison open, answer exactly as when every cost is exact:
// l1, l2 and cosine, every stopping rule, continuous signals and
// tie-heavy ones (where many comparisons are exact ties). Window's penalty
// and epsilon rules sum a cosine segmentation's costs with Error (the
// estimate; exact sums would be O(n^2)), so those are left out.
func TestSearchesOnEstimates(t *testing.T) {
	rng := newRand(41)
	compared := 0
	for trial := range 60 {
		n := 40 + rng.IntN(160)
		rows := make([][]float64, n)
		for i := range rows {
			if trial%2 == 0 {
				rows[i] = []float64{float64(rng.IntN(3)), float64(rng.IntN(2))}
			} else {
				rows[i] = []float64{rng.NormFloat64() + float64(i/40), rng.NormFloat64()}
			}
		}
		s, err := NewSignal(rows)
		if err != nil {
			t.Fatal(err)
		}
		costName := []string{"l1", "l2", "cosine"}[trial%3]
		probe, _ := NewCost(costName, CostParams{})
		if err := probe.Fit(s); err != nil {
			t.Fatal(err)
		}
		whole := probe.Error(0, n)
		stops := []Stop{
			{Kind: StopCount, NBkps: 1 + trial%4},
			{Kind: StopPenalty, Pen: max(whole/float64(n), 1e-3) * float64(1+trial%5)},
			{Kind: StopEpsilon, Epsilon: whole * 0.3},
		}
		for _, stop := range stops {
			for _, method := range []string{"bottomup", "window"} {
				if method == "window" && costName == "cosine" && stop.Kind != StopCount {
					continue
				}
				run := func(c Cost) ([]int, error) {
					jump := 1 + trial%3
					if method == "window" {
						w, err := NewWindow(c, 10+2*(trial%4), 2, jump)
						if err != nil {
							return nil, err
						}
						return w.Segment(context.Background(), s, stop)
					}
					b, err := NewBottomUp(c, 2, jump)
					if err != nil {
						return nil, err
					}
					return b.Segment(context.Background(), s, stop)
				}
				est, _ := NewCost(costName, CostParams{})
				ref, _ := NewCost(costName, CostParams{})
				got, err1 := run(est)
				want, err2 := run(exactCost{ref})
				name := fmt.Sprintf("trial %d %s %s %+v", trial, method, costName, stop)
				if (err1 == nil) != (err2 == nil) {
					t.Fatalf("%s: errors %v and %v", name, err1, err2)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s: on estimates %v, exact %v", name, got, want)
				}
				if err1 == nil {
					compared++
				}
			}
		}
	}
	if compared < 250 {
		t.Fatalf("only %d searches answered", compared)
	}
}
