package changepoint

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// NoiseVariance estimates the noise variance of each dimension of s from
// the median absolute first difference (robust to the changes themselves):
// sigma = MAD(diff) / (0.6745 * sqrt 2).
func NoiseVariance(s *Signal) []float64 {
	out := make([]float64, s.d)
	if s.n < 2 {
		return out
	}
	diff := make([]float64, s.n-1)
	for j := range out {
		for i := range diff {
			diff[i] = math.Abs(s.At(i+1, j) - s.At(i, j))
		}
		sigma := medianOf(diff) / (0.6745 * math.Sqrt2)
		out[j] = sigma * sigma
	}
	return out
}

// PenaltyBIC returns a BIC-style penalty for the l2 cost on s: the number
// of parameters per segment (d) times the noise variance times log n,
// summed over dimensions. Where the robust noise estimate is zero (a
// dimension constant but for its changes) half the mean square of the
// first differences stands in for it, so that the penalty keeps the
// signal's scale. For likelihood costs (normal, ar) use
// float64(params)*math.Log(n) instead.
func PenaltyBIC(s *Signal) float64 {
	pen := 0.0
	for j, v := range NoiseVariance(s) {
		if v == 0 && s.n > 1 {
			for i := 1; i < s.n; i++ {
				e := s.At(i, j) - s.At(i-1, j)
				v += e * e
			}
			v /= 2 * float64(s.n-1)
		}
		pen += v
	}
	if pen == 0 {
		pen = 1
	}
	return 2 * pen * math.Log(float64(s.n))
}

// PenaltyMBIC returns the modified BIC penalty of Zhang and Siegmund
// (3 log n per change, scaled by the noise variance), more conservative
// than PenaltyBIC on long signals.
func PenaltyMBIC(s *Signal) float64 { return 1.5 * PenaltyBIC(s) }

// PenaltyPoint is one penalty of a penalty path: the breakpoints found and
// the unpenalised total cost of that segmentation.
type PenaltyPoint struct {
	Pen   float64 `json:"pen"`
	Bkps  []int   `json:"bkps"`
	Total float64 `json:"total_cost"`
}

// PenaltyPath runs the penalised search p (its Pen is replaced) for each
// penalty in pens, in increasing order.
func PenaltyPath(ctx context.Context, s *Signal, p Params, pens []float64) ([]PenaltyPoint, error) {
	if len(pens) == 0 {
		return nil, fmt.Errorf("%w: no penalties given", ErrBadParameter)
	}
	sorted := append([]float64(nil), pens...)
	sort.Float64s(sorted)
	costName := p.Cost
	if p.Method == "kernelcpd" && costName == "linear" {
		costName = "l2" // the linear kernel's cost
	}
	cost, err := NewCost(costName, p.CostParams)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadParameter, err)
	}
	var out []PenaltyPoint
	for _, pen := range sorted {
		q := p
		q.Pen, q.NBkps, q.Epsilon = &pen, nil, nil
		bkps, err := Detect(ctx, s, q)
		if err != nil {
			return nil, fmt.Errorf("pen %v: %w", pen, err)
		}
		total := math.NaN()
		if cost.Fit(s) == nil {
			total = SumOfCosts(cost, bkps)
		}
		out = append(out, PenaltyPoint{Pen: pen, Bkps: bkps, Total: total})
	}
	return out, nil
}

// ElbowPenalty scans steps penalties spaced logarithmically between lo and
// hi and returns the point at the elbow of the curve of total cost against
// number of breakpoints: the one farthest from the chord joining the
// curve's ends (the "kneedle" rule). It needs a penalised method.
func ElbowPenalty(ctx context.Context, s *Signal, p Params, lo, hi float64, steps int) (PenaltyPoint, error) {
	if !(lo > 0) || !(hi > lo) || steps < 3 {
		return PenaltyPoint{}, fmt.Errorf("%w: elbow needs 0 < lo < hi and at least 3 steps (got %v, %v, %d)", ErrBadParameter, lo, hi, steps)
	}
	pens := make([]float64, steps)
	for i := range pens {
		pens[i] = lo * math.Pow(hi/lo, float64(i)/float64(steps-1))
	}
	path, err := PenaltyPath(ctx, s, p, pens)
	if err != nil {
		return PenaltyPoint{}, err
	}
	first, last := path[len(path)-1], path[0] // fewest and most breakpoints
	x0, y0 := float64(len(first.Bkps)), first.Total
	x1, y1 := float64(len(last.Bkps)), last.Total
	dx, dy := x1-x0, y1-y0
	norm := math.Hypot(dx, dy)
	best, bestD := path[len(path)-1], -1.0
	for i := len(path) - 1; i >= 0; i-- { // prefer fewer breakpoints on ties
		pt := path[i]
		if norm == 0 || math.IsNaN(pt.Total) {
			break
		}
		d := math.Abs(dy*(float64(len(pt.Bkps))-x0)-dx*(pt.Total-y0)) / norm
		if d > bestD {
			best, bestD = pt, d
		}
	}
	return best, nil
}
