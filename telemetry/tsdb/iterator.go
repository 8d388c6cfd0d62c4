package tsdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/chunk"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/column"
)

// Iterator walks a series' samples in increasing time order. Values are
// returned bit-exactly as appended, so Prometheus's stale-marker NaN
// survives. Iterators do not allocate per sample.
type Iterator interface {
	// Next advances to the next sample.
	Next() bool
	// SeekTime advances to the first sample at or after t and reports
	// whether there is one. It never moves backwards.
	SeekTime(t int64) bool
	// At returns the current sample: timestamp in milliseconds and value.
	At() (int64, float64)
	// Err returns the error that stopped iteration, if any.
	Err() error
}

// sample is one (timestamp, value) pair.
type sample struct {
	t int64
	v float64
}

// chunkData is an encoded chunk with its time bounds: a bit stream (head
// chunks, v1 blocks) or a v2 block's two column records.
type chunkData struct {
	minT, maxT int64
	data       []byte // bit stream
	ts, vals   []byte // column records: count uvarint, then the column
}

// chunksIterator decodes a list of time-ordered chunks, limited to [mint,
// maxt]. Each chunk is decoded whole into arrays (bit streams with
// chunk.Decoder, column records with package column), then walked.
type chunksIterator struct {
	chunks     []chunkData
	mint, maxt int64
	i          int
	col        *columns // the current chunk, decoded
	pos, end   int      // col's current sample and the end of its range
	valid      bool     // positioned on a sample
	started    bool
	done       bool
	err        error
}

func newChunksIterator(chunks []chunkData, mint, maxt int64, err error) *chunksIterator {
	it := &chunksIterator{}
	it.reset(chunks, mint, maxt, err)
	return it
}

func (it *chunksIterator) reset(chunks []chunkData, mint, maxt int64, err error) {
	*it = chunksIterator{chunks: chunks, mint: mint, maxt: maxt, i: -1, err: err, done: err != nil}
}

// nextChunk decodes the next chunk with samples in [mint, maxt] and
// narrows pos and end to them.
func (it *chunksIterator) nextChunk() bool {
	for {
		it.i++
		if it.i >= len(it.chunks) || it.chunks[it.i].minT > it.maxt {
			it.finish()
			return false
		}
		c := &it.chunks[it.i]
		if c.maxT < it.mint {
			continue
		}
		if it.col == nil {
			it.col = columnPool.Get().(*columns)
		}
		if err := it.col.decode(c); err != nil {
			it.err = err
			it.finish()
			return false
		}
		ts := it.col.ts
		lo, hi := 0, len(ts)
		if c.minT < it.mint {
			lo, _ = slices.BinarySearch(ts, it.mint)
		}
		if c.maxT > it.maxt {
			hi, _ = slices.BinarySearch(ts, it.maxt+1)
		}
		if lo >= hi {
			continue
		}
		it.pos, it.end = lo-1, hi
		return true
	}
}

// finish ends iteration and returns the column buffers to their pool.
func (it *chunksIterator) finish() {
	it.done, it.valid = true, false
	if it.col != nil {
		columnPool.Put(it.col)
		it.col = nil
	}
}

func (it *chunksIterator) Next() bool {
	if it.done {
		return false
	}
	if it.started && it.pos+1 < it.end {
		it.pos++
		it.valid = true
		return true
	}
	it.started = true
	if !it.nextChunk() {
		return false
	}
	it.pos++
	it.valid = true
	return true
}

// batch returns the rest of the current chunk's samples in range, or the
// next chunk's, and moves past them; ok is false at the end.
func (it *chunksIterator) batch() (ts []int64, vs []float64, ok bool) {
	if it.done {
		return nil, nil, false
	}
	if !it.started || it.pos+1 >= it.end {
		it.started = true
		if !it.nextChunk() {
			return nil, nil, false
		}
	}
	lo := it.pos + 1
	it.pos = it.end - 1
	it.valid = false
	return it.col.ts[lo:it.end], it.col.vs[lo:it.end], true
}

func (it *chunksIterator) SeekTime(t int64) bool {
	if it.done {
		return false
	}
	if t < it.mint {
		t = it.mint
	}
	if it.valid && it.col.ts[it.pos] >= t {
		return true
	}
	if !it.started {
		it.started = true
		if !it.nextChunk() {
			return false
		}
	}
	for it.pos+1 >= it.end || it.col.ts[it.end-1] < t {
		if !it.nextChunk() {
			return false
		}
	}
	from := it.pos + 1
	j, _ := slices.BinarySearch(it.col.ts[from:it.end], t)
	it.pos = from + j
	it.valid = true
	return true
}

func (it *chunksIterator) At() (int64, float64) { return it.col.ts[it.pos], it.col.vs[it.pos] }

func (it *chunksIterator) Err() error { return it.err }

// columns holds one decoded chunk.
type columns struct {
	ts      []int64
	vs      []float64
	scratch []int64
	bits    chunk.Decoder
	agg     [4][]float64 // rollup aggregates (Consolidate)
}

var columnPool = sync.Pool{New: func() any { return new(columns) }}

// decode decodes a chunk: a bit stream, or timestamp and value records.
func (c *columns) decode(cd *chunkData) error {
	if cd.ts == nil {
		var err error
		c.ts, c.vs, err = c.bits.DecodeAll(cd.data, c.ts[:0], c.vs[:0])
		return err
	}
	n, err := c.decodeTimes(cd.ts)
	if err == nil {
		c.vs, err = c.decodeValues(cd.vals, n, c.vs)
	}
	return err
}

// decodeTimes decodes a timestamp record into c.ts and returns its length.
func (c *columns) decodeTimes(rec []byte) (int, error) {
	n, k := binary.Uvarint(rec)
	if k <= 0 || n == 0 || n > chunkMax {
		return 0, fmt.Errorf("%w: timestamp record of %d samples", ErrCorruptBlock, n)
	}
	var err error
	if c.ts, _, err = column.DecodeInts(rec[k:], int(n), c.ts); err != nil {
		return 0, fmt.Errorf("%w: timestamps: %w", ErrCorruptBlock, err)
	}
	return int(n), nil
}

// decodeValues decodes a value record of n samples into dst.
func (c *columns) decodeValues(rec []byte, n int, dst []float64) ([]float64, error) {
	m, k := binary.Uvarint(rec)
	if k <= 0 || m != uint64(n) {
		return dst, fmt.Errorf("%w: value record of %d samples for %d timestamps", ErrCorruptBlock, m, n)
	}
	dst, _, err := column.DecodeFloats(rec[k:], n, dst, &c.scratch)
	if err != nil {
		return dst, fmt.Errorf("%w: values: %w", ErrCorruptBlock, err)
	}
	return dst, nil
}

// sliceIterator walks in-memory samples limited to [mint, maxt].
type sliceIterator struct {
	s          []sample
	i          int
	mint, maxt int64
}

func newSliceIterator(s []sample, mint, maxt int64) *sliceIterator {
	return &sliceIterator{s: s, i: -1, mint: mint, maxt: maxt}
}

func (it *sliceIterator) Next() bool {
	for it.i+1 < len(it.s) {
		it.i++
		t := it.s[it.i].t
		if t > it.maxt {
			it.i = len(it.s)
			return false
		}
		if t >= it.mint {
			return true
		}
	}
	it.i = len(it.s)
	return false
}

func (it *sliceIterator) SeekTime(t int64) bool {
	if it.i >= 0 && it.i < len(it.s) && it.s[it.i].t >= t {
		return true
	}
	for it.Next() {
		if it.s[it.i].t >= t {
			return true
		}
	}
	return false
}

func (it *sliceIterator) At() (int64, float64) { return it.s[it.i].t, it.s[it.i].v }
func (it *sliceIterator) Err() error           { return nil }

// mergeIterator merges iterators by timestamp. When several have a sample
// at the same timestamp the first iterator's value wins: sources are
// ordered by time, then by when they were written, so the first-written
// value wins, as it does in the head.
type mergeIterator struct {
	// combine, when set, folds the values of a tie instead of keeping
	// the first: rollup windows of overlapping blocks, which hold
	// different samples (backfill drops repeats), are added.
	combine func(a, b float64) float64
	its     []Iterator
	ok      []bool // its[i] has a current sample
	init    bool
	done    bool
	t       int64
	v       float64
	err     error
}

func newMergeIterator(its []Iterator) Iterator {
	if len(its) == 1 {
		return its[0]
	}
	return &mergeIterator{its: its, ok: make([]bool, len(its))}
}

// newCombineIterator merges iterators of one rollup aggregate by window,
// folding the windows several hold: sums and counts add, minimums and
// maximums combine, and the last value is the first-written block's.
func newCombineIterator(its []Iterator, kind byte) Iterator {
	if len(its) == 1 {
		return its[0]
	}
	m := &mergeIterator{its: its, ok: make([]bool, len(its))}
	switch kind {
	case kindSum, kindCount:
		m.combine = func(a, b float64) float64 { return a + b }
	case kindMin:
		m.combine = math.Min
	case kindMax:
		m.combine = math.Max
	}
	return m
}

func (m *mergeIterator) start(seek bool, t int64) {
	m.init = true
	for i, it := range m.its {
		if seek {
			m.ok[i] = it.SeekTime(t)
		} else {
			m.ok[i] = it.Next()
		}
	}
}

// pick sets the current sample to the smallest timestamp and advances every
// iterator positioned on it.
func (m *mergeIterator) pick() bool {
	best := int64(math.MaxInt64)
	found := false
	for i, it := range m.its {
		if !m.ok[i] {
			if err := it.Err(); err != nil && m.err == nil {
				m.err = err
			}
			continue
		}
		t, _ := it.At()
		if t <= best {
			best, found = t, true
		}
	}
	if !found || m.err != nil {
		m.done = true
		return false
	}
	first := true
	for i, it := range m.its {
		if m.ok[i] {
			if t, v := it.At(); t == best {
				if first {
					m.t, m.v, first = t, v, false
				} else if m.combine != nil {
					m.v = m.combine(m.v, v)
				}
				m.ok[i] = it.Next()
			}
		}
	}
	return true
}

func (m *mergeIterator) Next() bool {
	if m.done {
		return false
	}
	if !m.init {
		m.start(false, 0)
	}
	return m.pick()
}

func (m *mergeIterator) SeekTime(t int64) bool {
	if m.done {
		return false
	}
	if m.init && m.t >= t {
		return true
	}
	if !m.init {
		m.start(true, t)
		return m.pick()
	}
	for i, it := range m.its {
		if m.ok[i] {
			m.ok[i] = it.SeekTime(t)
		}
	}
	return m.pick()
}

func (m *mergeIterator) At() (int64, float64) { return m.t, m.v }
func (m *mergeIterator) Err() error           { return m.err }

// chainIterator reads iterators whose time ranges follow one another,
// each to its end before the next.
type chainIterator struct {
	its []Iterator
	i   int
	err error
}

func (c *chainIterator) Next() bool {
	for c.i < len(c.its) {
		it := c.its[c.i]
		if it.Next() {
			return true
		}
		if c.stop(it) {
			return false
		}
	}
	return false
}

func (c *chainIterator) SeekTime(t int64) bool {
	for c.i < len(c.its) {
		it := c.its[c.i]
		if it.SeekTime(t) {
			return true
		}
		if c.stop(it) {
			return false
		}
	}
	return false
}

// stop moves past an exhausted iterator and reports whether it failed.
func (c *chainIterator) stop(it Iterator) bool {
	if err := it.Err(); err != nil {
		c.err, c.i = err, len(c.its)
		return true
	}
	c.i++
	return false
}

func (c *chainIterator) At() (int64, float64) { return c.its[c.i].At() }
func (c *chainIterator) Err() error           { return c.err }

// emptyIterator has no samples.
type emptyIterator struct{ err error }

func (e emptyIterator) Next() bool           { return false }
func (e emptyIterator) SeekTime(int64) bool  { return false }
func (e emptyIterator) At() (int64, float64) { return 0, 0 }
func (e emptyIterator) Err() error           { return e.err }
