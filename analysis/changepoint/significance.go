package changepoint

import (
	"context"
	"fmt"
	"math"
)

// ChangeTest is the answer to "did this signal change at all?".
type ChangeTest struct {
	// Bkp is the best single breakpoint (ruptures' Binseg first split).
	Bkp int `json:"bkp"`
	// Gain is the cost decrease of splitting at Bkp.
	Gain float64 `json:"gain"`
	// PValue is the share of permuted signals (samples shuffled, which
	// destroys any change) whose best split gains at least as much.
	PValue float64 `json:"p_value"`
	// Changed reports PValue < the requested level.
	Changed bool `json:"changed"`
}

// TestChange runs a permutation test of "no change" on s with the given
// cost: the statistic is the gain of the best single split (min_size 2,
// jump 1), compared with its distribution over perms shuffles of the
// samples (seeded, deterministic). The test assumes samples are
// exchangeable when nothing changes (no strong autocorrelation).
func TestChange(ctx context.Context, s *Signal, cost Cost, perms int, level float64, seed uint64) (ChangeTest, error) {
	if perms < 1 {
		return ChangeTest{}, fmt.Errorf("%w: perms must be >= 1, got %d", ErrBadParameter, perms)
	}
	if !(level > 0 && level < 1) {
		return ChangeTest{}, fmt.Errorf("%w: level must be in (0, 1), got %v", ErrBadParameter, level)
	}
	best := func(sig *Signal) (split, error) {
		b, err := NewBinseg(cost, 2, 1)
		if err != nil {
			return split{}, err
		}
		if err := b.cfg.fit(ctx, sig); err != nil {
			return split{}, err
		}
		if err := checkSegmentation(sig.n, 1, 1, b.cfg.minSize); err != nil {
			return split{}, err
		}
		sp, err := b.singleBkp(ctxEvery(ctx), 0, sig.n)
		if err != nil {
			return split{}, err
		}
		_, err = finish(ctx, nil)
		return sp, err
	}
	obs, err := best(s)
	if err != nil {
		return ChangeTest{}, fmt.Errorf("test change: %w", err)
	}
	rng := newRand(seed)
	perm := make([]float64, len(s.data))
	idx := make([]int, s.n)
	for i := range idx {
		idx[i] = i
	}
	exceed := 0
	for k := 0; k < perms; k++ {
		if err := ctx.Err(); err != nil {
			return ChangeTest{}, err
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for i, src := range idx {
			copy(perm[i*s.d:(i+1)*s.d], s.Row(src))
		}
		ps := &Signal{n: s.n, d: s.d, data: perm}
		sp, err := best(ps)
		if err != nil {
			return ChangeTest{}, fmt.Errorf("test change, permutation %d: %w", k, err)
		}
		if sp.gain >= obs.gain || math.IsNaN(sp.gain) {
			exceed++
		}
	}
	// Refit on the original so the caller's cost is left fitted on s.
	if err := cost.Fit(s); err != nil {
		return ChangeTest{}, err
	}
	p := float64(exceed+1) / float64(perms+1)
	return ChangeTest{Bkp: obs.bkp, Gain: obs.gain, PValue: p, Changed: p < level}, nil
}
