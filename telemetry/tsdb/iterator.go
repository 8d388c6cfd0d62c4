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

// chunksIterator decodes a list of time-ordered chunks, limited to [mint, maxt].
type chunksIterator struct {
	chunks     []chunkData
	mint, maxt int64
	i          int
	cur        chunk.Iterator // the current bit-stream chunk
	col        *columns       // or the current column chunk, decoded
	pos, end   int            // col's current sample and end; end < 0 for bit streams
	valid      bool           // positioned on a sample
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

// nextChunk moves to the next chunk overlapping [mint, maxt]. For a column
// chunk it decodes both columns and narrows pos and end to the range.
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
		if c.ts == nil {
			it.cur.Reset(c.data)
			it.pos, it.end = 0, -1
			return true
		}
		if it.col == nil {
			it.col = columnPool.Get().(*columns)
		}
		if err := it.col.decode(c.ts, c.vals); err != nil {
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
	it.done = true
	if it.col != nil {
		columnPool.Put(it.col)
		it.col = nil
	}
}

func (it *chunksIterator) Next() bool {
	it.valid = it.next()
	return it.valid
}

func (it *chunksIterator) next() bool {
	if it.done {
		return false
	}
	if !it.started {
		it.started = true
		if !it.nextChunk() {
			return false
		}
	}
	for {
		if it.end >= 0 { // column chunk
			if it.pos+1 < it.end {
				it.pos++
				return true
			}
		} else {
			for it.cur.Next() {
				t := it.cur.AtT()
				if t > it.maxt {
					it.finish()
					return false
				}
				if t >= it.mint {
					return true
				}
			}
			if err := it.cur.Err(); err != nil {
				it.err = err
				it.finish()
				return false
			}
		}
		if !it.nextChunk() {
			return false
		}
	}
}

// atT returns the current timestamp.
func (it *chunksIterator) atT() int64 {
	if it.end >= 0 {
		return it.col.ts[it.pos]
	}
	return it.cur.AtT()
}

func (it *chunksIterator) SeekTime(t int64) bool {
	if it.done {
		return false
	}
	if t < it.mint {
		t = it.mint
	}
	if it.valid && it.atT() >= t {
		return true
	}
	if !it.started {
		it.started = true
		if !it.nextChunk() {
			return false
		}
	}
	for it.chunks[it.i].maxT < t {
		if !it.nextChunk() {
			return false
		}
	}
	if it.end >= 0 {
		// Binary search within the decoded chunk.
		from := it.pos + 1
		j, _ := slices.BinarySearch(it.col.ts[from:it.end], t)
		it.pos = from + j - 1
	}
	for it.Next() {
		if it.atT() >= t {
			return true
		}
	}
	return false
}

func (it *chunksIterator) At() (int64, float64) {
	if it.end >= 0 {
		return it.col.ts[it.pos], it.col.vs[it.pos]
	}
	return it.cur.At()
}

func (it *chunksIterator) Err() error { return it.err }

// columns holds one decoded column chunk.
type columns struct {
	ts      []int64
	vs      []float64
	scratch []int64
}

var columnPool = sync.Pool{New: func() any { return new(columns) }}

// decode decodes a chunk's timestamp and value records.
func (c *columns) decode(tsRec, valRec []byte) error {
	n, k := binary.Uvarint(tsRec)
	n2, k2 := binary.Uvarint(valRec)
	if k <= 0 || k2 <= 0 || n != n2 || n == 0 {
		return fmt.Errorf("%w: column records of %d and %d samples", ErrCorruptBlock, n, n2)
	}
	var err error
	if c.ts, _, err = column.DecodeInts(tsRec[k:], int(n), c.ts); err != nil {
		return fmt.Errorf("%w: timestamps: %v", ErrCorruptBlock, err)
	}
	if c.vs, _, err = column.DecodeFloats(valRec[k2:], int(n), c.vs, &c.scratch); err != nil {
		return fmt.Errorf("%w: values: %v", ErrCorruptBlock, err)
	}
	return nil
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
	its  []Iterator
	ok   []bool // its[i] has a current sample
	init bool
	done bool
	t    int64
	v    float64
	err  error
}

func newMergeIterator(its []Iterator) Iterator {
	if len(its) == 1 {
		return its[0]
	}
	return &mergeIterator{its: its, ok: make([]bool, len(its))}
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
