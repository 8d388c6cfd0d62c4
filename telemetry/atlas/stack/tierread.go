package stack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// ErrNotInTier is returned by Fetch, before it calls fn, when the tier
// does not answer the fetch: the range is not in its window, or the query
// is not admitted or its series are not all warm yet.
var ErrNotInTier = errors.New("atlas memory tier: not in the tier")

// Fetch implements Source for the ranges Covers accepts and the queries
// admitted to the tier (ErrNotInTier otherwise): the series matching q
// with a sample in [start, end), in the store's label order, with the
// values TSDBSource would give. It counts as a read of q and its series.
func (t *Tier) Fetch(ctx context.Context, q Query, start, end, step int64, fn func(map[string]string, []float64) error) error {
	if !t.Covers(start, end, step) {
		return fmt.Errorf("%w: [%d, %d) at step %d ms is not in the window", ErrNotInTier, start, end, step)
	}
	t.fetchMu.RLock()
	defer t.fetchMu.RUnlock()
	key := exprString(q)
	t.mu.RLock()
	r := t.queries[key]
	t.mu.RUnlock()
	if r == nil || !r.ready.Load() {
		return fmt.Errorf("%w: %s is not admitted", ErrNotInTier, key)
	}
	now := t.now().UnixMilli()
	list := t.candidates(q)
	if t.unwarmed.Load() > 0 { // series that joined at ingest may be warming up
		for _, s := range list {
			if !q.Matches(s.tags) {
				continue
			}
			s.mu.Lock()
			warm := s.warm || s.gone.Load()
			s.mu.Unlock()
			if !warm {
				return fmt.Errorf("%w: %s has series warming up", ErrNotInTier, key)
			}
		}
	}
	r.used.Store(now) // and every series it matches below
	buf := make([]float64, int((end-start)/step))
	m0, k := start/minuteMs, step/minuteMs
	for i, s := range list {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !q.Matches(s.tags) {
			continue
		}
		s.mu.Lock()
		s.readAt = now
		ok := !s.gone.Load() && s.read(buf, m0, k)
		s.mu.Unlock()
		if !ok {
			continue
		}
		if err := fn(s.tags, buf); err != nil {
			return err
		}
	}
	return nil
}

// TagKeys implements Source from the store's tags of the tier's series.
func (t *Tier) TagKeys(_ context.Context, q Query, _, _ int64) ([]string, error) {
	set := map[string]bool{}
	for _, s := range t.candidates(q) {
		if q.Matches(s.tags) {
			for k := range s.tags {
				set[k] = true
			}
		}
	}
	return sortedSet(set), nil
}

// TagValues implements Source.
func (t *Tier) TagValues(_ context.Context, key string, q Query, _, _ int64) ([]string, error) {
	set := map[string]bool{}
	for _, s := range t.candidates(q) {
		if v, ok := s.tags[key]; ok && q.Matches(s.tags) {
			set[v] = true
		}
	}
	return sortedSet(set), nil
}

// candidates returns the series q may match, sorted by labels: those of
// the names q requires, or all. Lists that got series since they were
// last sorted are sorted first.
func (t *Tier) candidates(q Query) []*tierSeries {
	names, ok := queryNames(q)
	if !ok {
		names = []string{""}
	}
	t.mu.RLock()
	unsorted := false
	for _, n := range names {
		unsorted = unsorted || t.unsorted[n]
	}
	t.mu.RUnlock()
	if unsorted {
		t.mu.Lock()
		for _, n := range names {
			if t.unsorted[n] {
				if n == "" {
					slices.SortFunc(t.all, compareSeries)
				} else {
					slices.SortFunc(t.byName[n], compareSeries)
				}
				delete(t.unsorted, n)
			}
		}
		t.mu.Unlock()
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !ok {
		return slices.Clone(t.all)
	}
	var out []*tierSeries
	for _, n := range names {
		out = append(out, t.byName[n]...)
	}
	if len(names) > 1 {
		slices.SortFunc(out, compareSeries)
		out = slices.CompactFunc(out, func(a, b *tierSeries) bool { return a == b })
	}
	return out
}

func compareSeries(a, b *tierSeries) int { return tsdb.Compare(a.ls, b.ls) }

// queryNames returns the metric names a series must have to match q, if
// q restricts them.
func queryNames(q Query) ([]string, bool) {
	switch x := q.(type) {
	case Equal:
		if x.K == "name" {
			return []string{x.V}, true
		}
	case In:
		if x.K == "name" {
			return x.Vs, true
		}
	case And:
		if n, ok := queryNames(x.Q1); ok {
			return n, true
		}
		return queryNames(x.Q2)
	case Or:
		n1, ok1 := queryNames(x.Q1)
		n2, ok2 := queryNames(x.Q2)
		if ok1 && ok2 {
			return append(append([]string(nil), n1...), n2...), true
		}
	case False:
		return nil, true
	}
	return nil, false
}

// read fills buf with the step values from minute m0 on, k minutes a
// step, and reports whether any step has a sample; the caller holds s.mu.
func (s *tierSeries) read(buf []float64, m0, k int64) bool {
	n := int64(len(s.blocks))
	found := false
	if k == 1 {
		for i, m := 0, m0; i < len(buf); {
			hour := floorDiv(m, blockMinutes)
			j := int(m - hour*blockMinutes)
			c := min(blockMinutes-j, len(buf)-i)
			seg := buf[i : i+c]
			b := &s.blocks[hour%n]
			switch {
			case b.sums == nil || b.hour != hour:
				for x := range seg {
					seg[x] = math.NaN()
				}
			case b.counts == nil:
				copy(seg, b.sums[j:j+c])
				found = found || b.hasData(j, j+c)
			default:
				for x := range seg {
					switch cnt := b.counts[j+x]; cnt {
					case 0:
						seg[x] = math.NaN()
					case 1:
						seg[x] = b.sums[j+x]
					default:
						seg[x] = b.sums[j+x] / float64(cnt)
					}
				}
				found = found || b.hasData(j, j+c)
			}
			i += c
			m += int64(c)
		}
		return found
	}
	for o := range buf {
		sum, cnt := 0.0, 0.0
		for m := m0 + int64(o)*k; m < m0+int64(o+1)*k; m++ {
			hour := floorDiv(m, blockMinutes)
			if b := &s.blocks[hour%n]; b.sums != nil && b.hour == hour {
				if v, c := b.at(int(m - hour*blockMinutes)); c > 0 {
					sum += v
					cnt += c
				}
			}
		}
		buf[o] = math.NaN()
		if cnt > 0 {
			buf[o] = sum / cnt
			found = true
		}
	}
	return found
}

// hasData reports whether a minute in [j0, j1) holds a sample.
func (b *tierBlock) hasData(j0, j1 int) bool {
	first, last := int(b.first), int(b.last)
	switch {
	case first < 0 || last < j0 || first >= j1:
		return false
	case first >= j0 || last < j1:
		return true
	}
	for j := j0; j < j1; j++ {
		if _, c := b.at(j); c > 0 {
			return true
		}
	}
	return false
}
