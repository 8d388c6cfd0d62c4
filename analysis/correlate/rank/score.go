package rank

import (
	"math"
)

// Features are what one candidate was scored on. Indices are positions on
// the grid shared with the target.
type Features struct {
	// Score is the combined score in [0, 1]: the weighted mean of the
	// five feature scores.
	Score float64 `json:"score"`
	// R is Pearson's r at the best lag of the cross-correlation of the
	// k-step differences over the anomaly, Lag that lag in steps (the
	// candidate's index minus the target's: negative when the candidate
	// moved first), and XCorr the feature score.
	R     float64 `json:"r"`
	Lag   int     `json:"lag"`
	XCorr float64 `json:"xcorr"`
	// Rho is Spearman's ρ between the detrended levels over the anomaly
	// (from Width steps before the onset), the candidate shifted by Lag,
	// and Rank the feature score.
	Rho  float64 `json:"rho"`
	Rank float64 `json:"rank"`
	// Change is the index, within Tolerance of the target's onset,
	// where the candidate's largest change started: the onset plus the
	// cross-correlation's lag when its moves follow the target's, else
	// the first of three values beyond four spreads of the values
	// before, or else the knee of a constant then a line. ChangeSize is
	// the size of that change (the difference of the means of the Width
	// values after and before the position where it is largest, or of
	// 3·Width values for a slow change, in the candidate's units),
	// ChangeZ that difference against its own spread over the baseline
	// (a robust z), and ChangePoint the feature score.
	Change      int     `json:"change"`
	ChangeSize  float64 `json:"change_size"`
	ChangeZ     float64 `json:"change_z"`
	ChangePoint float64 `json:"change_point"`
	// Slope says that the change is one of the candidate's slope: a
	// sawtooth (see climbs) whose climb changed beyond noise. Change is
	// then where its climb changed, ChangeSize the change of its mean
	// step, and ChangeZ the larger of the climb's z and its level's.
	Slope bool `json:"slope,omitempty"`
	// Effect is the Mann-Whitney rank-biserial effect of the anomaly
	// against the baseline (in [-1, 1]; positive: the candidate went
	// up), P the two-sided p-value of the U test corrected for the
	// baseline's autocorrelation, and Shift the feature score.
	Effect float64 `json:"effect"`
	P      float64 `json:"p"`
	Shift  float64 `json:"shift"`
	// Precedes is the evidence that the candidate changed before the
	// target did: a large change (its z from precLow on) that came
	// leadFull to leadMax steps before the target's (see leadWeight),
	// or a change of slope (its climb's z from changeLow on) that came
	// leadFull steps before it or earlier. The root of an incident moves
	// first; what it causes follows.
	Precedes float64 `json:"precedes"`
	// Phi is the lag-1 autocorrelation of the detrended baseline, which
	// discounts the level features (an autocorrelated series wanders).
	Phi float64 `json:"phi"`
	// Missing counts values filled in by interpolation.
	Missing int `json:"missing,omitempty"`
	// Note says why a candidate could not be scored.
	Note string `json:"note,omitempty"`
}

// Calibration of the feature scores: each statistic is a z under the
// null of "no relation"; below the low end is what noise alone gives
// (the largest over the lags and positions searched); the score rises
// from there, 63% of the way to 1 at the high end.
const (
	zLow, zHigh         = 3.0, 9.0
	changeLow, changeHi = 4.0, 12.0
	leadFull            = 4.0
	leadZ               = 3.0
	leadMax             = 6.0
	precLow, precHigh   = 10.0, 30.0
)

// evidence maps |z| to [0, 1): nothing up to lo, then rising, 63% of the
// way at hi and still growing beyond it (so that a stronger statistic
// keeps ranking higher).
func evidence(z, lo, hi float64) float64 { return 1 - math.Exp(-max(0, math.Abs(z)-lo)/(hi-lo)) }

// Scorer scores candidates against a Target. It keeps buffers between
// calls, so it is not safe for concurrent use: make one per goroutine.
type Scorer struct {
	t      *Target
	x      []float64 // the candidate over the region the features read
	dx, px []float64 // its k-step differences and their prefix sums
	pxx    []float64
	xd     []float64 // detrended focus window, MaxLag steps past levelTo
	lagZ   []float64 // r·√n of the cross-correlation at each lag (0: none)
	rk     ranker
	ch     changes
	cl     climbs
	kn     knee
}

// NewScorer returns a Scorer for t.
func (t *Target) NewScorer() *Scorer {
	L := t.p.MaxLag
	span := t.To - t.From + 2*L
	return &Scorer{t: t, x: make([]float64, t.n), dx: make([]float64, span),
		px: make([]float64, span+1), pxx: make([]float64, span+1), xd: make([]float64, t.levelEnd()-t.From),
		lagZ: make([]float64, 2*L+1)}
}

// Score computes the features of candidate x, which must have the
// target's length (NaN where it has no data).
func (s *Scorer) Score(x []float64) Features {
	t := s.t
	var f Features
	if len(x) != t.n {
		f.Note = "length differs from the target's"
		return f
	}
	lo, hi := t.region()
	focus := t.focusFrom()
	missing, ok := fillGaps(s.x[focus:hi], x[focus:hi])
	f.Missing = missing
	if !ok || missing > (hi-focus)/2 {
		f.Note = "no data in most of the focus window"
		return f
	}
	// The long windows' longer history is filled on its own: what it
	// lacks (a pod that started a day ago) is not missing where the
	// features read, and a series without it starts at its first value.
	if _, ok := fillGaps(s.x[lo:focus], x[lo:focus]); !ok {
		for i := lo; i < focus; i++ {
			s.x[i] = s.x[focus]
		}
	}
	n := s.crossCorrelate(&f, lo)
	f.XCorr = evidence(f.R*math.Sqrt(n), zLow, zHigh)
	split := t.Onset - t.From
	tol := t.p.Tolerance
	// A series that started late (a new pod) has its first value
	// copied back to the start: no history to measure a spread on.
	first := lo
	for first < hi && (math.IsNaN(x[first]) || math.IsInf(x[first], 0)) {
		first++
	}
	hf := min(max(t.historyFrom(), first+t.p.Width), t.Onset-tol)
	// The long windows' history starts no later than the short ones':
	// on a series too short for three times the history it is theirs.
	lf := min(max(t.longHistoryFrom(), first+trendWidths*t.p.Width), t.Onset-tol, hf)
	c := s.ch.scan(s.x, hf, lf, t.To, t.p.Width, t.Onset-tol, t.Onset+tol, t.Onset-tol)
	// On a sawtooth, a change of its climb is timed to the minute where
	// a change of its level is timed to a collection.
	slopeZ := 0.0
	if cl, ok := s.cl.scan(s.x, x, hf, t.To, t.p.Width, t.Onset-tol, t.Onset+tol, t.Onset-tol); ok && math.Abs(cl.z) > changeLow {
		slopeZ = cl.z
		if sign(cl.z) == sign(c.z) && math.Abs(c.z) > math.Abs(cl.z) {
			cl.z = c.z
		}
		c, f.Slope = cl, true
	}
	f.Change, f.ChangeSize, f.ChangeZ = c.at, c.d, c.z
	f.ChangePoint = evidence(c.z, changeLow, changeHi)
	byDeparture := false
	if f.ChangePoint > 0 && !f.Slope {
		f.Change, byDeparture = t.changeStart(s.x, &s.kn, sign(c.z))
	}
	detrend(s.xd, s.x[t.From:t.levelEnd()], split)
	s.rk.sort(s.xd)
	f.Phi = blockPhi(s.x[hf:t.Onset-tol], t.p.Width)
	// An AR(1) series has (1-φ)/(1+φ) as many independent values.
	eff := math.Sqrt((1 - f.Phi) / (1 + f.Phi))
	compared := s.rankCorrelate(&f)
	f.Rank = evidence(f.Rho*math.Sqrt(float64(compared-1))*eff, zLow, zHigh)
	levels := t.levelTo - t.From
	s.rk.rankRange(0, levels)
	// Compare the values after the candidate's own change with those
	// before it, when it changed near the onset.
	cut := split
	if f.ChangePoint > 0 {
		cut = min(max(f.Change-t.From, minBefore), levels-minAfter)
	}
	var z float64
	f.Effect, z = mannWhitney(s.rk.ranks, cut, s.rk.ties)
	f.P = pValue(z * eff)
	f.Shift = evidence(z*eff, zLow, zHigh)
	s.agree(&f)
	lead, follows := s.lead(&f, byDeparture)
	if follows && f.ChangePoint > 0 {
		// The lag says to the minute when it moved against the target.
		f.Change = min(max(t.Onset-lead, t.Onset-tol), t.Onset+tol)
	}
	if f.ChangePoint > 0 && lead > 0 {
		f.Precedes = evidence(f.ChangeZ, precLow, precHigh) * leadWeight(lead)
		if f.Slope {
			// A slope that changed keeps changing: a long lead is the
			// time its ramp took to be felt, not another story. The
			// climb's steps are about independent once its drops are
			// gone, so its z is read on the change point's scale: the
			// level's is raised, for every series, by spikes and
			// one-off steps that a climb does not have.
			f.Precedes = evidence(slopeZ, changeLow, changeHi) * leadWeight(min(lead, leadMax))
		}
	}
	w := t.p.Weights
	f.Score = (w.XCorr*f.XCorr + w.Rank*f.Rank + w.ChangePoint*f.ChangePoint + w.Shift*f.Shift + w.Precedes*f.Precedes) / w.sum()
	return f
}

// leadWeight is how much a change lead steps before the target counts
// as having come first: rising to 1 at leadFull steps, 1 up to leadMax,
// then falling to 0 at twice leadMax. Delays along a call graph are
// minutes; a change long before the target's that it did not carry on
// with is more often another story.
func leadWeight(lead int) float64 {
	l := float64(lead)
	switch {
	case l <= 0:
		return 0
	case l <= leadFull:
		return l / leadFull
	case l <= leadMax:
		return 1
	}
	return max(0, 2-l/leadMax)
}

// lead is how many steps before the target the candidate moved, and
// whether that is a lag of the cross-correlation: it is when the
// candidate's minute-to-minute moves follow the target's at all, in the
// direction of its change, at a lead from -1 to leadMax (see followLead:
// the lag measures a delay to the minute even where the correlation is
// too weak to count as evidence of a relation); else it is where its change
// started against where the target's did by the same estimator
// (byDeparture: the departure, else the knee). A change of slope, timed
// to the minute, is timed against the latest of the target's starts
// (onset, knee, departure): each finds a ramping target's start minutes
// early or late (−8 to +10 on the fleet incidents), and one that came
// a few minutes before the latest of them came first.
func (s *Scorer) lead(f *Features, byDeparture bool) (int, bool) {
	t := s.t
	// A sawtooth's steps are no clock: its collections make its
	// correlation with the target's moves.
	if lead, ok := s.followLead(sign(f.ChangeZ) * sign(t.ChangeZ)); ok && !f.Slope {
		return lead, true
	}
	if f.Slope {
		return max(t.Onset, t.startKnee, t.startDeparture) - f.Change, false
	}
	// Against where the same estimator finds the target's start: a ramp
	// shows late to both, and the onset is found another way.
	ref := t.startKnee
	if byDeparture {
		ref = t.startDeparture
	}
	if ref < 0 {
		ref = t.Onset
	}
	return ref - f.Change, false
}

// followLead returns the lead (minus the lag) from -1 to leadMax at
// which the candidate's moves follow the target's most strongly in
// direction dir (+1: the same way, -1: the opposite way), and whether
// that correlation's z is at least leadZ. The lag of the strongest
// correlation overall can be another lag's, or a correlation the other
// way (a spike that went up and down, a collection): a candidate that
// changed with the target is timed by how its moves follow the target's
// the way it changed.
func (s *Scorer) followLead(dir float64) (int, bool) {
	L := s.t.p.MaxLag
	best, bestZ := 0, 0.0
	for lead := -1; lead <= min(leadMax, L); lead++ {
		if li := L - lead; li >= 0 && li < len(s.lagZ) {
			if z := dir * s.lagZ[li]; z > bestZ {
				best, bestZ = lead, z
			}
		}
	}
	return best, bestZ >= leadZ
}

// agree keeps the evidence of the features that tell the change
// point's story: a candidate that changed the way the target did (or the
// opposite way) must correlate positively (negatively) and shift up
// (down) with it; a feature pointing the other way is noise and counts
// for nothing.
func (s *Scorer) agree(f *Features) {
	dir := sign(f.ChangeZ) * sign(s.t.ChangeZ)
	if dir == 0 {
		return
	}
	if sign(f.R) != dir {
		f.XCorr = 0
	}
	if sign(f.Rho) != dir {
		f.Rank = 0
	}
	if sign(f.Effect)*sign(s.t.ChangeZ) != dir {
		f.Shift = 0
	}
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// rankCorrelate computes Spearman's ρ over the anomaly, the candidate
// shifted by its lag, from the sorted detrended values, and returns how
// many values it compared.
func (s *Scorer) rankCorrelate(f *Features) int {
	t := s.t
	lag := 0
	switch {
	case f.XCorr > 0:
		lag = f.Lag
	case f.ChangePoint > 0:
		lag = f.Change - t.Onset
	}
	j := max(0, t.levelTo+lag-t.n)
	if j >= len(t.rankY) || t.rankFrom+lag < t.From {
		j, lag = 0, 0
	}
	lo := t.rankFrom + lag - t.From
	hi := t.levelTo - j + lag - t.From
	s.rk.rankRange(lo, hi)
	f.Rho = spearman(s.rk.ranks, t.rankY[j], t.rankNorm[j])
	return hi - lo
}

// blockPhi estimates how autocorrelated x is, as the AR(1) coefficient
// φ that would give the variance of its means over blocks of b values:
// an AR(1) series' block means vary (1+φ)/(1-φ) times as much as
// independent values' would. The block means' variance is read from
// the differences of successive blocks (which a trend or seasonality
// hardly touches) and the values' from within the blocks, so that what
// averages out over a block — a GC sawtooth, the steps of a rate()
// window — does not count as wandering, and what does not — a random
// walk — does. The result is clamped to [0, 0.95].
func blockPhi(x []float64, b int) float64 {
	k := len(x) / b
	if k < 3 || b < 2 {
		return 0
	}
	within, diffs, prev := 0.0, 0.0, 0.0
	for j := range k {
		blk := x[j*b : (j+1)*b]
		m := 0.0
		for _, v := range blk {
			m += v
		}
		m /= float64(b)
		for _, v := range blk {
			within += (v - m) * (v - m)
		}
		if j > 0 {
			diffs += (m - prev) * (m - prev)
		}
		prev = m
	}
	variance := within / float64(k*(b-1))
	meanVar := diffs / float64(2*(k-1))
	if meanVar <= 0 || variance <= 0 {
		return 0
	}
	ratio := variance / (float64(b) * meanVar) // (1-φ)/(1+φ)
	return min(0.95, max(0, (1-ratio)/(1+ratio)))
}

// crossCorrelate finds the lag with the largest |r| between the k-step
// differences of the target and the candidate, and returns how many
// pairs it had. s.x holds the candidate from index lo on.
func (s *Scorer) crossCorrelate(f *Features, lo int) float64 {
	t := s.t
	L, k := t.p.MaxLag, t.p.DiffLag
	base := t.From - L
	s.px[0], s.pxx[0] = 0, 0
	for j := range s.dx {
		i := base + j
		d := 0.0
		if i-k >= lo && i < t.n {
			d = s.x[i] - s.x[i-k]
		}
		s.dx[j] = d
		s.px[j+1] = s.px[j] + d
		s.pxx[j+1] = s.pxx[j] + d*d
	}
	best, bestN := -1.0, 0.0
	for li := range t.lagA {
		s.lagZ[li] = 0
		a, b := t.lagA[li], t.lagB[li]
		n := float64(b - a)
		if n < 3 {
			continue
		}
		l := li - L
		ca, cb := a+l+L, b+l+L // a+l relative to base
		sx, sxx := s.px[cb]-s.px[ca], s.pxx[cb]-s.pxx[ca]
		sy, syy := t.lagSy[li], t.lagSS[li]
		vx, vy := sxx-sx*sx/n, syy-sy*sy/n
		if vx <= 1e-300 || vy <= 1e-300 {
			continue
		}
		r := (dot(t.dy[a:b], s.dx[ca:cb]) - sx*sy/n) / math.Sqrt(vx*vy)
		s.lagZ[li] = r * math.Sqrt(n)
		if ar := math.Abs(r); ar > best || (ar == best && abs(l) < abs(f.Lag)) {
			best, bestN, f.R, f.Lag = ar, n, r, l
		}
	}
	return bestN
}

// dot is the inner product of a and b[:len(a)], four sums at a time.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
