package tsdb

import (
	"math"

	"github.com/RoaringBitmap/roaring/v2"
)

// Series is one series of a query result.
type Series interface {
	// Labels returns the series' labels; callers must not modify them.
	Labels() Labels
	// Iterator returns a new iterator over the series' samples in the
	// querier's time range.
	Iterator() Iterator
}

// SeriesSet iterates over series sorted by labels.
type SeriesSet interface {
	Next() bool
	At() Series
	// Err returns the error that stopped iteration, if any.
	Err() error
}

// headSeriesSet walks head series, already sorted by labels.
type headSeriesSet struct {
	series     []*memSeries
	i          int
	mint, maxt int64
}

func (s *headSeriesSet) Next() bool {
	s.i++
	return s.i <= len(s.series)
}

func (s *headSeriesSet) At() Series {
	return &headSeries{s.series[s.i-1], s.mint, s.maxt}
}

func (s *headSeriesSet) Err() error { return nil }

type headSeries struct {
	s          *memSeries
	mint, maxt int64
}

func (s *headSeries) Labels() Labels         { return s.s.labels() }
func (s *headSeries) Iterator() Iterator     { return s.s.iterator(s.mint, s.maxt) }
func (s *headSeries) bounds() (int64, int64) { return s.mint, s.maxt }

// blockSeriesSet walks a block's series selected by a bitmap; ordinals are
// in label order.
type blockSeriesSet struct {
	b          *block
	it         roaring.IntIterable
	mint, maxt int64
	agg        Aggregate // for rollup blocks
	cur        blockSeries
	err        error
}

func (s *blockSeriesSet) Next() bool {
	for s.err == nil && s.it.HasNext() {
		ls, metas, err := s.b.index.series(s.it.Next())
		if err != nil {
			s.err = err
			return false
		}
		overlaps := false
		for _, m := range metas {
			if m.maxT >= s.mint && m.minT <= s.maxt {
				overlaps = true
				break
			}
		}
		if overlaps {
			s.cur = blockSeries{b: s.b, lset: ls, metas: metas, mint: s.mint, maxt: s.maxt, agg: s.agg}
			return true
		}
	}
	return false
}

func (s *blockSeriesSet) At() Series {
	c := s.cur
	return &c
}

func (s *blockSeriesSet) Err() error { return s.err }

type blockSeries struct {
	b          *block
	lset       Labels
	metas      []chunkMeta
	mint, maxt int64
	agg        Aggregate
}

func (s *blockSeries) Labels() Labels         { return s.lset }
func (s *blockSeries) bounds() (int64, int64) { return s.mint, s.maxt }

func (s *blockSeries) Iterator() Iterator {
	if s.b.meta.Resolution == 0 {
		cs, err := s.b.chunks(s.metas, kindRaw, s.mint, s.maxt)
		return newChunksIterator(cs, s.mint, s.maxt, err)
	}
	return s.rollupIterator()
}

// mergeSeriesSet merges sets sorted by labels; series present in several
// sets are merged sample by sample, later sets winning ties.
type mergeSeriesSet struct {
	sets []SeriesSet
	ok   []bool
	cur  Series
	err  error
	init bool
}

func newMergeSeriesSet(sets []SeriesSet) SeriesSet {
	if len(sets) == 1 {
		return sets[0]
	}
	return &mergeSeriesSet{sets: sets, ok: make([]bool, len(sets))}
}

func (m *mergeSeriesSet) Next() bool {
	if !m.init {
		m.init = true
		for i, s := range m.sets {
			m.ok[i] = s.Next()
		}
	}
	var min Labels
	found := false
	for i, s := range m.sets {
		if !m.ok[i] {
			if err := s.Err(); err != nil {
				m.err = err
				return false
			}
			continue
		}
		ls := s.At().Labels()
		if !found || Compare(ls, min) < 0 {
			min, found = ls, true
		}
	}
	if !found {
		return false
	}
	var parts []Series
	for i, s := range m.sets {
		if m.ok[i] {
			if at := s.At(); Compare(at.Labels(), min) == 0 {
				parts = append(parts, at)
				m.ok[i] = s.Next()
			}
		}
	}
	if len(parts) == 1 {
		m.cur = parts[0]
	} else {
		m.cur = &mergedSeries{lset: min, parts: parts}
	}
	return true
}

func (m *mergeSeriesSet) At() Series { return m.cur }
func (m *mergeSeriesSet) Err() error { return m.err }

type mergedSeries struct {
	lset  Labels
	parts []Series
}

func (s *mergedSeries) Labels() Labels { return s.lset }

// bounded is a part of a series limited to a time range.
type bounded interface {
	bounds() (mint, maxt int64)
}

// Iterator chains the parts when their time ranges follow one another —
// blocks and the head normally do — and merges them sample by sample only
// where they overlap.
func (s *mergedSeries) Iterator() Iterator {
	its := make([]Iterator, len(s.parts))
	for i, p := range s.parts {
		its[i] = p.Iterator()
	}
	if s.disjoint() {
		return &chainIterator{its: its}
	}
	return newMergeIterator(its)
}

// disjoint reports whether each part ends before the next begins.
func (s *mergedSeries) disjoint() bool {
	prev := int64(math.MinInt64)
	for i, p := range s.parts {
		b, ok := p.(bounded)
		if !ok {
			return false
		}
		mint, maxt := b.bounds()
		if i > 0 && mint <= prev {
			return false
		}
		prev = maxt
	}
	return true
}

// emptySeriesSet has no series.
type emptySeriesSet struct{ err error }

func (e emptySeriesSet) Next() bool { return false }
func (e emptySeriesSet) At() Series { return nil }
func (e emptySeriesSet) Err() error { return e.err }
