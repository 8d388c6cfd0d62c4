package tsdb

import (
	"fmt"
	"math"
	"slices"
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

// foldRaw folds time-ordered raw samples in, one division per window.
func (c *consolidator) foldRaw(ts []int64, vs []float64) {
	n := int64(len(c.steps))
	for j := 0; j < len(ts); {
		t := ts[j]
		if t < c.start {
			j++
			continue
		}
		i := (t - c.start) / c.step
		if i >= n {
			return
		}
		end := c.start + (i+1)*c.step
		a := &c.steps[i]
		for ; j < len(ts) && ts[j] < end; j++ {
			v := vs[j]
			if v != v { // NaN, including stale markers
				continue
			}
			if a.Count == 0 {
				a.Min, a.Max = v, v
			} else {
				a.Min, a.Max = math.Min(a.Min, v), math.Max(a.Max, v)
			}
			a.Sum += v
			a.Count++
		}
	}
}

// add folds one part of a series: raw samples, or rollup windows.
func (c *consolidator) add(s Series) error {
	bs, ok := s.(*blockSeries)
	if !ok || bs.b.meta.Resolution == 0 {
		it := s.Iterator()
		if ci, ok := it.(*chunksIterator); ok {
			for {
				ts, vs, ok := ci.batch()
				if !ok {
					return ci.Err()
				}
				c.foldRaw(ts, vs)
			}
		}
		for it.Next() {
			t, v := it.At()
			if !math.IsNaN(v) {
				c.fold(t, v, 1, v, v)
			}
		}
		return it.Err()
	}
	var cs [4][]chunkData
	for i, kind := range []byte{kindSum, kindCount, kindMin, kindMax} {
		var err error
		if cs[i], err = bs.b.chunks(bs.metas, kind, bs.mint, bs.maxt); err != nil {
			return err
		}
	}
	if bs.b.meta.Version >= 2 {
		return c.addRollupColumns(bs, &cs)
	}
	var its [4]*chunksIterator
	for i := range its {
		its[i] = newChunksIterator(cs[i], bs.mint, bs.maxt, nil)
	}
	for {
		ts, sums, ok := its[0].batch()
		_, counts, ok1 := its[1].batch()
		_, mins, ok2 := its[2].batch()
		_, maxs, ok3 := its[3].batch()
		if !ok || !ok1 || !ok2 || !ok3 {
			break
		}
		if len(counts) != len(ts) || len(mins) != len(ts) || len(maxs) != len(ts) {
			return fmt.Errorf("%w: block %s: rollup aggregates of different lengths", ErrCorruptBlock, bs.b.meta.ID)
		}
		for j, t := range ts {
			c.fold(t, sums[j], counts[j], mins[j], maxs[j])
		}
	}
	for _, it := range its {
		it.finish()
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}

// addRollupColumns folds a v2 rollup block's aggregates, decoding the
// timestamp column the four aggregates share once per chunk.
func (c *consolidator) addRollupColumns(bs *blockSeries, cs *[4][]chunkData) error {
	for k := 1; k < 4; k++ {
		if len(cs[k]) != len(cs[0]) {
			return fmt.Errorf("%w: block %s: rollup aggregates of different lengths", ErrCorruptBlock, bs.b.meta.ID)
		}
	}
	col := columnPool.Get().(*columns)
	defer columnPool.Put(col)
	vals := &col.agg
	for j := range cs[0] {
		n, err := col.decodeTimes(cs[0][j].ts)
		if err != nil {
			return err
		}
		for k := range vals {
			if vals[k], err = col.decodeValues(cs[k][j].vals, n, vals[k]); err != nil {
				return err
			}
		}
		ts := col.ts
		lo, _ := slices.BinarySearch(ts, bs.mint)
		hi, _ := slices.BinarySearch(ts, bs.maxt+1)
		for i := lo; i < hi; i++ {
			c.fold(ts[i], vals[0][i], vals[1][i], vals[2][i], vals[3][i])
		}
	}
	return nil
}
