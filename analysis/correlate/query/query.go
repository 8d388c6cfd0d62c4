// Package query reads series on a fixed time grid through either query
// language Gaffer speaks — PromQL (the metrics system's engine, or any
// Prometheus-compatible HTTP API) or Atlas's stack language (over the
// metrics store) — for the systems that compare series step by step:
// alerting's conditions and the analysis of related signals.
package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Engines.
const (
	PromQL = "promql"
	Atlas  = "atlas"
)

// PromQuerier runs PromQL: the metrics system's Go API, or a *prom.Client
// over any Prometheus-compatible HTTP API.
type PromQuerier interface {
	Query(ctx context.Context, expr string, t time.Time) (prom.Result, error)
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (prom.Result, error)
}

// Source is where series are read: PromQL for promql expressions, an
// Atlas source for atlas ones. Either may be nil where it is not needed.
type Source struct {
	Prom  PromQuerier
	Atlas stack.Source
	// MaxValues bounds the values (series times grid points) one Fetch
	// may build (--analysis-max-values); 0 means DefaultMaxValues.
	MaxValues int64
}

// DefaultMaxValues is --analysis-max-values's default: 20,000,000 values,
// 160 MB of series on the grid.
const DefaultMaxValues = 20_000_000

// checkValues refuses series × g.N values over the source's bound before
// they are allocated.
func (s Source) checkValues(series int, g Grid) error {
	max := s.MaxValues
	if max <= 0 {
		max = DefaultMaxValues
	}
	if n := int64(series) * int64(g.N); n > max {
		return fmt.Errorf("%d series × %d points = %d values, more than %d (limit: --analysis-max-values); narrow the query or use a larger step",
			series, g.N, n, max)
	}
	return nil
}

// ErrNoMetrics is returned while no metrics store is reachable.
var ErrNoMetrics = errors.New("no metrics store: the metrics role is not running in this process")

// Grid is N time steps from Start (the first point), Step apart.
type Grid struct {
	Start time.Time
	Step  time.Duration
	N     int
}

// End is the grid's last point.
func (g Grid) End() time.Time { return g.Start.Add(time.Duration(g.N-1) * g.Step) }

// Shifted returns the grid offset earlier.
func (g Grid) Shifted(offset time.Duration) Grid {
	return Grid{Start: g.Start.Add(-offset), Step: g.Step, N: g.N}
}

// Times returns the grid's times in unix seconds.
func (g Grid) Times() []float64 {
	out := make([]float64, g.N)
	for i := range out {
		out[i] = float64(g.Start.Add(time.Duration(i)*g.Step).UnixMilli()) / 1000
	}
	return out
}

// AlignDown rounds t down to a multiple of step since the epoch.
func AlignDown(t time.Time, step time.Duration) time.Time {
	return time.UnixMilli(t.UnixMilli() - t.UnixMilli()%step.Milliseconds()).UTC()
}

// Series is one series on a grid: its labels (PromQL's without the
// metric name when asked; Atlas's tags) and one value per step, NaN
// where it has none.
type Series struct {
	Labels map[string]string
	Values []float64
}

// Check parses expr with the engine's parser and returns the parser's
// error, for rejecting expressions before they are saved.
func Check(engine, expr string) error {
	switch engine {
	case PromQL, "":
		_, err := promParser.ParseExpr(expr)
		return err
	case Atlas:
		_, err := stack.Parse(expr, time.UTC)
		return err
	}
	return fmt.Errorf("engine %q is not promql or atlas", engine)
}

// promParser parses PromQL as the metrics system's engine does.
var promParser = parser.NewParser(parser.Options{})

// Fetch evaluates expr over g with the engine and returns one series per
// result. dropName leaves PromQL's metric name out of the labels (as
// Prometheus does for alerts).
func (s Source) Fetch(ctx context.Context, engine, expr string, g Grid, dropName bool) ([]Series, error) {
	if engine == Atlas {
		return s.fetchAtlas(ctx, expr, g)
	}
	if s.Prom == nil {
		return nil, ErrNoMetrics
	}
	res, err := s.Prom.QueryRange(ctx, expr, g.Start, g.End(), g.Step)
	if err != nil {
		return nil, err
	}
	if err := s.checkValues(len(res.Series), g); err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(res.Series))
	first, step := g.Start.UnixMilli(), g.Step.Milliseconds()
	for _, rs := range res.Series {
		vs := NaNs(g.N)
		for _, p := range rs.Points {
			if i := (p.T - first) / step; (p.T-first)%step == 0 && i >= 0 && i < int64(g.N) {
				vs[i] = p.V
			}
		}
		out = append(out, Series{Labels: labelMap(rs.Labels, dropName), Values: vs})
	}
	return out, nil
}

// fetchAtlas evaluates an Atlas expression. Gaffer's store consolidates
// a step's datapoint at t over [t, t+step), so the value for grid point t
// is the datapoint of t-step: the last complete step, as Atlas's
// (t-step, t] would have it.
func (s Source) fetchAtlas(ctx context.Context, expr string, g Grid) ([]Series, error) {
	if s.Atlas == nil {
		return nil, ErrNoMetrics
	}
	exprs, err := stack.Parse(expr, time.UTC)
	if err != nil {
		return nil, err
	}
	ev := &stack.Evaluator{Source: s.Atlas}
	step := g.Step.Milliseconds()
	start := g.Start.UnixMilli() - step
	res, err := ev.EvaluateExprs(ctx, exprs, start, start+int64(g.N)*step, step, time.UTC)
	if err != nil {
		return nil, err
	}
	lines := 0
	for _, e := range res.Exprs {
		lines += len(e.Lines)
	}
	if err := s.checkValues(lines, g); err != nil {
		return nil, err
	}
	var out []Series
	for _, e := range res.Exprs {
		for _, l := range e.Lines {
			vs := NaNs(g.N)
			copy(vs, l.Values)
			out = append(out, Series{Labels: l.Tags, Values: vs})
		}
	}
	return out, nil
}

// Instant runs a PromQL expression at t: one value per series.
func (s Source) Instant(ctx context.Context, expr string, t time.Time, dropName bool) ([]Series, error) {
	if s.Prom == nil {
		return nil, ErrNoMetrics
	}
	res, err := s.Prom.Query(ctx, expr, t)
	if err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(res.Series))
	for _, rs := range res.Series {
		if len(rs.Points) == 0 {
			continue
		}
		out = append(out, Series{Labels: labelMap(rs.Labels, dropName), Values: []float64{rs.Points[len(rs.Points)-1].V}})
	}
	return out, nil
}

func labelMap(ls tsdb.Labels, dropName bool) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		if !dropName || l.Name != tsdb.MetricName {
			m[l.Name] = l.Value
		}
	}
	return m
}

// NaNs returns n NaN values.
func NaNs(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// LabelString is labels as a sorted, unambiguous string: {a="1",b="2"}.
func LabelString(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(ls[k], `\`, `\\`), `"`, `\"`))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
