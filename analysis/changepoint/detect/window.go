package detect

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Window is window-sliding segmentation: a discrepancy score between the
// two halves of a window slid along the signal, whose peaks are the
// candidate breakpoints (ruptures' Window).
type Window struct {
	cost    Cost
	width   int
	minSize int
	jump    int
}

// NewWindow returns a window-sliding search. width is the window length
// (rounded down to even; ruptures' default is 100). As in ruptures,
// minSize only shapes the peak search and is not raised to the cost's.
func NewWindow(cost Cost, width, minSize, jump int) (*Window, error) {
	if _, err := newSearchConfig(cost, minSize, jump); err != nil {
		return nil, err
	}
	if width < 2 {
		return nil, fmt.Errorf("%w: width must be >= 2, got %d", ErrBadParameter, width)
	}
	half := width / 2
	if half < cost.MinSize() {
		return nil, fmt.Errorf("%w: width %d gives half-windows of %d samples, the %s cost needs %d", ErrBadParameter, width, half, cost.Name(), cost.MinSize())
	}
	return &Window{cost: cost, width: 2 * half, minSize: minSize, jump: jump}, nil
}

// Name returns "window".
func (w *Window) Name() string { return "window" }

// Segment runs the search; all three stopping rules apply.
func (w *Window) Segment(ctx context.Context, s *Signal, stop Stop) ([]int, error) {
	if err := stop.validate("window", StopPenalty, StopCount, StopEpsilon); err != nil {
		return nil, err
	}
	if l, ok := w.cost.(segmentLimiter); ok && stop.Kind == StopCount {
		// Only the window's segments are scored; the other rules
		// compare whole segmentations.
		l.limitSegments(w.width)
	}
	if err := fitCost(ctx, w.cost, s); err != nil {
		return nil, err
	}
	n := s.n
	if err := checkSegmentation(n, stop.NBkps, w.jump, w.minSize); err != nil {
		return nil, err
	}
	half := w.width / 2
	check := ctxEvery(ctx)
	// With a bounded cost the scores are first estimated, and only those
	// whose comparisons the estimate leaves open are computed exactly.
	errorOf, exactOf, bound, bounded := estimatesOf(w.cost)
	// scoreOf returns the score at k and the sum of the magnitudes of
	// the three costs.
	scoreOf := func(errorOf func(int, int) float64, k int) (g, size float64) {
		start, end := k-half, k+half
		whole := errorOf(start, end)
		if math.IsInf(whole, -1) {
			return 0, 0
		}
		l, r := errorOf(start, k), errorOf(k, end)
		return whole - (l + r), math.Abs(whole) + math.Abs(l) + math.Abs(r)
	}
	var inds []int
	var score, margin []float64
	for k := 0; k < n; k += w.jump {
		if k < half || k >= n-half {
			continue
		}
		if err := check(); err != nil {
			return nil, err
		}
		g, size := scoreOf(errorOf, k)
		inds = append(inds, k)
		score = append(score, g)
		if bounded {
			// Three estimates, and the rounding of the two operations.
			margin = append(margin, 3*bound+4*epsilon*(math.Abs(g)+2*size))
		}
	}
	order := max(max(w.width, 2*w.minSize)/(2*w.jump), 1)
	exact := make([]bool, len(score))
	resolve := func(i int) {
		if bounded && !exact[i] {
			score[i], _ = scoreOf(exactOf, inds[i])
			margin[i], exact[i] = 0, true
		}
	}
	if bounded {
		// Every pair the peak search compares, if the estimates leave
		// their order open.
		m := len(score)
		for i := range m {
			for s := 1; s <= order; s++ {
				if j := (i + s) % m; math.Abs(score[i]-score[j]) <= margin[i]+margin[j] {
					resolve(i)
					resolve(j)
				}
			}
		}
	}
	peaks := argRelMaxWrap(score, order)
	bkps := []int{n}
	if len(peaks) == 0 {
		return finish(ctx, bkps)
	}
	type peak struct {
		gain float64
		ind  int
	}
	if bounded {
		// Neighbours in the order of the estimates that the largest
		// margin does not separate: then any two peaks are either both
		// exact or apart by more than their errors.
		byScore := slices.Clone(peaks)
		slices.SortFunc(byScore, func(a, b int) int { return cmp.Compare(score[a], score[b]) })
		widest := 0.0
		for _, p := range peaks {
			widest = max(widest, margin[p])
		}
		for i := 1; i < len(byScore); i++ {
			if a, b := byScore[i-1], byScore[i]; score[b]-score[a] <= 2*widest {
				resolve(a)
				resolve(b)
			}
		}
	}
	cands := make([]peak, len(peaks))
	for i, p := range peaks {
		cands[i] = peak{score[p], inds[p]}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].gain != cands[j].gain {
			return cands[i].gain < cands[j].gain
		}
		return cands[i].ind < cands[j].ind
	})
	// The total cost decides for a penalty or epsilon only.
	total := func() float64 {
		if stop.Kind == StopCount {
			return 0
		}
		return SumOfCosts(w.cost, bkps)
	}
	errNow := total()
	for len(cands) > 0 {
		bkp := cands[len(cands)-1].ind
		cands = cands[:len(cands)-1]
		grow := false
		switch stop.Kind {
		case StopCount:
			grow = len(bkps)-1 < stop.NBkps
		case StopPenalty:
			grow = errNow-SumOfCosts(w.cost, insertSorted(append([]int(nil), bkps...), bkp)) > stop.Pen
		case StopEpsilon:
			grow = errNow > stop.Epsilon
		}
		if !grow {
			break
		}
		bkps = insertSorted(bkps, bkp)
		errNow = total()
	}
	return finish(ctx, bkps)
}

// segmentLimiter is a cost that can prepare less before Fit when the
// search asks only for segments up to n samples long.
type segmentLimiter interface {
	limitSegments(n int)
}

// argRelMaxWrap returns the indices i where x[i] is strictly greater than
// its order neighbours on each side, wrapping around the ends
// (scipy.signal.argrelmax with mode="wrap").
func argRelMaxWrap(x []float64, order int) []int {
	n := len(x)
	var out []int
	for i := 0; i < n; i++ {
		ok := true
		for s := 1; s <= order && ok; s++ {
			ok = x[i] > x[(i+s)%n] && x[i] > x[((i-s)%n+n)%n]
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}
