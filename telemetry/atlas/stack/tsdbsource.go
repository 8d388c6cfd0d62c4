package stack

import (
	"context"
	"math"
	"regexp"
	"strings"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// TSDBSource reads Gaffer's time-series store. Atlas's "name" tag is the
// store's __name__ label.
type TSDBSource struct {
	DB *tsdb.DB
}

// maxDisjuncts bounds the selects one :or query turns into; beyond it the
// query reads every series and filters them.
const maxDisjuncts = 16

func storeKey(k string) string {
	if k == "name" {
		return tsdb.MetricName
	}
	return k
}

func atlasTags(ls tsdb.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		if l.Name == tsdb.MetricName {
			m["name"] = l.Value
		} else {
			m[l.Name] = l.Value
		}
	}
	return m
}

// selectors turns a query into sets of store matchers, one per disjunct;
// the store may return more than the query selects, never less.
func selectors(q Query) [][]*tsdb.Matcher {
	var dnf func(Query) [][]Query
	dnf = func(q Query) [][]Query {
		switch x := q.(type) {
		case Or:
			return append(dnf(x.Q1), dnf(x.Q2)...)
		case And:
			var out [][]Query
			for _, a := range dnf(x.Q1) {
				for _, b := range dnf(x.Q2) {
					out = append(out, append(append([]Query(nil), a...), b...))
					if len(out) > maxDisjuncts {
						return [][]Query{{True{}}}
					}
				}
			}
			return out
		case False:
			return nil
		}
		return [][]Query{{q}}
	}
	conj := dnf(q)
	if len(conj) > maxDisjuncts {
		conj = [][]Query{{True{}}}
	}
	out := make([][]*tsdb.Matcher, 0, len(conj))
	for _, c := range conj {
		var ms []*tsdb.Matcher
		for _, term := range c {
			if m := matcherFor(term); m != nil {
				ms = append(ms, m)
			}
		}
		out = append(out, ms)
	}
	return out
}

func alternation(vs []string) string {
	qs := make([]string, len(vs))
	for i, v := range vs {
		qs[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(qs, "|")
}

// matcherFor is the store matcher equivalent to a query term, or nil when
// the term can only be checked afterwards.
func matcherFor(q Query) *tsdb.Matcher {
	mk := func(t tsdb.MatchType, k, v string) *tsdb.Matcher {
		m, err := tsdb.NewMatcher(t, storeKey(k), v)
		if err != nil {
			return nil
		}
		return m
	}
	switch x := q.(type) {
	case Equal:
		if x.V != "" {
			return mk(tsdb.MatchEqual, x.K, x.V)
		}
	case In:
		return mk(tsdb.MatchRegexp, x.K, alternation(x.Vs))
	case HasKey:
		return mk(tsdb.MatchRegexp, x.K, ".+")
	case *Regex:
		p := "(?:" + x.V + ").*"
		if x.IgnoreCase {
			p = "(?i:" + x.V + ").*"
		}
		return mk(tsdb.MatchRegexp, x.K, p)
	case Not:
		switch y := x.Q.(type) {
		case Equal:
			return mk(tsdb.MatchNotEqual, y.K, y.V)
		case In:
			return mk(tsdb.MatchNotRegexp, y.K, alternation(y.Vs))
		case HasKey:
			return mk(tsdb.MatchEqual, y.K, "")
		}
	}
	return nil
}

// Fetch implements Source with the store's step consolidation: a step's
// value is the mean of the samples in [t, t+step). Series without a
// sample in the range are left out, whether or not the store still lists
// them (its head keeps idle series for a while).
func (s TSDBSource) Fetch(ctx context.Context, q Query, start, end, step int64, fn func(map[string]string, []float64) error) error {
	if end <= start {
		return nil
	}
	sels := selectors(q)
	var seen map[string]bool
	if len(sels) > 1 {
		seen = map[string]bool{}
	}
	n := int((end - start) / step)
	vals := make([]float64, n)
	count := 0
	for _, ms := range sels {
		err := s.DB.Consolidate(start, end-1, step, ms, func(ls tsdb.Labels, steps []tsdb.StepAggregate) error {
			count++
			if count%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			tags := atlasTags(ls)
			if !q.Matches(tags) {
				return nil
			}
			if seen != nil {
				k := ls.String()
				if seen[k] {
					return nil
				}
				seen[k] = true
			}
			found := false
			for i := range vals {
				vals[i] = math.NaN()
				if i < len(steps) && steps[i].Count > 0 {
					vals[i] = steps[i].Sum / steps[i].Count
					found = true
				}
			}
			if !found {
				return nil // no sample in the range
			}
			return fn(tags, vals)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// TagKeys implements Source.
func (s TSDBSource) TagKeys(ctx context.Context, q Query, start, end int64) ([]string, error) {
	set := map[string]bool{}
	err := s.eachSelector(q, start, end, func(qr *tsdb.Querier, ms []*tsdb.Matcher) error {
		names, err := qr.LabelNames(ms...)
		for _, n := range names {
			if n == tsdb.MetricName {
				n = "name"
			}
			set[n] = true
		}
		return err
	})
	return sortedSet(set), err
}

// TagValues implements Source.
func (s TSDBSource) TagValues(ctx context.Context, key string, q Query, start, end int64) ([]string, error) {
	set := map[string]bool{}
	err := s.eachSelector(q, start, end, func(qr *tsdb.Querier, ms []*tsdb.Matcher) error {
		vs, err := qr.LabelValues(storeKey(key), ms...)
		for _, v := range vs {
			set[v] = true
		}
		return err
	})
	return sortedSet(set), err
}

func (s TSDBSource) eachSelector(q Query, start, end int64, fn func(*tsdb.Querier, []*tsdb.Matcher) error) error {
	qr, err := s.DB.Querier(start, end)
	if err != nil {
		return err
	}
	defer qr.Close()
	for _, ms := range selectors(q) {
		if err := fn(qr, ms); err != nil {
			return err
		}
	}
	return nil
}
