package alerting

import (
	"context"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
	"github.com/gaffer-sre/gaffer/analysis/correlate/rank"
)

// Sample is one series' outcome at one evaluation.
type Sample struct {
	// Labels are the series' labels (without the rule's).
	Labels map[string]string
	Value  float64
	// Active is whether the rule's condition holds for the series.
	Active bool
}

// Evaluate evaluates r at t, which the scheduler keeps on multiples of
// the interval. Rules over PromQL without a condition run one instant
// query, as Prometheus does; the others read the history their condition
// needs on the interval's grid and decide the last step.
func (r *Rule) Evaluate(ctx context.Context, d Data, t time.Time) ([]Sample, error) {
	if r.engine == EnginePromQL && r.Spec.Condition == nil {
		ss, err := d.Instant(ctx, r.expr, t, true)
		if err != nil {
			return nil, fetchError(r, err)
		}
		out := make([]Sample, len(ss))
		for i, s := range ss {
			out[i] = Sample{Labels: s.Labels, Value: s.Values[0], Active: true}
		}
		return out, nil
	}
	lb := r.Spec.Condition.lookback(r.every)
	g := query.Grid{Start: t.Add(-time.Duration(lb) * r.every), Step: r.every, N: lb + 1}
	ss, err := r.decideRange(ctx, d, g, lb)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(ss))
	for _, s := range ss {
		out = append(out, Sample{Labels: s.Labels, Value: s.Values[g.N-1], Active: s.Breach[g.N-1]})
	}
	return out, nil
}

// decideRange fetches the rule's values over g and decides the steps
// from index from on.
func (r *Rule) decideRange(ctx context.Context, d Data, g query.Grid, from int) ([]series, error) {
	ss, err := fetch(ctx, d, r, r.valueOf, g)
	if err != nil {
		return nil, fetchError(r, err)
	}
	var earlier map[string][]float64
	if c := r.Spec.Condition; c != nil && c.Compare != nil {
		old, err := fetch(ctx, d, r, r.valueOf, g.Shifted(c.Compare.Offset.D()))
		if err != nil {
			return nil, fetchError(r, err)
		}
		earlier = make(map[string][]float64, len(old))
		for _, s := range old {
			earlier[labelKey(s.Labels)] = s.Values
		}
	}
	for i := range ss {
		if err := r.decide(ctx, &ss[i], from, g.Start, g.Step, earlier[labelKey(ss[i].Labels)]); err != nil {
			return nil, fetchError(r, err)
		}
	}
	return ss, nil
}

// Chart is a rule evaluated over a time range, for its page: per
// series, its values, where the condition held, and the threshold or
// band drawn with it.
type Chart struct {
	Start time.Time `json:"start"`
	Step  float64   `json:"step_seconds"`
	// Times are the grid's times (unix seconds).
	Times  []float64     `json:"times"`
	Series []ChartSeries `json:"series"`
}

// ChartSeries is one series of a Chart. Lower, Upper and Baseline are
// absent when the rule draws none.
type ChartSeries struct {
	Labels   map[string]string `json:"labels"`
	Values   rank.Values       `json:"values"`
	Breach   []bool            `json:"breach"`
	Lower    rank.Values       `json:"lower,omitempty"`
	Upper    rank.Values       `json:"upper,omitempty"`
	Baseline rank.Values       `json:"baseline,omitempty"`
}

// maxChartSteps bounds the steps of a chart (the interval grows to fit).
const maxChartSteps = 2000

// Chart evaluates the rule from start to end on its interval's grid (a
// multiple of it when the range is long), with the history stateful
// conditions need before start.
func (r *Rule) Chart(ctx context.Context, d Data, start, end time.Time) (*Chart, error) {
	step := r.every
	if n := end.Sub(start) / step; n > maxChartSteps && r.Spec.Condition == nil {
		step *= (n + maxChartSteps - 1) / maxChartSteps
	}
	start, end = query.AlignDown(start, step), query.AlignDown(end, step)
	n := int(end.Sub(start)/step) + 1
	if n > maxChartSteps {
		start = end.Add(-time.Duration(maxChartSteps-1) * step)
		n = maxChartSteps
	}
	lb := r.Spec.Condition.lookback(step)
	g := query.Grid{Start: start.Add(-time.Duration(lb) * step), Step: step, N: n + lb}
	rr := *r
	rr.every = step
	ss, err := rr.decideRange(ctx, d, g, lb)
	if err != nil {
		return nil, err
	}
	c := &Chart{Start: start, Step: step.Seconds(), Times: make([]float64, n), Series: make([]ChartSeries, 0, len(ss))}
	for i := range c.Times {
		c.Times[i] = float64(start.Add(time.Duration(i)*step).UnixMilli()) / 1000
	}
	trim := func(v []float64) []float64 {
		if v == nil {
			return nil
		}
		return v[lb:]
	}
	for _, s := range ss {
		c.Series = append(c.Series, ChartSeries{Labels: s.Labels, Values: s.Values[lb:], Breach: s.Breach[lb:],
			Lower: trim(s.Lower), Upper: trim(s.Upper), Baseline: trim(s.Baseline)})
	}
	sort.Slice(c.Series, func(i, j int) bool { return labelKey(c.Series[i].Labels) < labelKey(c.Series[j].Labels) })
	return c, nil
}

// labelKey is labels as a sorted, unambiguous string.
func labelKey(ls map[string]string) string { return query.LabelString(ls) }
