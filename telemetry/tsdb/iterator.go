package tsdb

import (
	"math"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/chunk"
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

// chunkData is an encoded chunk with its time bounds.
type chunkData struct {
	minT, maxT int64
	data       []byte
}

// chunksIterator decodes a list of time-ordered chunks, limited to [mint, maxt].
type chunksIterator struct {
	chunks     []chunkData
	mint, maxt int64
	i          int
	cur        chunk.Iterator
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

func (it *chunksIterator) nextChunk() bool {
	for {
		it.i++
		if it.i >= len(it.chunks) || it.chunks[it.i].minT > it.maxt {
			it.done = true
			return false
		}
		if it.chunks[it.i].maxT >= it.mint {
			it.cur.Reset(it.chunks[it.i].data)
			return true
		}
	}
}

func (it *chunksIterator) Next() bool {
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
		for it.cur.Next() {
			t := it.cur.AtT()
			if t > it.maxt {
				it.done = true
				return false
			}
			if t >= it.mint {
				return true
			}
		}
		if err := it.cur.Err(); err != nil {
			it.err, it.done = err, true
			return false
		}
		if !it.nextChunk() {
			return false
		}
	}
}

func (it *chunksIterator) SeekTime(t int64) bool {
	if it.done {
		return false
	}
	if t < it.mint {
		t = it.mint
	}
	if it.started && it.i < len(it.chunks) && it.cur.AtT() >= t && it.cur.AtT() >= it.mint {
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
	for it.Next() {
		if it.cur.AtT() >= t {
			return true
		}
	}
	return false
}

func (it *chunksIterator) At() (int64, float64) { return it.cur.At() }
func (it *chunksIterator) Err() error           { return it.err }

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
// at the same timestamp the last iterator's value wins (sources are ordered
// oldest first, so newer data wins).
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
	for i, it := range m.its {
		if m.ok[i] {
			if t, v := it.At(); t == best {
				m.t, m.v = t, v
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

// emptyIterator has no samples.
type emptyIterator struct{ err error }

func (e emptyIterator) Next() bool           { return false }
func (e emptyIterator) SeekTime(int64) bool  { return false }
func (e emptyIterator) At() (int64, float64) { return 0, 0 }
func (e emptyIterator) Err() error           { return e.err }
