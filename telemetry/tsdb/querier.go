package tsdb

import (
	"math"
	"slices"
	"sort"
)

// SelectHints describe a query so the store can choose a resolution. All
// times are in milliseconds. A nil *SelectHints reads raw data.
type SelectHints struct {
	// Step is the query's evaluation step; Range the window of a range
	// selector (0 for an instant selector). Informational.
	Step, Range int64
	// MaxResolution allows answering from a rollup tier whose resolution is
	// at most this. 0 reads raw samples wherever they are still kept; data
	// older than the raw retention is always answered from the finest
	// rollup tier that has it.
	MaxResolution int64
	// Aggregate is the value read from rollup tiers (AggLast by default).
	Aggregate Aggregate
}

// Querier reads a consistent view of the store for [mint, maxt]
// (milliseconds, inclusive). Close it to let compaction delete the blocks
// it uses.
type Querier struct {
	db         *DB
	mint, maxt int64
	blocks     []*block
	closed     bool
}

// Querier opens a reader for samples with mint ≤ t ≤ maxt.
func (db *DB) Querier(mint, maxt int64) (*Querier, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	q := &Querier{db: db, mint: mint, maxt: maxt}
	db.mu.RLock()
	for _, b := range db.blocks {
		if b.meta.MaxTime > mint && b.meta.MinTime <= maxt {
			b.readers.Add(1)
			q.blocks = append(q.blocks, b)
		}
	}
	db.mu.RUnlock()
	return q, nil
}

// Close releases the querier's blocks.
func (q *Querier) Close() error {
	if !q.closed {
		q.closed = true
		for _, b := range q.blocks {
			b.readers.Done()
		}
	}
	return nil
}

// source is one part of the store a query reads: the head or a block, over
// a time range.
type source struct {
	b          *block // nil for the head
	mint, maxt int64
}

// sources splits the querier's range between rollup tiers and raw data.
func (q *Querier) sources(hints *SelectHints) []source {
	var maxRes int64
	if hints != nil {
		maxRes = hints.MaxResolution
	}
	// Raw data covers [rawStart, ∞).
	rawStart := int64(math.MaxInt64)
	var raw []*block
	tiers := map[int64][]*block{}
	for _, b := range q.blocks {
		if b.meta.Resolution == 0 {
			rawStart = min(rawStart, b.meta.MinTime)
			raw = append(raw, b)
		} else {
			tiers[b.meta.Resolution] = append(tiers[b.meta.Resolution], b)
		}
	}
	h := q.db.head
	if hm := h.minT.Load(); hm != math.MaxInt64 {
		rawStart = min(rawStart, max(hm, h.minValid.Load()))
	}
	// Pick the rollup tier: the coarsest allowed, else the finest for data
	// older than the raw data.
	var res []int64
	for r := range tiers {
		res = append(res, r)
	}
	slices.Sort(res)
	rollupEnd := int64(math.MinInt64) // rollups serve [mint, rollupEnd)
	var tier []*block
	for i := len(res) - 1; i >= 0; i-- {
		if res[i] <= maxRes {
			tier = tiers[res[i]]
			for _, b := range tier {
				rollupEnd = max(rollupEnd, b.meta.MaxTime)
			}
			break
		}
	}
	if tier == nil && q.mint < rawStart && len(res) > 0 {
		tier = tiers[res[0]]
		rollupEnd = rawStart
	}
	var out []source
	for _, b := range tier {
		if b.meta.MinTime < rollupEnd {
			out = append(out, source{b, max(q.mint, b.meta.MinTime), min(q.maxt, b.meta.MaxTime-1, rollupEnd-1)})
		}
	}
	for _, b := range raw {
		if b.meta.MaxTime > rollupEnd {
			out = append(out, source{b, max(q.mint, b.meta.MinTime, rollupEnd), min(q.maxt, b.meta.MaxTime-1)})
		}
	}
	if hm := h.minT.Load(); hm != math.MaxInt64 {
		lo := max(q.mint, h.minValid.Load(), rollupEnd)
		if lo <= q.maxt && h.maxT.Load() >= lo {
			out = append(out, source{nil, lo, q.maxt})
		}
	}
	return out
}

// Select returns the series matching all matchers, sorted by labels, with
// samples in the querier's range. With no matchers it returns every series.
func (q *Querier) Select(hints *SelectHints, ms ...*Matcher) SeriesSet {
	agg := AggLast
	if hints != nil {
		agg = hints.Aggregate
	}
	var sets []SeriesSet
	for _, src := range q.sources(hints) {
		if src.mint > src.maxt {
			continue
		}
		if src.b == nil {
			sets = append(sets, q.selectHead(src.mint, src.maxt, ms))
			continue
		}
		bm := selectPostings(src.b.index, ms)
		sets = append(sets, &blockSeriesSet{b: src.b, it: bm.Iterator(), mint: src.mint, maxt: src.maxt, agg: agg})
	}
	switch len(sets) {
	case 0:
		return emptySeriesSet{}
	case 1:
		return sets[0]
	}
	return newMergeSeriesSet(sets)
}

// selectHead returns the head series matching ms, sorted by labels.
func (q *Querier) selectHead(mint, maxt int64, ms []*Matcher) SeriesSet {
	h := q.db.head
	h.index.mu.RLock()
	bm := selectPostings(h.index, ms)
	h.index.mu.RUnlock()
	series := make([]*memSeries, 0, bm.GetCardinality())
	it := bm.Iterator()
	for it.HasNext() {
		if s := h.getByRef(it.Next()); s != nil {
			series = append(series, s)
		}
	}
	// A deleted series listed beside its successor holds no sample.
	series, _ = sortByLabels(series)
	return &headSeriesSet{series: series, mint: mint, maxt: maxt}
}

// LabelNames returns the sorted label names of the series matching ms (of
// all series if ms is empty) that have data in the querier's range.
func (q *Querier) LabelNames(ms ...*Matcher) ([]string, error) {
	set := map[string]struct{}{}
	err := q.eachIndex(ms, func(ir indexReader, series func(func(Labels)) error) error {
		if len(ms) == 0 {
			for _, n := range ir.labelNames() {
				set[n] = struct{}{}
			}
			return nil
		}
		return series(func(ls Labels) {
			for _, l := range ls {
				set[l.Name] = struct{}{}
			}
		})
	})
	return sortedKeys(set), err
}

// LabelValues returns the sorted values of a label among the series
// matching ms (all series if ms is empty) in the querier's range.
func (q *Querier) LabelValues(name string, ms ...*Matcher) ([]string, error) {
	set := map[string]struct{}{}
	err := q.eachIndex(ms, func(ir indexReader, series func(func(Labels)) error) error {
		if len(ms) == 0 {
			for _, v := range ir.labelValues(name) {
				set[v] = struct{}{}
			}
			return nil
		}
		return series(func(ls Labels) {
			if v := ls.Get(name); v != "" {
				set[v] = struct{}{}
			}
		})
	})
	return sortedKeys(set), err
}

// eachIndex calls fn for the head and every block in range with its index
// and a way to walk the label sets of the series matching ms.
func (q *Querier) eachIndex(ms []*Matcher, fn func(indexReader, func(func(Labels)) error) error) error {
	for _, src := range q.sources(&SelectHints{MaxResolution: 0}) {
		if src.b != nil {
			b := src.b
			err := fn(b.index, func(each func(Labels)) error {
				it := selectPostings(b.index, ms).Iterator()
				for it.HasNext() {
					ls, _, err := b.index.series(it.Next())
					if err != nil {
						return err
					}
					each(ls)
				}
				return nil
			})
			if err != nil {
				return err
			}
			continue
		}
		h := q.db.head
		h.index.mu.RLock()
		err := fn(h.index, func(each func(Labels)) error {
			it := selectPostings(h.index, ms).Iterator()
			for it.HasNext() {
				if s := h.getByRef(it.Next()); s != nil {
					each(s.labels())
				}
			}
			return nil
		})
		h.index.mu.RUnlock()
		if err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
