package alerting

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// compareOps are the threshold operators.
var compareOps = map[string]func(a, b float64) bool{
	">": func(a, b float64) bool { return a > b }, ">=": func(a, b float64) bool { return a >= b },
	"<": func(a, b float64) bool { return a < b }, "<=": func(a, b float64) bool { return a <= b },
	"==": func(a, b float64) bool { return a == b }, "!=": func(a, b float64) bool { return a != b },
}

// desPresets are Atlas's smoothing presets.
var desPresets = stack.DESPresets

// params returns the smoothing's training size, alpha, beta and whether
// it slides.
func (d *DESBand) params() stack.DESPreset {
	if p, ok := desPresets[d.Preset]; ok {
		return p
	}
	return stack.DESPreset{Training: d.Training, Alpha: d.Alpha, Beta: d.Beta, Sliding: d.Sliding}
}

// lookback is how many steps of history the condition needs before the
// first step it decides.
func (c *Condition) lookback(step time.Duration) int {
	if c == nil {
		return 0
	}
	n := 0
	switch {
	case c.DES != nil:
		d := c.DES.Lookback.D()
		if d == 0 {
			d = max(3*time.Hour, 50*time.Duration(c.DES.params().Training)*step)
		}
		n = int(d / step)
	case c.ChangePoint != nil:
		n = int(c.ChangePoint.window() / step)
	}
	if c.RollingCount != nil {
		n += c.RollingCount.M - 1
	}
	return n
}

func (c *ChangeOnset) window() time.Duration {
	if c.Window == 0 {
		return 2 * time.Hour
	}
	return c.Window.D()
}

// series is one series of a rule over the evaluation grid: its values
// and, per step, whether the condition held; Lower and Upper are the
// band or threshold drawn with it and Baseline the prediction or the
// earlier values (nil when the condition has none).
type series struct {
	Labels   map[string]string
	Values   []float64
	Breach   []bool
	Lower    []float64
	Upper    []float64
	Baseline []float64
}

// decide computes s.Breach for steps from on (earlier steps only feed
// stateful conditions). earlier holds the same series Offset earlier for
// a comparison.
func (r *Rule) decide(ctx context.Context, s *series, from int, start time.Time, step time.Duration, earlier []float64) error {
	n := len(s.Values)
	s.Breach = make([]bool, n)
	c := r.Spec.Condition
	switch {
	case c != nil && c.Threshold != nil:
		threshold(s, *c.Threshold)
	case r.implied != nil:
		threshold(s, *r.implied)
	case c != nil && c.DES != nil:
		desBand(s, c.DES, start, step)
	case c != nil && c.Compare != nil:
		compareEarlier(s, c.Compare, earlier)
	case c != nil && c.ChangePoint != nil:
		if err := changeOnset(ctx, s, c.ChangePoint, from, step); err != nil {
			return err
		}
	default:
		for i, v := range s.Values {
			s.Breach[i] = !math.IsNaN(v) && (r.engine == EnginePromQL || v != 0)
		}
	}
	if c != nil && c.RollingCount != nil {
		rollingCount(s.Breach, c.RollingCount.N, c.RollingCount.M)
	}
	return nil
}

func threshold(s *series, t Threshold) {
	op := compareOps[t.Op]
	line := make([]float64, len(s.Values))
	for i, v := range s.Values {
		s.Breach[i] = !math.IsNaN(v) && op(v, t.Value)
		line[i] = t.Value
	}
	if t.Op == "<" || t.Op == "<=" {
		s.Lower = line
	} else {
		s.Upper = line
	}
}

// desBand is Atlas's :des-epic-signal: the value leaves the band around
// the smoothed prediction.
func desBand(s *series, d *DESBand, start time.Time, step time.Duration) {
	p := d.params()
	next := stack.NewDES(p.Training, p.Alpha, p.Beta)
	if p.Sliding {
		next = stack.NewSDES(start.UnixMilli(), step.Milliseconds(), p.Training, p.Alpha, p.Beta)
	}
	maxPct, minPct := d.MaxPercent, d.MinPercent
	if maxPct == 0 {
		maxPct = minPct
	}
	if minPct == 0 {
		minPct = min(maxPct, 1)
	}
	n := len(s.Values)
	s.Baseline, s.Lower, s.Upper = make([]float64, n), make([]float64, n), make([]float64, n)
	for i, v := range s.Values {
		pred := next(v)
		s.Baseline[i] = pred
		s.Lower[i] = math.Min(pred-d.Noise, pred*(1-minPct))
		s.Upper[i] = math.Max(pred+d.Noise, pred*(1+maxPct))
		if math.IsNaN(v) || math.IsNaN(pred) {
			continue
		}
		above, below := v > s.Upper[i], v < s.Lower[i]
		switch d.Direction {
		case "above":
			s.Breach[i] = above
		case "below":
			s.Breach[i] = below
		default:
			s.Breach[i] = above || below
		}
	}
	switch d.Direction {
	case "above":
		s.Lower = nil
	case "below":
		s.Upper = nil
	}
}

func compareEarlier(s *series, c *Compare, earlier []float64) {
	n := len(s.Values)
	s.Baseline, s.Lower, s.Upper = make([]float64, n), make([]float64, n), make([]float64, n)
	for i, v := range s.Values {
		e := math.NaN()
		if i < len(earlier) {
			e = earlier[i]
		}
		s.Baseline[i], s.Upper[i], s.Lower[i] = e, e*c.Ratio, e/c.Ratio
		if math.IsNaN(v) || math.IsNaN(e) {
			continue
		}
		above := v > e*c.Ratio && v-e >= c.MinDelta
		below := v < e/c.Ratio && e-v >= c.MinDelta
		switch c.Direction {
		case "below":
			s.Breach[i] = below
		case "both":
			s.Breach[i] = above || below
		default:
			s.Breach[i] = above
		}
	}
	switch c.Direction {
	case "below":
		s.Upper = nil
	case "both":
	default:
		s.Lower = nil
	}
}

// changeOnset segments, for every step from on, the trailing window
// ending at it, and breaches while the last change point is at most Hold
// old and shifted the level by MinSigma noise deviations or more.
func changeOnset(ctx context.Context, s *series, c *ChangeOnset, from int, step time.Duration) error {
	w := max(8, int(c.window()/step))
	hold := c.Hold.D()
	if hold == 0 {
		hold = 15 * time.Minute
	}
	holdSteps := max(1, int(hold/step))
	minSigma := c.MinSigma
	if minSigma == 0 {
		minSigma = 4
	}
	buf := make([]float64, 0, w)
	for i := max(from, 0); i < len(s.Values); i++ {
		buf = buf[:0]
		missing := 0
		last := math.NaN()
		for _, v := range s.Values[max(0, i-w+1) : i+1] {
			if math.IsNaN(v) {
				missing++
				v = last
			}
			if !math.IsNaN(v) {
				buf = append(buf, v)
				last = v
			}
		}
		if len(buf) < 8 || missing > len(buf)/2 {
			continue
		}
		shift, age, err := lastChange(ctx, buf)
		if err != nil {
			return fmt.Errorf("change points: %w", err)
		}
		if age < 0 || age >= holdSteps {
			continue
		}
		switch c.Direction {
		case "up":
			s.Breach[i] = shift >= minSigma
		case "down":
			s.Breach[i] = shift <= -minSigma
		default:
			s.Breach[i] = math.Abs(shift) >= minSigma
		}
	}
	return nil
}

// lastChange segments x (Pelt, l2 cost, BIC penalty) and returns the
// last change's shift in noise deviations and how many steps ago it was
// (-1 when there is none).
func lastChange(ctx context.Context, x []float64) (shift float64, age int, err error) {
	sig, err := detect.NewSeries(x)
	if err != nil {
		return 0, -1, err
	}
	pen := detect.PenaltyBIC(sig)
	bkps, err := detect.Detect(ctx, sig, detect.Params{Method: "pelt", Cost: "l2", Pen: &pen, MinSize: 3, Jump: 1})
	if err != nil || len(bkps) < 2 {
		return 0, -1, err
	}
	cp := bkps[len(bkps)-2]
	prev := 0
	if len(bkps) > 2 {
		prev = bkps[len(bkps)-3]
	}
	sigma := math.Sqrt(detect.NoiseVariance(sig)[0])
	if sigma == 0 {
		sigma = math.SmallestNonzeroFloat64
	}
	return (mean(x[cp:]) - mean(x[prev:cp])) / sigma, len(x) - 1 - cp, nil
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// rollingCount replaces each flag by whether at least n of the last m
// flags (itself included) were set.
func rollingCount(b []bool, n, m int) {
	count := 0
	orig := append([]bool(nil), b...)
	for i := range b {
		if orig[i] {
			count++
		}
		if i >= m && orig[i-m] {
			count--
		}
		b[i] = count >= n
	}
}
