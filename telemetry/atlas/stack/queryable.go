package stack

import (
	"context"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// QueryableSource reads a Prometheus storage.Queryable: the remote
// backend the metrics system reads with --metrics-query-url (Mimir,
// VictoriaMetrics, Thanos, Prometheus), or that merged with the store.
// It selects as TSDBSource does and consolidates raw samples into the
// same step windows ([T, T+step), their mean), so a graph reads the
// same from either; it has no rollups, so it reads every sample.
type QueryableSource struct {
	Q storage.Queryable
}

// promMatchers converts store matchers to Prometheus's.
func promMatchers(ms []*tsdb.Matcher) ([]*labels.Matcher, error) {
	out := make([]*labels.Matcher, len(ms))
	for i, m := range ms {
		var t labels.MatchType
		switch m.Type {
		case tsdb.MatchEqual:
			t = labels.MatchEqual
		case tsdb.MatchNotEqual:
			t = labels.MatchNotEqual
		case tsdb.MatchRegexp:
			t = labels.MatchRegexp
		case tsdb.MatchNotRegexp:
			t = labels.MatchNotRegexp
		default:
			return nil, fmt.Errorf("matcher %s: unknown type", m.Name)
		}
		pm, err := labels.NewMatcher(t, m.Name, m.Value)
		if err != nil {
			return nil, err
		}
		out[i] = pm
	}
	return out, nil
}

// atlasTagsOf are a Prometheus series' labels as Atlas tags.
func atlasTagsOf(ls labels.Labels) map[string]string {
	m := make(map[string]string, ls.Len())
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			m["name"] = l.Value
		} else {
			m[l.Name] = l.Value
		}
	})
	return m
}

// Fetch implements Source.
func (s QueryableSource) Fetch(ctx context.Context, q Query, start, end, step int64, fn func(map[string]string, []float64) error) error {
	if end <= start {
		return nil
	}
	// The windows of TSDBSource's Consolidate: from start rounded down
	// to a step, through the window holding end-1; vals[i] is window i.
	first := floorStep(start, step)
	n := int((floorStep(end-1, step)-first)/step) + 1
	last := first + int64(n)*step // exclusive
	sums, counts := make([]float64, n), make([]float64, n)
	vals := make([]float64, int((end-start)/step))
	seen := map[string]bool{}
	return s.each(ctx, q, first, last-1, func(qr storage.Querier, ms []*labels.Matcher) error {
		set := qr.Select(ctx, false, &storage.SelectHints{Start: first, End: last - 1, Step: step}, ms...)
		var it chunkenc.Iterator
		for set.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			series := set.At()
			key := series.Labels().String()
			tags := atlasTagsOf(series.Labels())
			if seen[key] || !q.Matches(tags) {
				continue
			}
			seen[key] = true
			clear(sums)
			clear(counts)
			it = series.Iterator(it)
			for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
				if vt != chunkenc.ValFloat {
					continue // histograms have no Atlas value
				}
				t, v := it.At()
				if t < first || t >= last {
					continue
				}
				i := int((t - first) / step)
				sums[i] += v
				counts[i]++
			}
			if err := it.Err(); err != nil {
				return err
			}
			found := false
			for i := range vals {
				vals[i] = math.NaN()
				if i < n && counts[i] > 0 {
					vals[i] = sums[i] / counts[i]
					found = true
				}
			}
			if found {
				if err := fn(tags, vals); err != nil {
					return err
				}
			}
		}
		return set.Err()
	})
}

// TagKeys implements Source.
func (s QueryableSource) TagKeys(ctx context.Context, q Query, start, end int64) ([]string, error) {
	set := map[string]bool{}
	err := s.each(ctx, q, start, end, func(qr storage.Querier, ms []*labels.Matcher) error {
		names, _, err := qr.LabelNames(ctx, &storage.LabelHints{}, ms...)
		for _, n := range names {
			if n == labels.MetricName {
				n = "name"
			}
			set[n] = true
		}
		return err
	})
	return sortedSet(set), err
}

// TagValues implements Source.
func (s QueryableSource) TagValues(ctx context.Context, key string, q Query, start, end int64) ([]string, error) {
	set := map[string]bool{}
	err := s.each(ctx, q, start, end, func(qr storage.Querier, ms []*labels.Matcher) error {
		vs, _, err := qr.LabelValues(ctx, storeKey(key), &storage.LabelHints{}, ms...)
		for _, v := range vs {
			set[v] = true
		}
		return err
	})
	return sortedSet(set), err
}

// each calls fn with a querier over [mint, maxt] and each disjunct's
// matchers.
func (s QueryableSource) each(ctx context.Context, q Query, mint, maxt int64, fn func(storage.Querier, []*labels.Matcher) error) error {
	qr, err := s.Q.Querier(mint, maxt)
	if err != nil {
		return err
	}
	defer qr.Close()
	for _, sel := range selectors(q) {
		ms, err := promMatchers(sel)
		if err != nil {
			return err
		}
		if err := fn(qr, ms); err != nil {
			return err
		}
	}
	return nil
}

// floorStep is t rounded down to a multiple of step.
func floorStep(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}
