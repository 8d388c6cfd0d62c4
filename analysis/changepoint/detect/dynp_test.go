package detect

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// dynpReference is ruptures' Dynp as written there: recursion from
// (end, k) over admissible breakpoints, memoised.
func dynpReference(cost Cost, n, k, jump, minSize int) ([]int, bool) {
	type key struct{ end, k int }
	type sol struct {
		v    float64
		bkps []int
		ok   bool
	}
	memo := map[key]sol{}
	var seg func(end, k int) sol
	seg = func(end, k int) sol {
		if r, ok := memo[key{end, k}]; ok {
			return r
		}
		var r sol
		if k == 0 {
			r = sol{cost.Error(0, end), []int{end}, true}
		} else {
			for bkp := 0; bkp < end; bkp += jump {
				if bkp < minSize || end-bkp < minSize || !sanityCheck(bkp, k-1, jump, minSize) {
					continue
				}
				left := seg(bkp, k-1)
				if !left.ok {
					continue
				}
				v := left.v + cost.Error(bkp, end)
				if !r.ok || v < r.v {
					r = sol{v, append(slices.Clone(left.bkps), end), true}
				}
			}
		}
		memo[key{end, k}] = r
		return r
	}
	if !sanityCheck(n, k, jump, minSize) {
		return nil, false
	}
	r := seg(n, k)
	return r.bkps, r.ok
}

// TestDynpMatchesRecursion compares the bottom-up table with ruptures'
// recursion on random problems, including ties (integer signals).
func TestDynpMatchesRecursion(t *testing.T) {
	rng := newRand(11)
	for trial := 0; trial < 300; trial++ {
		n := 2 + rng.IntN(40)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(4))
		}
		s, _ := NewSeries(x)
		jump, minSize, k := 1+rng.IntN(4), 1+rng.IntN(4), rng.IntN(5)
		cost := []string{"l2", "l1", "rbf"}[trial%3]
		c, _ := NewCost(cost, CostParams{})
		d, _ := NewDynp(c, minSize, jump)
		got, err := d.Segment(context.Background(), s, Count(k))
		want, ok := dynpReference(c, n, k, jump, d.cfg.minSize)
		switch {
		case !ok && !errors.Is(err, ErrBadSegmentation):
			t.Fatalf("n=%d jump=%d min_size=%d k=%d %s: got %v, %v; the recursion finds none", n, jump, minSize, k, cost, got, err)
		case ok && (err != nil || !slices.Equal(got, want)):
			t.Fatalf("n=%d jump=%d min_size=%d k=%d %s: got %v, %v; want %v", n, jump, minSize, k, cost, got, err, want)
		}
	}
}
