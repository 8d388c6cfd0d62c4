package rank

import (
	"fmt"
	"math"
)

// Target is a target series prepared for scoring candidates against it:
// its onset, the focus window and what every candidate is compared with.
// It is read-only once built, and shared by any number of Scorers.
type Target struct {
	p Params
	n int

	// Onset is the index where the target started to move: the knee
	// of a constant then a line (see onset), searched from Tolerance
	// steps before the window's start to its end.
	Onset int
	// From and To bound the focus window [From, To): the baseline
	// [From, Onset) and the anomaly [Onset, To). The features but the
	// change point read up to levelTo, Horizon steps after the onset at
	// most.
	From, To int
	levelTo  int
	// Change is the target's change at the onset (the difference of the
	// window means, in its units) and ChangeZ its robust z.
	Change, ChangeZ float64

	// Cross-correlation: the target's k-step differences over the focus
	// window and, per lag, the overlap with the candidate and its sums.
	dy           []float64
	lagA, lagB   []int // overlap of lag l: dy[lagA:lagB], relative to From
	lagSy, lagSS []float64

	// Rank correlation: the anomaly window starts at rankFrom;
	// rankY[j] holds the centred midranks of the detrended target over
	// [rankFrom, To-j) (a candidate lagging j steps past the end of the
	// data is compared over fewer steps), rankNorm[j] their norm.
	rankFrom int
	rankY    [][]float64
	rankNorm []float64
	// Missing counts the target values filled in by interpolation.
	Missing int
	// Where the target's change started by each estimator of
	// changeStart (-1: none), for timing candidates against it.
	startDeparture, startKnee int
}

// NewTarget prepares y (one value per step; NaN where there is no data)
// for ranking candidates of the same length against it, with the anomaly
// in window w.
func NewTarget(y []float64, w Window, p Params) (*Target, error) {
	p, err := p.resolved()
	if err != nil {
		return nil, err
	}
	if err := checkMagnitude(y); err != nil {
		return nil, err
	}
	n := len(y)
	if w.Start < 0 || w.End > n || w.End-w.Start < 1 {
		return nil, fmt.Errorf("%w: window [%d, %d) is not inside the %d values of the target", ErrBadInput, w.Start, w.End, n)
	}
	filled := make([]float64, n)
	missing, ok := fillGaps(filled, y)
	if !ok || missing > n/2 {
		return nil, fmt.Errorf("%w: the target has values at only %d of %d steps", ErrBadInput, n-missing, n)
	}
	t := &Target{p: p, n: n, Missing: missing}
	before := p.Before
	if before == 0 {
		before = 60
	}
	// The change statistic reads Width steps before the earliest change
	// a candidate may have (Tolerance before the onset), and measures its
	// spread over at least minBefore steps before that.
	need := max(p.DiffLag, p.Width+p.Tolerance) + minBefore
	lo := max(w.Start-p.Tolerance, need)
	hi := w.End - minAfter
	if lo > hi {
		return nil, fmt.Errorf("%w: window [%d, %d) leaves no onset with %d steps of data before it and %d after it",
			ErrBadInput, w.Start, w.End, need, minAfter)
	}
	t.Onset = onset(filled, max(p.DiffLag, lo-before), lo, hi, w.End)
	var ch changes
	hf := max(p.Width, lo-p.History)
	c := ch.scan(filled, hf, min(hf, max(trendWidths*p.Width, lo-trendWidths*p.History)), w.End, p.Width, t.Onset, t.Onset, lo)
	t.Change, t.ChangeZ = c.d, c.z
	t.From, t.To = max(p.DiffLag, t.Onset-before), w.End
	t.levelTo = min(t.To, t.Onset+p.Horizon)
	t.prepare(filled)
	t.startDeparture, t.startKnee = -1, -1
	var kn knee
	if at, dep := t.changeStart(filled, &kn, sign(t.ChangeZ)); dep {
		t.startDeparture = at
	}
	t.startKnee = t.kneeStart(filled, &kn)
	return t, nil
}

// changeSegment is the part of a series changeStart reads, from a on,
// and where in it a change may start: from Tolerance before the onset,
// with 2·Width values before that, to Tolerance after it.
func (t *Target) changeSegment(x []float64) (a int, seg []float64, lo, hi int) {
	tol := t.p.Tolerance
	a = max(0, t.Onset-tol-2*t.p.Width)
	seg = x[a:min(t.To, t.Onset+tol+t.p.Width)]
	return a, seg, max(1, t.Onset-tol-a), min(t.Onset+tol-a, len(seg)-2)
}

// changeStart returns where the change of x (direction dir) near the
// onset started, and whether it is where x first departed from its
// values before (else it is the knee of a constant then a line): a
// ramp's largest window difference comes a width after its foot.
func (t *Target) changeStart(x []float64, kn *knee, dir float64) (int, bool) {
	a, seg, lo, hi := t.changeSegment(x)
	if d := kn.departure(seg, lo, hi, dir); d >= 0 {
		return a + d, true
	}
	return a + kn.fit(seg, 0, 0, lo, hi), false
}

// kneeStart is where changeStart's knee is in x.
func (t *Target) kneeStart(x []float64, kn *knee) int {
	a, seg, lo, hi := t.changeSegment(x)
	return a + kn.fit(seg, 0, 0, lo, hi)
}

// prepare computes what candidates are compared with.
func (t *Target) prepare(y []float64) {
	m, k, L := t.To-t.From, t.p.DiffLag, t.p.MaxLag
	yd := make([]float64, t.levelTo-t.From)
	detrend(yd, y[t.From:t.levelTo], t.Onset-t.From)
	var rk ranker
	t.rankFrom = max(t.From, t.Onset-t.p.Width)
	for j := 0; j <= L && t.levelTo-j-t.rankFrom >= minAfter; j++ {
		rk.rank(yd[t.rankFrom-t.From : t.levelTo-j-t.From])
		c := float64(len(rk.ranks)+1) / 2
		ry, norm := make([]float64, len(rk.ranks)), 0.0
		for i, r := range rk.ranks {
			ry[i] = r - c
			norm += (r - c) * (r - c)
		}
		t.rankY = append(t.rankY, ry)
		t.rankNorm = append(t.rankNorm, math.Sqrt(norm))
	}
	t.dy = make([]float64, m)
	for i := range t.dy {
		t.dy[i] = y[t.From+i] - y[t.From+i-k]
	}
	nl := 2*L + 1
	t.lagA, t.lagB = make([]int, nl), make([]int, nl)
	t.lagSy, t.lagSS = make([]float64, nl), make([]float64, nl)
	for i := range nl {
		l := i - L
		a := max(t.Onset-t.p.Tolerance, t.From, k-l) - t.From
		b := min(t.levelTo, t.n-l) - t.From
		if b < a {
			b = a
		}
		t.lagA[i], t.lagB[i] = a, b
		for _, v := range t.dy[a:b] {
			t.lagSy[i] += v
			t.lagSS[i] += v * v
		}
	}
}

// historyFrom is where the change statistic starts: History steps
// before the onset's tolerance.
func (t *Target) historyFrom() int {
	return max(t.p.Width, min(t.From, t.Onset-t.p.Tolerance-t.p.History))
}

// longHistoryFrom is where the spread of the change statistic's long
// windows starts: trendWidths·History steps before the onset's
// tolerance, as far as the data goes. A window trendWidths times as long
// needs trendWidths times the history for as many independent values: a
// spread measured on a few of them is often too small, and noise then
// passes for a change (the package's scenarios: unrelated series in the
// top ten by a long window's z of 5-8 seven times in eight).
func (t *Target) longHistoryFrom() int {
	return max(trendWidths*t.p.Width, min(t.historyFrom(), t.Onset-t.p.Tolerance-trendWidths*t.p.History))
}

// levelEnd is where the detrended values a candidate is ranked on end:
// MaxLag steps past levelTo, for the lagged rank correlation.
func (t *Target) levelEnd() int { return min(t.n, t.levelTo+t.p.MaxLag) }

// region is the part of a candidate the features read: the long
// windows' history, then focusFrom on.
func (t *Target) region() (lo, hi int) {
	// The long windows read trendWidths·Width values before their
	// history.
	return max(0, min(t.focusFrom(), t.longHistoryFrom()-trendWidths*t.p.Width)), max(min(t.n, t.To+t.p.MaxLag), t.levelEnd())
}

// focusFrom is where the part of a candidate read by more than the long
// windows starts: the change statistics' windows (and the steps of
// climbs) read trendWidths·Width values, and one more, before the
// history.
func (t *Target) focusFrom() int {
	return max(0, min(t.From-t.p.MaxLag-t.p.DiffLag, t.historyFrom()-trendWidths*t.p.Width-1))
}

// detrend writes x minus the line a + b·i fitted to its first split
// values (the baseline) into dst, and returns the line.
func detrend(dst, x []float64, split int) (a, b float64) {
	a, b = linearFit(x[:split])
	for i, v := range x {
		dst[i] = v - a - b*float64(i)
	}
	return a, b
}

// fillGaps copies src into dst, replacing NaN and infinite values by
// linear interpolation between their neighbours (the nearest value at
// the edges). It reports how many values it filled, and false when src
// has no value at all.
func fillGaps(dst, src []float64) (int, bool) {
	copy(dst, src)
	last := -1 // index of the last valid value
	missing := 0
	for i, v := range src {
		if v-v != 0 { // NaN or ±Inf
			missing++
			continue
		}
		if last != i-1 {
			if last < 0 {
				for j := range i {
					dst[j] = v
				}
			} else {
				a := dst[last]
				step := (v - a) / float64(i-last)
				for j := last + 1; j < i; j++ {
					dst[j] = a + step*float64(j-last)
				}
			}
		}
		last = i
	}
	if last < 0 {
		return missing, false
	}
	for j := last + 1; j < len(src); j++ {
		dst[j] = dst[last]
	}
	return missing, true
}
