package tsdb

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
)

// SeriesRef identifies a series in the head. Appenders return it so that
// callers can skip hashing labels on the next sample of the same series. A
// ref may become unknown (after the series went idle and was dropped from
// memory); Append then falls back to the labels.
type SeriesRef uint64

// Appender batches samples and writes them with Commit. An Appender is not
// safe for concurrent use and must not be used after Commit or Rollback;
// take a new one from DB.Appender for each batch. For series already in the
// head, Append does not allocate.
type Appender struct {
	db        *DB
	hasher    maphash.Hash
	scratch   Labels
	pending   []pendingSample
	mint      int64
	maxt      int64
	maxFuture int64 // samples after this are ErrTooNew
	walEnc    walEncoder
	seek      seekCursor // where the last duplicate check decoded
	samples   [][]byte   // the batch's samples records
	recs      [][]byte
	series    []*memSeries
	created   []*memSeries // series this batch created, dropped if it fails
}

type pendingSample struct {
	s        *memSeries
	t        int64
	v        float64
	backfill bool // before the head: reserved in the backfill buffer
}

// Appender returns an appender for one batch.
func (db *DB) Appender() *Appender {
	a := db.appenders.Get().(*Appender)
	a.db = db
	a.mint, a.maxt = math.MaxInt64, math.MinInt64
	a.maxFuture = math.MaxInt64
	if fw := db.opts.FutureWindow; fw > 0 {
		a.maxFuture = db.opts.Now().Add(fw).UnixMilli() // once per batch, off the hot path
	}
	return a
}

func newAppender() any {
	a := &Appender{}
	a.hasher.SetSeed(hashSeed)
	return a
}

// Append adds a sample with timestamp t (milliseconds since the epoch) to
// the series identified by ref, or by labels if ref is 0 or unknown. Labels
// need not be sorted; ls is not retained or modified. On error the sample
// is not added and the appender remains usable; errors match ErrInvalidSeries,
// ErrCardinalityLimit, ErrTooOld, ErrTooNew, ErrOutOfOrder, ErrDuplicateSample,
// ErrReadOnly or ErrClosed. A sample identical to one stored (same
// timestamp, same value bits) is accepted and ignored.
func (a *Appender) Append(ref SeriesRef, ls Labels, t int64, v float64) (SeriesRef, error) {
	db := a.db
	if db.opts.ReadOnly {
		return 0, ErrReadOnly
	}
	if db.closed.Load() {
		return 0, ErrClosed
	}
	h := db.head
	back := false
	if minValid := h.minValid.Load(); t < minValid {
		if !h.backfillable(t, minValid) {
			return 0, fmt.Errorf("%w: sample at %d for %s is more than %v before the head (%d)", ErrTooOld, t, describe(ls), db.opts.BackfillWindow, minValid)
		}
		back = true
	}
	if t > a.maxFuture {
		return 0, fmt.Errorf("%w: sample at %d for %s is more than %v ahead of the clock", ErrTooNew, t, describe(ls), db.opts.FutureWindow)
	}
	var s *memSeries
	if n := len(a.pending); n > 0 && ref != 0 && SeriesRef(a.pending[n-1].s.ref) == ref {
		s = a.pending[n-1].s // the next sample of the same series: no lookup
	} else if ref != 0 && ref <= math.MaxUint32 {
		s = h.getByRef(uint32(ref))
	}
	for attempt := 0; ; attempt++ {
		if s == nil || s.deleted.Load() {
			var err error
			if s, err = a.lookup(ls); err != nil {
				return 0, err
			}
		}
		s.mu.Lock()
		if s.deleted.Load() && attempt < 3 {
			s.mu.Unlock()
			s = nil
			continue
		}
		break
	}
	var err error
	if back {
		err = h.backfill.reserve(1) // duplicates are resolved when written
	} else {
		err = s.checkWith(t, v, h.oooWindow, &a.seek)
	}
	if err == nil {
		s.pending++
	}
	s.mu.Unlock()
	switch {
	// check returns errDuplicateSame itself, never wrapped; a
	// comparison keeps a function call off the per-sample path.
	case err == errDuplicateSame: //nolint:errorlint // see above
		return SeriesRef(s.ref), nil
	case err != nil:
		return 0, fmt.Errorf("%w: sample at %d for %s", err, t, s.labels())
	}
	a.pending = append(a.pending, pendingSample{s, t, v, back})
	if !back {
		a.mint = min(a.mint, t)
		a.maxt = max(a.maxt, t)
	}
	return SeriesRef(s.ref), nil
}

// NewSeries is how many series the batch has created so far (they are
// dropped again if it is rolled back).
func (a *Appender) NewSeries() int { return len(a.created) }

// lookup finds or creates the series for ls.
func (a *Appender) lookup(ls Labels) (*memSeries, error) {
	if !ls.sorted() {
		a.scratch = append(a.scratch[:0], ls...)
		slices.SortFunc(a.scratch, func(x, y Label) int { return strings.Compare(x.Name, y.Name) })
		ls = a.scratch
	}
	s, created, err := a.db.head.getOrCreate(hashLabels(&a.hasher, ls), ls, 0)
	if created {
		a.created = append(a.created, s)
	}
	return s, err
}

// Commit writes the batch to the WAL, then to the head (samples before the
// head to the backfill buffer, written out at the next compaction). When
// Commit returns nil every sample is durable under the configured
// SyncPolicy. On error (ErrStorageFull when the disk is full; ErrTooOld
// when backfill is off and the head was cut past one of the samples since
// Append accepted it) none of the batch is stored.
func (a *Appender) Commit() error {
	defer a.release()
	if len(a.pending) == 0 {
		return nil
	}
	db := a.db
	// Encoded and compressed before taking any lock, so that concurrent
	// batches compress in parallel.
	a.samples = a.walEnc.sampleRecords(a.pending)
	db.commitMu.RLock()
	defer db.commitMu.RUnlock()
	// The head may have been cut since Append checked: without backfill,
	// all or nothing.
	if a.mint < db.head.minValid.Load() && db.head.backWindow <= 0 {
		a.unpend()
		db.head.dropIfEmpty(a.created)
		return fmt.Errorf("%w: batch has a sample at %d, before the head (%d) since it was cut; retry without it",
			ErrTooOld, a.mint, db.head.minValid.Load())
	}
	if err := db.logSamples(a); err != nil {
		a.unpend()
		db.head.dropIfEmpty(a.created)
		return err
	}
	h := db.head
	var dropped, backfilled int64
	minValid := h.minValid.Load()
	var obs Observer
	if box := db.observer.Load(); box != nil {
		obs = box.o
	}
	for _, p := range a.pending {
		p.s.mu.Lock()
		switch {
		case p.backfill || p.t < minValid: // the head was cut past it since Append
			h.backfill.add(p.s, p.t, p.v, p.backfill)
			backfilled++
		case p.s.append(p.t, p.v, h.oooWindow, h.blockRange) != nil:
			dropped++ // a concurrent batch wrote this timestamp first
		case obs != nil:
			obs.ObserveSample(&p.s.obs, p.s, p.t, p.v)
		}
		p.s.pending--
		p.s.mu.Unlock()
	}
	if a.maxt >= minValid {
		h.updateTimes(max(a.mint, minValid), a.maxt)
	}
	h.samples.Add(int64(len(a.pending)) - dropped - backfilled)
	if dropped > 0 {
		db.droppedAtCommit.Add(dropped)
	}
	return nil
}

// logSamples writes a record of the series the batch needs, then its
// samples record, in one write.
func (db *DB) logSamples(a *Appender) error {
	db.walMu.Lock()
	defer db.walMu.Unlock()
	if db.wal == nil {
		return ErrClosed
	}
	a.recs = a.recs[:0]
	a.series = a.series[:0]
	for _, p := range a.pending {
		if !p.s.logged {
			p.s.logged = true // undone below on failure
			a.series = append(a.series, p.s)
		}
	}
	if len(a.series) > 0 {
		a.recs = append(a.recs, a.walEnc.seriesRecords(a.series)...)
	}
	a.recs = append(a.recs, a.samples...)
	if err := db.wal.Log(a.recs...); err != nil {
		for _, s := range a.series {
			s.logged = false
		}
		return fmt.Errorf("write %d samples to the WAL: %w", len(a.pending), storageErr(err))
	}
	return nil
}

// Rollback discards the batch, and the series it created that hold no
// samples.
func (a *Appender) Rollback() {
	a.unpend()
	a.db.head.dropIfEmpty(a.created)
	a.release()
}

func (a *Appender) unpend() {
	back := 0
	for _, p := range a.pending {
		p.s.mu.Lock()
		p.s.pending--
		p.s.mu.Unlock()
		if p.backfill {
			back++
		}
	}
	if back > 0 {
		a.db.head.backfill.unreserve(back)
	}
}

func (a *Appender) release() {
	// Pooled appenders keep their buffers, unless one huge batch grew them.
	a.pending = reuse(a.pending)
	a.series = reuse(a.series)
	a.created = reuse(a.created)
	a.walEnc.release()
	a.seek = seekCursor{} // holds a series and its chunk
	db := a.db
	a.db = nil
	db.appenders.Put(a)
}

// reuse empties s for the next batch, dropping it if it is over 16,384
// entries.
func reuse[T any](s []T) []T {
	if cap(s) > 1<<14 {
		return nil
	}
	clear(s)
	return s[:0]
}

// describe names a label set for an error message.
func describe(ls Labels) string {
	if m := ls.Metric(); m != "" {
		return fmt.Sprintf("metric %q", m)
	}
	return "series without a metric name"
}
