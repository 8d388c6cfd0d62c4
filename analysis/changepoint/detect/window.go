package detect

import (
	"context"
	"fmt"
	"math"
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
	var inds []int
	var score []float64
	for k := 0; k < n; k += w.jump {
		if k < half || k >= n-half {
			continue
		}
		if err := check(); err != nil {
			return nil, err
		}
		start, end := k-half, k+half
		g := w.cost.Error(start, end)
		if math.IsInf(g, -1) {
			g = 0
		} else {
			g -= w.cost.Error(start, k) + w.cost.Error(k, end)
		}
		inds = append(inds, k)
		score = append(score, g)
	}
	order := max(max(w.width, 2*w.minSize)/(2*w.jump), 1)
	peaks := argRelMaxWrap(score, order)
	bkps := []int{n}
	if len(peaks) == 0 {
		return finish(ctx, bkps)
	}
	type peak struct {
		gain float64
		ind  int
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
