package changepoint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// RangeQuerier evaluates a PromQL expression from start to end every step:
// the metrics system's Go API. With it, q is any PromQL expression.
type RangeQuerier interface {
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (prom.Result, error)
}

// Consolidator is Atlas-style consolidation of the series that label
// matchers select, one aggregate per step window. *tsdb.DB implements it;
// with it alone, q is a series selector.
type Consolidator interface {
	Consolidate(mint, maxt, step int64, ms []*tsdb.Matcher, fn tsdb.ConsolidateFunc) error
}

// Source is where the series endpoint reads: a RangeQuerier or else a
// Consolidator.
type Source struct {
	Query RangeQuerier
	Store Consolidator
}

// promParser parses PromQL; it keeps no state between calls.
var promParser = parser.NewParser(parser.Options{})

// errNoStore reports that no metrics store is reachable.
var errNoStore = errors.New("no metrics store")

// lookupSource finds the running system that owns the metrics store.
func lookupSource(deps *platform.Deps) (Source, error) {
	m, err := metricsapi.From(deps)
	if err != nil {
		return Source{}, fmt.Errorf("%w: %w", errNoStore, err)
	}
	src := Source{Query: m}
	if db := m.DB(); db != nil {
		src.Store = db
	}
	return src, nil
}

// collector gathers series within the endpoint's limits.
type collector struct {
	series []SeriesResult
	values int
}

// add keeps one series: its labels and its finite points (the others are
// counted as skipped).
func (c *collector) add(ls tsdb.Labels, n int, point func(i int) (t int64, v float64, ok bool)) error {
	if len(c.series) == maxSeries {
		return httpapi.BadRequest("q: selects more than %d series; narrow it", maxSeries)
	}
	res := SeriesResult{Labels: map[string]string{}}
	for _, l := range ls {
		res.Labels[l.Name] = l.Value
	}
	for i := 0; i < n; i++ {
		t, v, ok := point(i)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			res.Skipped++
			continue
		}
		res.Times = append(res.Times, float64(t)/1000)
		res.Values = append(res.Values, v)
	}
	if c.values += len(res.Values); c.values > MaxValues {
		return httpapi.BadRequest("q: the series hold more than %d points in all; narrow q or raise step", MaxValues)
	}
	c.series = append(c.series, res)
	return nil
}

// read returns the series sq asks for, from PromQL when the source
// evaluates it, else from the consolidated store.
func (src Source) read(ctx context.Context, sq seriesQuery) ([]SeriesResult, error) {
	var c collector
	if src.Query != nil {
		return c.series, c.promQL(ctx, src.Query, sq)
	}
	ms, err := selector(sq.q)
	if err != nil {
		return nil, httpapi.BadRequest("q: %v", err)
	}
	err = src.Store.Consolidate(sq.start.UnixMilli(), sq.end.UnixMilli(), sq.step.Milliseconds(), ms,
		func(ls tsdb.Labels, steps []tsdb.StepAggregate) error {
			return c.add(ls, len(steps), func(i int) (int64, float64, bool) {
				st := steps[i]
				return st.T, st.Sum / st.Count, st.Count > 0
			})
		})
	var he *httpapi.Error
	if err != nil && !errors.As(err, &he) {
		err = fmt.Errorf("series %s: %w", sq.q, err)
	}
	return c.series, err
}

// promQL evaluates sq.q as a range query: one point per step where the
// expression has a value.
func (c *collector) promQL(ctx context.Context, q RangeQuerier, sq seriesQuery) error {
	expr, err := promParser.ParseExpr(sq.q)
	if err != nil {
		return httpapi.BadRequest("q: %v", err)
	}
	if t := expr.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
		return httpapi.BadRequest("q: a range query needs an instant vector or scalar expression, not a %s", t)
	}
	res, err := q.QueryRange(ctx, sq.q, sq.start, sq.end, sq.step)
	if err != nil {
		return queryError(sq.q, err)
	}
	for _, s := range res.Series {
		if err := c.add(s.Labels, len(s.Points), func(i int) (int64, float64, bool) {
			return s.Points[i].T, s.Points[i].V, true
		}); err != nil {
			return err
		}
	}
	return nil
}

// selector parses a series selector (name{label="v", other=~"re"}) for a
// store that only consolidates. Like Prometheus it refuses selectors that
// would match every series.
func selector(q string) ([]*tsdb.Matcher, error) {
	lms, err := promParser.ParseMetricSelector(q)
	if err != nil {
		return nil, err
	}
	ms, err := prom.ConvertMatchers(lms)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !m.Matches("") {
			return ms, nil
		}
	}
	return nil, fmt.Errorf("selector %s matches every series: it needs a metric name or a matcher that does not match the empty string", q)
}

// queryError maps a PromQL evaluation error to the API's.
func queryError(q string, err error) error {
	var (
		timeout promql.ErrQueryTimeout
		st      promql.ErrStorage
	)
	switch {
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return httpapi.Errorf(http.StatusServiceUnavailable, "timeout", "q: the query exceeded the time budget: %v", err)
	case errors.As(err, &st), errors.Is(err, context.Canceled):
		return fmt.Errorf("q %s: %w", q, err)
	}
	return httpapi.Errorf(http.StatusUnprocessableEntity, "execution", "q: %v", err)
}
