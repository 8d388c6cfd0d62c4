package prom

import (
	"context"
	"fmt"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Queryable is a storage.Queryable over a tsdb.DB: the upstream PromQL
// engine reads Gaffer's store through it.
type Queryable struct {
	DB *tsdb.DB
}

// Querier implements storage.Queryable for samples with mint ≤ t ≤ maxt.
func (q Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	tq, err := q.DB.Querier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("open tsdb querier: %w", err)
	}
	return &querier{q: tq}, nil
}

type querier struct {
	q *tsdb.Querier
}

// ConvertMatchers turns PromQL label matchers into the store's.
func ConvertMatchers(ms []*labels.Matcher) ([]*tsdb.Matcher, error) {
	out := make([]*tsdb.Matcher, 0, len(ms))
	for _, m := range ms {
		var t tsdb.MatchType
		switch m.Type {
		case labels.MatchEqual:
			t = tsdb.MatchEqual
		case labels.MatchNotEqual:
			t = tsdb.MatchNotEqual
		case labels.MatchRegexp:
			t = tsdb.MatchRegexp
		case labels.MatchNotRegexp:
			t = tsdb.MatchNotRegexp
		default:
			return nil, fmt.Errorf("unknown matcher type %v", m.Type)
		}
		tm, err := tsdb.NewMatcher(t, m.Name, m.Value)
		if err != nil {
			return nil, fmt.Errorf("matcher %s: %w", m, err)
		}
		out = append(out, tm)
	}
	return out, nil
}

// aggregateFor picks the rollup aggregate that answers fn exactly.
func aggregateFor(fn string) tsdb.Aggregate {
	switch fn {
	case "avg_over_time":
		return tsdb.AggAvg
	case "min_over_time":
		return tsdb.AggMin
	case "max_over_time":
		return tsdb.AggMax
	case "sum_over_time":
		return tsdb.AggSum
	case "count_over_time":
		return tsdb.AggCount
	}
	return tsdb.AggLast
}

func (q *querier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	tms, err := ConvertMatchers(ms)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	var th *tsdb.SelectHints
	if hints != nil {
		th = &tsdb.SelectHints{Step: hints.Step, Range: hints.Range, Aggregate: aggregateFor(hints.Func)}
	}
	set := q.q.Select(th, tms...)
	limit := 0
	if hints != nil {
		limit = hints.Limit
	}
	return &seriesSet{set: set, limit: limit}
}

func (q *querier) LabelValues(_ context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	tms, err := ConvertMatchers(ms)
	if err != nil {
		return nil, nil, err
	}
	vals, err := q.q.LabelValues(name, tms...)
	if err != nil {
		return nil, nil, err
	}
	return truncate(vals, hints), nil, nil
}

func (q *querier) LabelNames(_ context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	tms, err := ConvertMatchers(ms)
	if err != nil {
		return nil, nil, err
	}
	names, err := q.q.LabelNames(tms...)
	if err != nil {
		return nil, nil, err
	}
	return truncate(names, hints), nil, nil
}

func truncate(s []string, hints *storage.LabelHints) []string {
	if hints != nil && hints.Limit > 0 && len(s) > hints.Limit {
		return s[:hints.Limit]
	}
	return s
}

func (q *querier) Close() error { return q.q.Close() }

// seriesSet adapts a tsdb.SeriesSet.
type seriesSet struct {
	set   tsdb.SeriesSet
	limit int
	n     int
	cur   storage.Series
	b     labels.ScratchBuilder
}

func (s *seriesSet) Next() bool {
	if s.limit > 0 && s.n >= s.limit {
		return false
	}
	if !s.set.Next() {
		return false
	}
	s.n++
	ts := s.set.At()
	s.cur = &series{ls: ToLabels(&s.b, ts.Labels()), s: ts}
	return true
}

func (s *seriesSet) At() storage.Series                { return s.cur }
func (s *seriesSet) Err() error                        { return s.set.Err() }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// ToLabels converts the store's labels to Prometheus's, using b.
func ToLabels(b *labels.ScratchBuilder, ls tsdb.Labels) labels.Labels {
	b.Reset()
	for _, l := range ls {
		b.Add(l.Name, l.Value)
	}
	return b.Labels()
}

// FromLabels converts Prometheus's labels to the store's.
func FromLabels(ls labels.Labels) tsdb.Labels {
	out := make(tsdb.Labels, 0, ls.Len())
	ls.Range(func(l labels.Label) { out = append(out, tsdb.Label{Name: l.Name, Value: l.Value}) })
	return out
}

type series struct {
	ls labels.Labels
	s  tsdb.Series
}

func (s *series) Labels() labels.Labels { return s.ls }

func (s *series) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if a, ok := it.(*iterator[int64]); ok {
		a.reset(s.s.Iterator())
		return a
	}
	a := &iterator[int64]{}
	a.reset(s.s.Iterator())
	return a
}

// iterator adapts a tsdb.Iterator to chunkenc.Iterator (floats only). It
// is generic over the timestamp type only because go vet's stdmethods
// check takes any method Seek(int64) for a misdeclared io.Seeker.
type iterator[T ~int64] struct {
	it   tsdb.Iterator
	t    int64
	v    float64
	done bool
}

func (a *iterator[T]) reset(it tsdb.Iterator) { *a = iterator[T]{it: it} }

func (a *iterator[T]) Next() chunkenc.ValueType {
	if a.done || !a.it.Next() {
		a.done = true
		return chunkenc.ValNone
	}
	a.t, a.v = a.it.At()
	return chunkenc.ValFloat
}

func (a *iterator[T]) Seek(t T) chunkenc.ValueType {
	if a.done || !a.it.SeekTime(int64(t)) {
		a.done = true
		return chunkenc.ValNone
	}
	a.t, a.v = a.it.At()
	return chunkenc.ValFloat
}

func (a *iterator[T]) At() (int64, float64) { return a.t, a.v }

func (a *iterator[T]) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("prom: the store holds no histograms")
}

func (a *iterator[T]) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("prom: the store holds no histograms")
}

func (a *iterator[T]) AtT() int64  { return a.t }
func (a *iterator[T]) AtST() int64 { return 0 }
func (a *iterator[T]) Err() error  { return a.it.Err() }
