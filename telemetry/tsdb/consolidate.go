package tsdb

import (
	"fmt"
	"math"
)

// StepAggregate summarises one step window [T, T+step) of a series. NaN
// samples (including stale markers) are left out; a window without samples
// has Count 0 and NaN Min and Max.
type StepAggregate struct {
	T        int64
	Sum      float64
	Count    float64
	Min, Max float64
}

// ConsolidateFunc receives one series and its step windows. steps is
// reused after fn returns; copy what you keep.
type ConsolidateFunc func(ls Labels, steps []StepAggregate) error

// Consolidate aggregates every series matching ms into windows of step
// milliseconds aligned to multiples of step, covering mint to maxt widened
// to whole steps — Atlas's consolidation. Where a rollup tier's resolution
// divides step it reads the rollup instead of raw samples, with the same
// result. It does not allocate per sample.
func (db *DB) Consolidate(mint, maxt, step int64, ms []*Matcher, fn ConsolidateFunc) error {
	if step <= 0 {
		return fmt.Errorf("consolidate: step %d is not positive", step)
	}
	start := floorDiv(mint, step) * step
	end := floorDiv(maxt, step)*step + step - 1
	n := int((end - start + 1) / step)
	if n > 10_000_000 {
		return fmt.Errorf("consolidate: %d steps is too many", n)
	}
	var res int64
	for _, t := range db.opts.Rollups {
		if r := t.Resolution.Milliseconds(); step%r == 0 {
			res = r
		}
	}
	q, err := db.Querier(start, end)
	if err != nil {
		return err
	}
	defer q.Close()
	set := q.Select(&SelectHints{Step: step, MaxResolution: res}, ms...)
	steps := make([]StepAggregate, n)
	c := consolidator{start: start, step: step, steps: steps}
	for set.Next() {
		s := set.At()
		c.reset()
		parts := []Series{s}
		if m, ok := s.(*mergedSeries); ok {
			parts = m.parts
		}
		for _, p := range parts {
			if err := c.add(p); err != nil {
				return fmt.Errorf("consolidate %s: %w", s.Labels(), err)
			}
		}
		if err := fn(s.Labels(), steps); err != nil {
			return err
		}
	}
	return set.Err()
}

// consolidator folds samples or rollup windows into step windows.
type consolidator struct {
	start, step int64
	steps       []StepAggregate
}

func (c *consolidator) reset() {
	for i := range c.steps {
		c.steps[i] = StepAggregate{T: c.start + int64(i)*c.step, Min: math.NaN(), Max: math.NaN()}
	}
}

func (c *consolidator) fold(t int64, sum, count, lo, hi float64) {
	i := (t - c.start) / c.step
	if t < c.start || i >= int64(len(c.steps)) {
		return
	}
	a := &c.steps[i]
	if a.Count == 0 {
		a.Min, a.Max = lo, hi
	} else {
		a.Min, a.Max = math.Min(a.Min, lo), math.Max(a.Max, hi)
	}
	a.Sum += sum
	a.Count += count
}

// add folds one part of a series: raw samples, or rollup windows.
func (c *consolidator) add(s Series) error {
	bs, ok := s.(*blockSeries)
	if !ok || bs.b.meta.Resolution == 0 {
		it := s.Iterator()
		for it.Next() {
			t, v := it.At()
			if !math.IsNaN(v) {
				c.fold(t, v, 1, v, v)
			}
		}
		return it.Err()
	}
	var its [4]Iterator
	for i, kind := range []byte{kindSum, kindCount, kindMin, kindMax} {
		cs, err := bs.b.chunks(bs.metas, kind, bs.mint, bs.maxt)
		if err != nil {
			return err
		}
		its[i] = newChunksIterator(cs, bs.mint, bs.maxt, nil)
	}
	for its[0].Next() && its[1].Next() && its[2].Next() && its[3].Next() {
		t, sum := its[0].At()
		_, count := its[1].At()
		_, lo := its[2].At()
		_, hi := its[3].At()
		c.fold(t, sum, count, lo, hi)
	}
	for _, it := range its {
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}
