package tsdb

import (
	"math"
)

// Aggregate chooses which rollup aggregate a query reads from a rollup tier.
type Aggregate int

const (
	// AggLast is the last raw value of each window: what an instant lookup
	// of raw data at the window's end would see. The default.
	AggLast Aggregate = iota
	// AggSum is the sum of the window's raw values.
	AggSum
	// AggCount is the number of raw values in the window.
	AggCount
	// AggMin is the smallest raw value in the window.
	AggMin
	// AggMax is the largest raw value in the window.
	AggMax
	// AggAvg is AggSum / AggCount.
	AggAvg
)

// kind maps an aggregate to its chunk kind (AggAvg has none of its own).
func (a Aggregate) kind() byte {
	switch a {
	case AggSum:
		return kindSum
	case AggCount:
		return kindCount
	case AggMin:
		return kindMin
	case AggMax:
		return kindMax
	}
	return kindLast
}

// rollupBuilder aggregates one series' raw samples into windows of res
// milliseconds and gathers the five aggregate streams into chunks. NaN
// values (including stale markers) are left out of every aggregate.
type rollupBuilder struct {
	res    int64
	cuts   [numKinds]chunkCutter
	out    []pendingChunk
	window int64
	n      int
	sum    float64
	min    float64
	max    float64
	last   float64
	chunkR int64 // chunks are cut at multiples of this range
}

func newRollupBuilder(res, chunkRange int64) *rollupBuilder {
	r := &rollupBuilder{res: res, chunkR: chunkRange}
	r.reset()
	return r
}

// reset prepares for the next series.
func (r *rollupBuilder) reset() {
	r.n = 0
	for k := kindSum; k < numKinds; k++ {
		r.cuts[k].reset(k, r.chunkR)
	}
}

// add folds one raw sample in; samples arrive in time order.
func (r *rollupBuilder) add(t int64, v float64) {
	if math.IsNaN(v) {
		return
	}
	w := floorDiv(t, r.res) * r.res
	if r.n > 0 && w != r.window {
		r.emit()
	}
	if r.n == 0 {
		r.window, r.sum, r.min, r.max = w, 0, v, v
	}
	r.n++
	r.sum += v
	r.min = math.Min(r.min, v)
	r.max = math.Max(r.max, v)
	r.last = v
}

// emit adds the finished window to the aggregate streams.
func (r *rollupBuilder) emit() {
	vals := [numKinds]float64{kindSum: r.sum, kindCount: float64(r.n), kindMin: r.min, kindMax: r.max, kindLast: r.last}
	for k := kindSum; k < numKinds; k++ {
		r.cuts[k].add(r.window, vals[k])
	}
	r.n = 0
}

// finish flushes the last window and returns the series' rollup chunks,
// valid until the next reset.
func (r *rollupBuilder) finish() []pendingChunk {
	if r.n > 0 {
		r.emit()
	}
	r.out = r.out[:0]
	for k := kindSum; k < numKinds; k++ {
		r.out = append(r.out, r.cuts[k].chunks()...)
	}
	return r.out
}

// rollupIterator reads one aggregate of a rollup block's series, with each
// window's sample timestamped at the window's last millisecond.
func (s *blockSeries) rollupIterator() Iterator {
	res := s.b.meta.Resolution
	shift := res - 1
	mint, maxt := s.mint-shift, s.maxt-shift
	if s.agg == AggAvg {
		sums, err := s.b.chunks(s.metas, kindSum, mint, maxt)
		if err != nil {
			return emptyIterator{err}
		}
		counts, err := s.b.chunks(s.metas, kindCount, mint, maxt)
		if err != nil {
			return emptyIterator{err}
		}
		return &avgIterator{
			sum:   newChunksIterator(sums, mint, maxt, nil),
			count: newChunksIterator(counts, mint, maxt, nil),
			shift: shift,
		}
	}
	cs, err := s.b.chunks(s.metas, s.agg.kind(), mint, maxt)
	return &shiftIterator{it: newChunksIterator(cs, mint, maxt, err), shift: shift}
}

// shiftIterator moves every timestamp by shift.
type shiftIterator struct {
	it    Iterator
	shift int64
}

func (s *shiftIterator) Next() bool            { return s.it.Next() }
func (s *shiftIterator) SeekTime(t int64) bool { return s.it.SeekTime(t - s.shift) }
func (s *shiftIterator) Err() error            { return s.it.Err() }
func (s *shiftIterator) At() (int64, float64) {
	t, v := s.it.At()
	return t + s.shift, v
}

// avgIterator divides the sum stream by the count stream; both hold the
// same windows.
type avgIterator struct {
	sum, count Iterator
	shift      int64
}

func (a *avgIterator) Next() bool { return a.sum.Next() && a.count.Next() }
func (a *avgIterator) SeekTime(t int64) bool {
	return a.sum.SeekTime(t-a.shift) && a.count.SeekTime(t-a.shift)
}
func (a *avgIterator) At() (int64, float64) {
	t, s := a.sum.At()
	_, c := a.count.At()
	return t + a.shift, s / c
}
func (a *avgIterator) Err() error {
	if err := a.sum.Err(); err != nil {
		return err
	}
	return a.count.Err()
}
