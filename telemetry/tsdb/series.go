package tsdb

import (
	"errors"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/chunk"
)

// errDuplicateSame reports a sample identical to one stored; it is dropped
// without error.
var errDuplicateSame = errors.New("identical duplicate sample")

// memSeries is one series in the head: closed chunks, the chunk being
// appended to, and out-of-order samples kept sorted and uncompressed.
//
// It is laid out to fit the allocator's 160-byte size class: a head holds
// one per active series, so each word is a noticeable share of its memory
// (TestMemSeriesSize). The last in-order sample is the open chunk's last:
// the chunk is empty only before the first sample, for an instant while
// append cuts it, and after truncate dropped every sample of the series
// (when later samples are at or after the head's minValid, past it).
type memSeries struct {
	mu      sync.Mutex
	ref     uint32
	pending int32 // samples accepted by appenders, not yet committed
	lsetPtr *byte // the packed labels (packed_labels.go): lsetLen bytes from here

	obs     any // the Observer's state for the series
	enc     chunk.Encoder
	encMinT int64
	chunks  []chunkData // closed chunks, immutable, time-ordered
	ooo     *[]sample   // out-of-order samples, sorted by time; nil when none

	lsetLen uint16
	logged  bool        // series record in the WAL; guarded by DB.walMu
	deleted atomic.Bool // removed from the head; appenders must look it up again
}

// newMemSeries returns an empty series with the labels packLabels
// packed.
func newMemSeries(ref uint32, packed []byte) *memSeries {
	s := &memSeries{ref: ref, lsetLen: uint16(len(packed))}
	if len(packed) > 0 {
		s.lsetPtr = &packed[0]
	}
	s.enc.Reset(nil)
	return s
}

// oooSamples returns the out-of-order samples; the caller holds s.mu.
func (s *memSeries) oooSamples() []sample {
	if s.ooo == nil {
		return nil
	}
	return *s.ooo
}

// setOOO replaces the out-of-order samples; the caller holds s.mu.
func (s *memSeries) setOOO(ooo []sample) {
	switch {
	case len(ooo) == 0:
		s.ooo = nil
	case s.ooo == nil:
		s.ooo = &ooo
	default:
		*s.ooo = ooo
	}
}

// check tells whether a sample may be appended, without changing anything.
// It returns errDuplicateSame for a sample already stored.
func (s *memSeries) check(t int64, v float64, oooWindow int64) error {
	return s.checkWith(t, v, oooWindow, nil)
}

// checkWith is check that looks up stored samples through cur (nil: a
// fresh decoder each time).
func (s *memSeries) checkWith(t int64, v float64, oooWindow int64, cur *seekCursor) error {
	if s.enc.Len() == 0 {
		return nil
	}
	lastT := s.enc.LastT()
	if t > lastT {
		return nil
	}
	if t == lastT {
		if math.Float64bits(v) == s.enc.LastValueBits() {
			return errDuplicateSame
		}
		return ErrDuplicateSample
	}
	if lastT-t > oooWindow {
		return ErrOutOfOrder
	}
	if old, ok := s.valueAt(t, cur); ok {
		if math.Float64bits(old) == math.Float64bits(v) {
			return errDuplicateSame
		}
		return ErrDuplicateSample
	}
	return nil
}

// append stores a sample after check has accepted it; it re-checks, as
// another appender may have committed since.
func (s *memSeries) append(t int64, v float64, oooWindow, blockRange int64) error {
	if err := s.check(t, v, oooWindow); err != nil {
		return err
	}
	if s.enc.Len() > 0 && t < s.enc.LastT() {
		ooo := s.oooSamples()
		i := sort.Search(len(ooo), func(i int) bool { return ooo[i].t >= t })
		ooo = append(ooo, sample{})
		copy(ooo[i+1:], ooo[i:])
		ooo[i] = sample{t, v}
		s.setOOO(ooo)
		return nil
	}
	if n := s.enc.Len(); n > 0 && (n >= chunk.MaxSamples || floorDiv(t, blockRange) != floorDiv(s.encMinT, blockRange)) {
		s.cut()
	}
	if s.enc.Len() == 0 {
		s.encMinT = t
	}
	s.enc.Append(t, v)
	return nil
}

// cut closes the open chunk.
func (s *memSeries) cut() {
	b := s.enc.Bytes()
	s.chunks = append(s.chunks, chunkData{minT: s.encMinT, maxT: s.enc.LastT(), data: append([]byte(nil), b...)})
	s.enc.Reset(b[:0])
}

// seekCursor keeps an Appender's place in the chunk it last decoded to
// check a sample, so that the samples of a retried batch, in time order,
// decode each chunk once rather than from its start for every sample.
type seekCursor struct {
	s    *memSeries
	minT int64 // with open, names the chunk
	open bool  // the series' open chunk, whose buffer a cut reuses
	last int64 // the time sought last; the iterator only moves forward
	it   chunk.Iterator
}

// find looks t up in chunk b of s (the open chunk if open, first
// timestamp minT), continuing from the cursor's place when it is in that
// chunk before t.
func (cur *seekCursor) find(s *memSeries, minT int64, open bool, b []byte, t int64) (float64, bool) {
	fresh := cur.s != s || cur.minT != minT || cur.open != open || cur.last >= t
	if fresh {
		*cur = seekCursor{s: s, minT: minT, open: open}
		cur.it.Reset(b)
	}
	cur.last = t
	found := cur.it.SeekTime(t)
	if !found && open && !fresh {
		// Samples appended to the open chunk since the cursor started
		// are past its end: decode the chunk as it is now.
		cur.it.Reset(b)
		found = cur.it.SeekTime(t)
	}
	if found {
		if ts, v := cur.it.At(); ts == t {
			return v, true
		}
	}
	return 0, false
}

// valueAt finds the in-order sample at t by decoding the chunk holding it,
// through cur if it is not nil; the caller holds s.mu.
func (s *memSeries) valueAt(t int64, cur *seekCursor) (float64, bool) {
	ooo := s.oooSamples()
	i := sort.Search(len(ooo), func(i int) bool { return ooo[i].t >= t })
	if i < len(ooo) && ooo[i].t == t {
		return ooo[i].v, true
	}
	if cur == nil {
		cur = &seekCursor{}
	}
	for _, c := range s.chunks {
		if c.minT <= t && t <= c.maxT {
			return cur.find(s, c.minT, false, c.data, t)
		}
	}
	if s.enc.Len() > 0 && s.encMinT <= t {
		return cur.find(s, s.encMinT, true, s.enc.Bytes(), t)
	}
	return 0, false
}

// snapshot copies what a reader needs for [mint, maxt]: closed chunks are
// shared (immutable), the open chunk and out-of-order samples are copied.
func (s *memSeries) snapshot(mint, maxt int64) ([]chunkData, []sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs []chunkData
	for _, c := range s.chunks {
		if c.maxT >= mint && c.minT <= maxt {
			cs = append(cs, c)
		}
	}
	if n := s.enc.Len(); n > 0 && s.encMinT <= maxt && s.enc.LastT() >= mint {
		cs = append(cs, chunkData{minT: s.encMinT, maxT: s.enc.LastT(), data: append([]byte(nil), s.enc.Bytes()...)})
	}
	var ooo []sample
	for _, o := range s.oooSamples() {
		if o.t >= mint && o.t <= maxt {
			ooo = append(ooo, o)
		}
	}
	return cs, ooo
}

// iterator returns the series' samples in [mint, maxt].
func (s *memSeries) iterator(mint, maxt int64) Iterator {
	cs, ooo := s.snapshot(mint, maxt)
	it := newChunksIterator(cs, mint, maxt, nil)
	if len(ooo) == 0 {
		return it
	}
	return newMergeIterator([]Iterator{it, newSliceIterator(ooo, mint, maxt)})
}

// truncate drops data before mint. It reports whether the series is now
// empty and unused, so that the head may delete it.
func (s *memSeries) truncate(mint int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := 0
	for i < len(s.chunks) && s.chunks[i].maxT < mint {
		i++
	}
	if i > 0 {
		s.chunks = append([]chunkData(nil), s.chunks[i:]...)
	}
	if s.enc.Len() > 0 && s.enc.LastT() < mint {
		s.enc.Reset(nil)
	}
	ooo := s.oooSamples()
	j := 0
	for j < len(ooo) && ooo[j].t < mint {
		j++
	}
	if j > 0 {
		s.setOOO(append([]sample(nil), ooo[j:]...))
	}
	empty := s.empty()
	if empty {
		s.deleted.Store(true)
	}
	return empty
}

// empty reports whether the series holds no sample and none is pending;
// the caller holds s.mu.
func (s *memSeries) empty() bool {
	return len(s.chunks) == 0 && s.enc.Len() == 0 && s.ooo == nil && s.pending == 0
}

// bytes estimates the series' memory for chunk data.
func (s *memSeries) chunkBytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.enc.Size() + len(s.oooSamples())*16
	for _, c := range s.chunks {
		n += len(c.data)
	}
	return n
}

// floorDiv divides rounding towards negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
