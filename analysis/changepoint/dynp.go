package changepoint

import (
	"context"
	"math"
)

// Dynp is the exact dynamic programming search for a given number of
// breakpoints on the jump grid (ruptures' Dynp).
type Dynp struct{ cfg searchConfig }

// NewDynp returns a dynamic programming search with the given cost,
// minimum segment length and grid step.
func NewDynp(cost Cost, minSize, jump int) (*Dynp, error) {
	cfg, err := newSearchConfig(cost, minSize, jump)
	return &Dynp{cfg}, err
}

// Name returns "dynp".
func (d *Dynp) Name() string { return "dynp" }

// Segment returns the optimal segmentation with stop.NBkps breakpoints;
// only the Count rule applies.
func (d *Dynp) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := d.cfg.begin(ctx, "dynp", s, stop, StopCount); err != nil {
		return nil, err
	}
	n, k := s.n, stop.NBkps
	jump, minSize := d.cfg.jump, d.cfg.minSize
	// Grid of possible segment ends: multiples of jump, and n.
	// pos[e] is the grid index of end e.
	var grid []int
	pos := make([]int, n+1)
	for e := 0; e < n; e += jump {
		pos[e] = len(grid)
		grid = append(grid, e)
	}
	pos[n] = len(grid)
	grid = append(grid, n)
	g := len(grid)
	// memo[kk][i]: best cost of [0, grid[i]) with kk breakpoints; arg the
	// last breakpoint. NaN marks "not computed".
	memo := make([][]float64, k+1)
	arg := make([][]int32, k+1)
	for kk := range memo {
		memo[kk] = make([]float64, g)
		arg[kk] = make([]int32, g)
		for i := range memo[kk] {
			memo[kk][i] = math.NaN()
		}
	}
	// Segment costs are cached on the grid (each is used by every k).
	costCache := map[[2]int]float64{}
	segCost := func(a, b int) float64 {
		key := [2]int{a, b}
		if v, ok := costCache[key]; ok {
			return v
		}
		v := d.cfg.cost.Error(a, b)
		costCache[key] = v
		return v
	}
	check := ctxEvery(ctx)
	var solve func(end, kk int) (float64, error)
	solve = func(end, kk int) (float64, error) {
		ie := pos[end]
		if v := memo[kk][ie]; !math.IsNaN(v) {
			return v, nil
		}
		if kk == 0 {
			v := segCost(0, end)
			memo[0][ie] = v
			return v, nil
		}
		if err := check(); err != nil {
			return 0, err
		}
		best, bestBkp := 0.0, -1
		for bkp := 0; bkp < end; bkp += jump {
			if !sanityCheck(bkp, kk-1, jump, minSize) || end-bkp < minSize {
				continue
			}
			left, err := solve(bkp, kk-1)
			if err != nil {
				return 0, err
			}
			v := left + segCost(bkp, end)
			if bestBkp < 0 || v < best {
				best, bestBkp = v, bkp
			}
		}
		if bestBkp < 0 {
			return 0, checkSegmentation(end, kk, jump, minSize)
		}
		memo[kk][ie], arg[kk][ie] = best, int32(bestBkp)
		return best, nil
	}
	if _, err := solve(n, k); err != nil {
		return nil, err
	}
	bkps := make([]int, k+1)
	bkps[k] = n
	for kk, end := k, n; kk > 0; kk-- {
		end = int(arg[kk][pos[end]])
		bkps[kk-1] = end
	}
	return finish(ctx, bkps)
}
