package detect

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
//
// ruptures recurses from (n, n_bkps) with a memo; the table is filled here
// bottom-up instead, every segment cost computed once and shared by every
// number of breakpoints. Each state takes the first best breakpoint in
// increasing order and sums costs left to right, as ruptures does, so the
// answer is the same.
func (d *Dynp) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := d.cfg.begin(ctx, "dynp", s, stop, StopCount); err != nil {
		return nil, err
	}
	n, k := s.n, stop.NBkps
	if k == 0 {
		return finish(ctx, []int{n})
	}
	jump, minSize := d.cfg.jump, d.cfg.minSize
	cost := d.cfg.cost
	// The grid of segment ends: multiples of jump below n, then n.
	g := (n-1)/jump + 2
	pos := func(i int) int { return min(i*jump, n) }
	// best[kk*g+i]: the cost of the best partition of [0, pos(i)) with kk
	// breakpoints, once found is set; arg holds its last breakpoint.
	best := make([]float64, (k+1)*g)
	arg := make([]int32, (k+1)*g)
	found := make([]bool, (k+1)*g)
	// maxK[i] is the most breakpoints [0, pos(i)) can hold (ruptures'
	// sanity_check), or -1.
	step := ceilDiv(minSize, jump) * jump
	maxK := make([]int, g)
	for i := range maxK {
		maxK[i] = -1
		if bkp := pos(i); bkp >= minSize {
			maxK[i] = min(bkp/jump, (bkp-minSize)/step)
		}
	}
	bc, bounded := cost.(boundedCost)
	var rowBuf *dynpRowBuf
	if bounded {
		rowBuf = newDynpRowBuf(g)
	}
	for ie := 1; ie < g; ie++ {
		if ie&15 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		end := pos(ie)
		if end >= minSize {
			best[ie], found[ie] = cost.Error(0, end), true
		}
		// States of [0, end) needed by the answer: kk < k before n, k at n.
		lo, hi := 1, k-1
		if ie == g-1 {
			lo, hi = k, k
		}
		if bounded {
			boundedRow(bc, cost, best, arg, found, maxK, g, ie, end, lo, hi, jump, minSize, rowBuf)
			continue
		}
		for ib := 1; ib < ie; ib++ {
			bkp := ib * jump
			top := min(hi, maxK[ib]+1)
			if end-bkp < minSize || top < lo {
				continue
			}
			c := cost.Error(bkp, end)
			for kk := lo; kk <= top; kk++ {
				v, at := best[(kk-1)*g+ib]+c, kk*g+ie
				if !found[at] || v < best[at] {
					best[at], arg[at], found[at] = v, int32(ib), true
				}
			}
		}
	}
	if !found[k*g+g-1] {
		return nil, checkSegmentation(n, k, jump, minSize)
	}
	bkps := make([]int, k+1)
	bkps[k] = n
	for kk, ie := k, g-1; kk > 0; kk-- {
		ie = int(arg[kk*g+ie])
		bkps[kk-1] = pos(ie)
	}
	return finish(ctx, bkps)
}

// dynpRowBuf is boundedRow's scratch space, one slot per grid point.
type dynpRowBuf struct {
	approx, exact, margin []float64
	known                 []bool
}

func newDynpRowBuf(g int) *dynpRowBuf {
	return &dynpRowBuf{approx: make([]float64, g), exact: make([]float64, g),
		margin: make([]float64, g), known: make([]bool, g)}
}

// boundedRow fills Dynp's states ending at grid point ie (lo..hi
// breakpoints) with a cost that has an estimate: each candidate's sum is
// estimated first, and only those whose estimate may be the least get the
// exact cost. The exact candidates are taken in increasing order with the
// same rule as the direct loop (the first least wins); the others are
// strictly larger, so the states, and the answer, are the direct loop's.
func boundedRow(bc boundedCost, cost Cost, best []float64, arg []int32, found []bool, maxK []int,
	g, ie, end, lo, hi, jump, minSize int, buf *dynpRowBuf) {
	for ib := 1; ib < ie; ib++ {
		buf.known[ib] = false
		if end-ib*jump >= minSize && min(hi, maxK[ib]+1) >= lo {
			buf.approx[ib] = bc.approxError(ib*jump, end)
			buf.margin[ib] = bc.errorBound()
		}
	}
	for kk := lo; kk <= hi; kk++ {
		at := kk*g + ie
		least := math.Inf(1)
		for ib := 1; ib < ie; ib++ {
			if end-ib*jump < minSize || kk > min(hi, maxK[ib]+1) {
				continue
			}
			prev := best[(kk-1)*g+ib]
			m := buf.margin[ib] + 4*epsilon*(math.Abs(prev)+math.Abs(buf.approx[ib]))
			least = math.Min(least, prev+buf.approx[ib]+m)
		}
		for ib := 1; ib < ie; ib++ {
			if end-ib*jump < minSize || kk > min(hi, maxK[ib]+1) {
				continue
			}
			prev := best[(kk-1)*g+ib]
			m := buf.margin[ib] + 4*epsilon*(math.Abs(prev)+math.Abs(buf.approx[ib]))
			if prev+buf.approx[ib]-m > least {
				continue
			}
			if !buf.known[ib] {
				buf.exact[ib], buf.known[ib] = cost.Error(ib*jump, end), true
			}
			if v := prev + buf.exact[ib]; !found[at] || v < best[at] {
				best[at], arg[at], found[at] = v, int32(ib), true
			}
		}
	}
}
