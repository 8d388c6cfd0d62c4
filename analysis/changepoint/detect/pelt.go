package detect

import (
	"context"
	"fmt"
	"math"
)

// Pelt is the penalised exact search with pruning (Killick et al. 2012),
// as ruptures implements it: candidate breakpoints on the jump grid, the
// admissible set pruned with the penalty.
type Pelt struct{ cfg searchConfig }

// NewPelt returns a Pelt search with the given cost, minimum segment length
// and grid step (ruptures' defaults are 2 and 5).
func NewPelt(cost Cost, minSize, jump int) (*Pelt, error) {
	cfg, err := newSearchConfig(cost, minSize, jump)
	return &Pelt{cfg}, err
}

// Name returns "pelt".
func (p *Pelt) Name() string { return "pelt" }

// Segment finds the breakpoints minimising the penalised cost; only the
// Penalty rule applies.
func (p *Pelt) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if st, ok := p.cfg.cost.(segmentStreamer); ok && stop.Kind == StopPenalty {
		st.streamSegments(p.cfg.jump)
		defer st.streamDone()
	}
	if err := p.cfg.begin(ctx, "pelt", s, stop, StopPenalty); err != nil {
		return nil, err
	}
	return peltSearch(ctx, p.cfg.cost, s.n, p.cfg.minSize, p.cfg.jump, stop.Pen)
}

func peltSearch(ctx context.Context, cost Cost, n, minSize, jump int, pen float64) ([]int, error) {
	total := make([]float64, n+1) // total[t]: cost of the best partition of [0, t)
	prev := make([]int, n+1)      // prev[t]: start of its last segment
	valid := make([]bool, n+1)
	valid[0] = true
	check := ctxEvery(ctx)
	admissible := make([]int, 0, 64)
	subT := make([]int, 0, 64)
	subV := make([]float64, 0, 64)
	next := make([]int, 0, 64)
	bc, bounded := cost.(boundedCost)
	streamer, streamed := cost.(segmentStreamer)
	var exact []bool
	var margin []float64
	step := func(bkp int) error {
		admissible = append(admissible, (bkp-minSize)/jump*jump)
		subT, subV = subT[:0], subV[:0]
		exact, margin = exact[:0], margin[:0]
		if streamed {
			streamer.streamTo(bkp, admissible[0])
		}
		for _, t := range admissible {
			if !valid[t] {
				continue // ruptures: no partition of [0, t) exists
			}
			subT = append(subT, t)
			if !bounded {
				subV = append(subV, total[t]+(cost.Error(t, bkp)+pen))
				continue
			}
			a := bc.approxError(t, bkp)
			v := total[t] + (a + pen)
			subV = append(subV, v)
			exact = append(exact, false)
			margin = append(margin, bc.errorBound()+4*epsilon*(math.Abs(total[t])+math.Abs(a)+math.Abs(pen)))
		}
		if len(subV) == 0 {
			return fmt.Errorf("%w: pelt found no admissible segment ending at %d", ErrBadSegmentation, bkp)
		}
		resolve := func(i int) {
			if bounded && !exact[i] {
				subV[i] = total[subT[i]] + (cost.Error(subT[i], bkp) + pen)
				exact[i] = true
			}
		}
		if bounded {
			// Only the candidates whose estimate might be the least need
			// their exact value; the others are strictly larger.
			hi := math.Inf(1)
			for i, v := range subV {
				hi = math.Min(hi, v+margin[i])
			}
			for i, v := range subV {
				if v-margin[i] <= hi {
					resolve(i)
				}
			}
		}
		best := -1
		for i, v := range subV {
			if bounded && !exact[i] {
				continue
			}
			if best < 0 || v < subV[best] {
				best = i
			}
		}
		total[bkp], prev[bkp], valid[bkp] = subV[best], subT[best], true
		// ruptures zips the admissible list with the sub-problems, which
		// skip invalid points: reproduce the pairing exactly.
		limit := total[bkp] + pen
		next = next[:0]
		for i := 0; i < len(admissible) && i < len(subV); i++ {
			if bounded && !exact[i] && math.Abs(subV[i]-limit) <= margin[i] {
				resolve(i)
			}
			if subV[i] <= limit {
				next = append(next, admissible[i])
			}
		}
		admissible, next = next, admissible
		return nil
	}
	for k := 0; k < n; k += jump {
		if k < minSize {
			continue
		}
		if err := check(); err != nil {
			return nil, err
		}
		if err := step(k); err != nil {
			return nil, err
		}
	}
	if err := step(n); err != nil {
		return nil, err
	}
	return finish(ctx, backtrack(prev, n))
}

// segmentStreamer is a cost that can keep running sums for a search that
// asks for segments in order of their end, from starts on a grid (the
// multiples of grid) that never decrease: streamSegments(grid) before
// Fit, streamTo(end, low) before the segments [s, end) with s >= low,
// and streamDone once the search is over. Other segments still get
// Error.
type segmentStreamer interface {
	streamSegments(grid int)
	streamTo(end, low int)
	streamDone()
}

// boundedCost is a cost whose Error (rounded as ruptures rounds it) is
// slower than an estimate: approxError is within errorBound of Error on
// every segment. Pelt, Binseg, Dynp, BottomUp and Window decide on
// estimates and compute Error only where the bound leaves a decision
// open, so their answers are those of Error alone.
type boundedCost interface {
	approxError(start, end int) float64
	errorBound() float64
}

// refinedCost is a cost whose Error is itself an estimate, within
// errorBound of exactError, the value ruptures' NumPy code computes.
// exactError is too slow for the searches that need an exact value at
// every step (Pelt, Dynp, Binseg), so only BottomUp and Window, which need
// it near ties only, use it.
type refinedCost interface {
	exactError(start, end int) float64
	errorBound() float64
}

// estimatesOf returns how BottomUp and Window score a fitted cost's
// segments: on est, and on exact where est's error (at most bound) leaves
// a comparison open. ok is false for a cost without an estimate; est and
// exact are then both Error.
func estimatesOf(cost Cost) (est, exact func(start, end int) float64, bound float64, ok bool) {
	if bc, isBounded := cost.(boundedCost); isBounded {
		return bc.approxError, cost.Error, bc.errorBound(), true
	}
	if rc, isRefined := cost.(refinedCost); isRefined {
		return cost.Error, rc.exactError, rc.errorBound(), true
	}
	return cost.Error, cost.Error, 0, false
}

// epsilon is the float64 machine epsilon.
const epsilon = 0x1p-52

// backtrack follows prev pointers from n back to 0.
func backtrack(prev []int, n int) []int {
	var bkps []int
	for t := n; t > 0; t = prev[t] {
		bkps = append(bkps, t)
	}
	for i, j := 0, len(bkps)-1; i < j; i, j = i+1, j-1 {
		bkps[i], bkps[j] = bkps[j], bkps[i]
	}
	return bkps
}
