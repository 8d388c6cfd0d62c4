package detect

import (
	"context"
	"math"
)

// Binseg is greedy binary segmentation: each step splits the segment whose
// best split gains the most, as ruptures' Binseg does.
type Binseg struct{ cfg searchConfig }

// NewBinseg returns a binary segmentation with the given cost, minimum
// segment length and grid step.
func NewBinseg(cost Cost, minSize, jump int) (*Binseg, error) {
	cfg, err := newSearchConfig(cost, minSize, jump)
	return &Binseg{cfg}, err
}

// Name returns "binseg".
func (b *Binseg) Name() string { return "binseg" }

type split struct {
	bkp  int // -1 when the segment cannot be split
	gain float64
}

// Segment runs the search; all three stopping rules apply.
func (b *Binseg) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := b.cfg.begin(ctx, "binseg", s, stop, StopPenalty, StopCount, StopEpsilon); err != nil {
		return nil, err
	}
	n := s.n
	cache := map[[2]int]split{}
	bkps := []int{n}
	check := ctxEvery(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		best := split{bkp: -1}
		start := 0
		for i, end := range bkps {
			sp, ok := cache[[2]int{start, end}]
			var err error
			if !ok {
				if sp, err = b.singleBkp(check, start, end); err != nil {
					return nil, err
				}
				cache[[2]int{start, end}] = sp
			}
			if i == 0 || sp.gain > best.gain {
				best = sp
			}
			start = end
		}
		if best.bkp < 0 {
			break
		}
		grow := false
		switch stop.Kind {
		case StopCount:
			grow = len(bkps)-1 < stop.NBkps
		case StopPenalty:
			grow = best.gain > stop.Pen
		case StopEpsilon:
			grow = SumOfCosts(b.cfg.cost, bkps) > stop.Epsilon
		}
		if !grow {
			break
		}
		bkps = insertSorted(bkps, best.bkp)
	}
	return finish(ctx, bkps)
}

// singleBkp returns the best split of [start, end) on the jump grid that
// starts at start (ties go to the later index).
func (b *Binseg) singleBkp(check func() error, start, end int) (split, error) {
	cost, minSize := b.cfg.cost, b.cfg.minSize
	whole := cost.Error(start, end)
	if math.IsInf(whole, -1) {
		return split{bkp: -1}, nil
	}
	if bc, ok := cost.(boundedCost); ok {
		return b.singleBkpBounded(check, bc, whole, start, end)
	}
	best := split{bkp: -1}
	for bkp := start; bkp < end; bkp += b.cfg.jump {
		if bkp-start < minSize || end-bkp < minSize {
			continue
		}
		if err := check(); err != nil {
			return split{}, err
		}
		g := whole - cost.Error(start, bkp) - cost.Error(bkp, end)
		if best.bkp < 0 || g >= best.gain {
			best = split{bkp: bkp, gain: g}
		}
	}
	if best.bkp < 0 {
		best.gain = 0
	}
	return best, nil
}

// singleBkpBounded is singleBkp for a cost with an estimate: the gains
// are estimated first and only those that may be the largest are computed
// exactly, in increasing order with singleBkp's rule (the last largest
// wins); the others are strictly smaller, so the split is singleBkp's.
func (b *Binseg) singleBkpBounded(check func() error, bc boundedCost, whole float64, start, end int) (split, error) {
	cost, minSize, jump := b.cfg.cost, b.cfg.minSize, b.cfg.jump
	first := -1
	for bkp := start; bkp < end; bkp += jump {
		if bkp-start >= minSize && end-bkp >= minSize {
			first = bkp
			break
		}
	}
	if first < 0 {
		return split{bkp: -1, gain: 0}, nil
	}
	var est, margin []float64
	most := math.Inf(-1)
	for bkp := first; end-bkp >= minSize; bkp += jump {
		if err := check(); err != nil {
			return split{}, err
		}
		l, r := bc.approxError(start, bkp), bc.approxError(bkp, end)
		g := whole - l - r
		m := 2*bc.errorBound() + 4*epsilon*(math.Abs(whole)+math.Abs(l)+math.Abs(r))
		est, margin = append(est, g), append(margin, m)
		most = math.Max(most, g-m)
	}
	best := split{bkp: -1}
	for i, g := range est {
		if g+margin[i] < most {
			continue
		}
		bkp := first + i*jump
		exact := whole - cost.Error(start, bkp) - cost.Error(bkp, end)
		if best.bkp < 0 || exact >= best.gain {
			best = split{bkp: bkp, gain: exact}
		}
	}
	return best, nil
}

// insertSorted inserts v into the sorted slice a.
func insertSorted(a []int, v int) []int {
	i := 0
	for i < len(a) && a[i] < v {
		i++
	}
	a = append(a, 0)
	copy(a[i+1:], a[i:])
	a[i] = v
	return a
}
