package tsdb

// Observer is told about the samples the store makes visible, as it makes
// them visible: the hook that keeps a derived view current without reading
// the store back (Atlas's in-memory tier, package telemetry/atlas).
type Observer interface {
	// ObserveSample is called for every sample stored in the head — in
	// order or out of order, never for a rejected or ignored duplicate —
	// while the series' lock is held, so calls for one series come in the
	// order the head applied them. state is the observer's slot in the
	// series (nil at first), kept while the series stays in the head;
	// series gives its labels, unpacked (an allocation) only when asked.
	// It must be quick and must not call into the DB.
	ObserveSample(state *any, series LabelSource, t int64, v float64)
	// ObserveBackfill is called after samples of series ls older than the
	// head, between mint and maxt inclusive, were written to blocks and
	// became visible to queries. It is called from the compaction and may
	// read the DB, but not compact it.
	ObserveBackfill(ls Labels, mint, maxt int64)
}

// LabelSource gives a series' labels on demand: the head keeps them
// packed, and unpacking them allocates.
type LabelSource interface {
	// LabelSet returns the labels; the caller may keep them.
	LabelSet() Labels
}

// LabelSet implements LabelSource: ls itself.
func (ls Labels) LabelSet() Labels { return ls }

// LabelSet implements LabelSource for the Observer.
func (s *memSeries) LabelSet() Labels { return s.labels() }

// observerBox lets an interface live in an atomic.Pointer.
type observerBox struct{ o Observer }

// SetObserver makes o see every sample stored from now on; nil removes the
// observer. Commits being applied when it is called finish first, so a
// sample is seen either in full by o or not at all.
func (db *DB) SetObserver(o Observer) {
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	if o == nil {
		db.observer.Store(nil)
		return
	}
	db.observer.Store(&observerBox{o})
}

// HeadCuts counts the moves of samples from the head to blocks, twice
// each: it is odd while one is under way. A reader that walked the head
// can tell whether a cut raced with it, which would hide samples from it,
// by reading it before and after.
func (db *DB) HeadCuts() int64 { return db.headCuts.Load() }
