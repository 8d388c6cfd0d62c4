package tsdb

import (
	"math"
	"sync"
	"sync/atomic"
)

// numStripes is the number of lock stripes for the series maps.
const numStripes = 128

// stripe holds a slice of the head's series, by label hash and by ref.
// A hash almost always names one series: byHash holds the first, and
// conflicts the others of a hash shared by several, so that the common
// case costs one pointer a series.
type stripe struct {
	mu        sync.RWMutex
	byHash    map[uint64]*memSeries
	conflicts map[uint64][]*memSeries
	byRef     map[uint32]*memSeries
}

// get returns the series with labels ls and hash hash that is not
// deleted, or nil; the caller holds st.mu.
func (st *stripe) get(hash uint64, ls Labels) *memSeries {
	if s := st.byHash[hash]; s != nil && !s.deleted.Load() && s.labelsEqual(ls) {
		return s
	}
	for _, s := range st.conflicts[hash] {
		if !s.deleted.Load() && s.labelsEqual(ls) {
			return s
		}
	}
	return nil
}

// add files s under hash; the caller holds st.mu for writing.
func (st *stripe) add(hash uint64, s *memSeries) {
	if st.byHash[hash] == nil {
		st.byHash[hash] = s
		return
	}
	st.conflicts[hash] = append(st.conflicts[hash], s)
}

// remove drops s, filed under hash; the caller holds st.mu for writing.
func (st *stripe) remove(hash uint64, s *memSeries) {
	list := st.conflicts[hash]
	if st.byHash[hash] == s {
		if len(list) == 0 {
			delete(st.byHash, hash)
			return
		}
		st.byHash[hash], list = list[0], list[1:]
	} else {
		for i, o := range list {
			if o == s {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
	}
	if len(list) == 0 {
		delete(st.conflicts, hash)
	} else {
		st.conflicts[hash] = list
	}
}

// head is the in-memory, appendable part of the store: recent samples of
// every active series, and their index.
type head struct {
	oooWindow  int64 // ms
	backWindow int64 // ms; Options.BackfillWindow
	blockRange int64 // ms
	maxSeries  int
	maxMetric  int
	validation Validation

	stripes  [numStripes]stripe
	index    *memIndex
	backfill *backfill // samples before minValid, waiting for compaction

	nextRef  atomic.Uint32
	minT     atomic.Int64 // smallest sample time in the head
	maxT     atomic.Int64 // largest sample time in the head
	minValid atomic.Int64 // samples before this are refused (persisted)
	samples  atomic.Int64 // samples appended since open (for stats)
}

func newHead(o *Options) *head {
	h := &head{
		oooWindow:  o.OutOfOrderWindow.Milliseconds(),
		backWindow: o.BackfillWindow.Milliseconds(),
		backfill:   newBackfill(),
		blockRange: o.BlockDuration.Milliseconds(),
		maxSeries:  o.MaxSeries,
		maxMetric:  o.MaxSeriesPerMetric,
		validation: o.Validation,
		index:      newMemIndex(),
	}
	for i := range h.stripes {
		h.stripes[i].byHash = map[uint64]*memSeries{}
		h.stripes[i].conflicts = map[uint64][]*memSeries{}
		h.stripes[i].byRef = map[uint32]*memSeries{}
	}
	h.minT.Store(math.MaxInt64)
	h.maxT.Store(math.MinInt64)
	h.minValid.Store(math.MinInt64)
	return h
}

// getByHash finds a series by its label hash and labels.
func (h *head) getByHash(hash uint64, ls Labels) *memSeries {
	st := &h.stripes[hash%numStripes]
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.get(hash, ls)
}

// getByRef finds a series by ref.
func (h *head) getByRef(ref uint32) *memSeries {
	st := &h.stripes[ref%numStripes]
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.byRef[ref]
}

// getOrCreate finds or creates the series with labels ls (sorted). A new
// series is validated and checked against the cardinality limits. With
// ref != 0 (WAL replay) the series gets that ref and no limit applies.
func (h *head) getOrCreate(hash uint64, ls Labels, ref uint32) (*memSeries, bool, error) {
	if s := h.getByHash(hash, ls); s != nil {
		return s, false, nil
	}
	if ref == 0 {
		if err := h.validation.Validate(ls); err != nil {
			return nil, false, err
		}
	}
	packed, err := packLabels(ls)
	if err != nil {
		return nil, false, &ValidationError{Metric: ls.Metric(), Reason: err.Error()}
	}
	ix := h.index
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if s := h.getByHash(hash, ls); s != nil {
		return s, false, nil
	}
	if ref == 0 {
		metric := ls.Metric()
		if h.maxMetric > 0 && ix.perMetric[metric] >= h.maxMetric {
			return nil, false, &LimitError{Metric: metric, Limit: h.maxMetric, PerMetric: true}
		}
		if h.maxSeries > 0 && ix.series >= h.maxSeries {
			return nil, false, &LimitError{Metric: metric, Limit: h.maxSeries}
		}
		ref = h.nextRef.Add(1)
	} else {
		for {
			cur := h.nextRef.Load()
			if cur >= ref || h.nextRef.CompareAndSwap(cur, ref) {
				break
			}
		}
	}
	s := newMemSeries(ref, packed)
	ix.add(ref, ls)
	hs := &h.stripes[hash%numStripes]
	hs.mu.Lock()
	hs.add(hash, s)
	hs.mu.Unlock()
	rs := &h.stripes[ref%numStripes]
	rs.mu.Lock()
	rs.byRef[ref] = s
	rs.mu.Unlock()
	return s, true, nil
}

// backfillable reports whether a sample at t, before minValid, may be
// backfilled.
func (h *head) backfillable(t, minValid int64) bool {
	return h.backWindow > 0 && t >= minValid-h.backWindow
}

// updateTimes widens the head's time range.
func (h *head) updateTimes(mint, maxt int64) {
	for {
		cur := h.minT.Load()
		if mint >= cur || h.minT.CompareAndSwap(cur, mint) {
			break
		}
	}
	for {
		cur := h.maxT.Load()
		if maxt <= cur || h.maxT.CompareAndSwap(cur, maxt) {
			break
		}
	}
}

// allSeries returns every series in the head, in no order.
func (h *head) allSeries() []*memSeries {
	var out []*memSeries
	for i := range h.stripes {
		st := &h.stripes[i]
		st.mu.RLock()
		for _, s := range st.byRef {
			out = append(out, s)
		}
		st.mu.RUnlock()
	}
	return out
}

// truncate drops samples before mint and deletes series left empty.
func (h *head) truncate(mint int64) {
	h.minValid.Store(mint)
	var dead []*memSeries
	for _, s := range h.allSeries() {
		if s.truncate(mint) {
			dead = append(dead, s)
		}
	}
	ix := h.index
	ix.mu.Lock()
	h.removeLocked(dead)
	empty := ix.series == 0
	ix.mu.Unlock()
	if empty {
		h.minT.Store(math.MaxInt64)
		h.maxT.Store(math.MinInt64)
		return
	}
	for {
		cur := h.minT.Load()
		if cur >= mint || h.minT.CompareAndSwap(cur, mint) {
			break
		}
	}
}

// removeLocked drops series marked deleted from the index and the series
// maps; the caller holds the index lock.
func (h *head) removeLocked(dead []*memSeries) {
	ix := h.index
	hasher := newHasher()
	for _, s := range dead {
		ls := s.labels()
		ix.remove(s.ref, ls)
		hash := hashLabels(hasher, ls)
		hs := &h.stripes[hash%numStripes]
		hs.mu.Lock()
		hs.remove(hash, s)
		hs.mu.Unlock()
		rs := &h.stripes[s.ref%numStripes]
		rs.mu.Lock()
		delete(rs.byRef, s.ref)
		rs.mu.Unlock()
	}
}

// dropIfEmpty removes series that a failed or abandoned batch created and
// that hold no sample and none pending, so that they neither count against
// the cardinality limits nor show in label listings.
func (h *head) dropIfEmpty(created []*memSeries) {
	var dead []*memSeries
	for _, s := range created {
		s.mu.Lock()
		if !s.deleted.Load() && s.empty() {
			s.deleted.Store(true)
			dead = append(dead, s)
		}
		s.mu.Unlock()
	}
	if len(dead) == 0 {
		return
	}
	h.index.mu.Lock()
	h.removeLocked(dead)
	h.index.mu.Unlock()
}

// numSeries returns the number of series in the head.
func (h *head) numSeries() int {
	h.index.mu.RLock()
	defer h.index.mu.RUnlock()
	return h.index.series
}
