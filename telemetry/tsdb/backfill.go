package tsdb

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// Backfill: samples older than the head (in time already persisted) are
// accepted up to Options.BackfillWindow before it. They are logged in the
// WAL like any sample, kept in memory, and written as new blocks (with
// their rollups) at the next compaction, where they overlap the blocks
// already there; the compaction planner then merges overlapping blocks.
// Where a backfilled sample meets a stored one at the same timestamp the
// first-written value wins, as in the head.
const (
	// backfillFlushSamples asks the background loop for an early
	// compaction once this many samples wait.
	backfillFlushSamples = 1 << 20
	// backfillMaxSamples refuses further backfill until a compaction has
	// written the waiting samples out (16 bytes each in memory).
	backfillMaxSamples = 16 << 20
)

// backfill holds accepted samples older than the head until compaction
// writes them out.
type backfill struct {
	mu      sync.Mutex
	series  map[*memSeries][]sample // in arrival order
	n       int
	pending int // accepted by appenders, not yet committed or dropped
	flush   chan struct{}
}

func newBackfill() *backfill {
	return &backfill{series: map[*memSeries][]sample{}, flush: make(chan struct{}, 1)}
}

// reserve accounts for n samples an appender has accepted, refusing them
// when the buffer is full.
func (b *backfill) reserve(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n+b.pending+n > backfillMaxSamples {
		return fmt.Errorf("%w: %d backfilled samples wait for compaction; retry later", ErrStorageFull, b.n+b.pending)
	}
	b.pending += n
	return nil
}

// unreserve releases samples reserved by a batch that did not commit.
func (b *backfill) unreserve(n int) {
	b.mu.Lock()
	b.pending -= n
	b.mu.Unlock()
}

// add stores a committed sample; reserved says whether it was reserved.
func (b *backfill) add(s *memSeries, t int64, v float64, reserved bool) {
	b.mu.Lock()
	b.series[s] = append(b.series[s], sample{t, v})
	b.n++
	if reserved {
		b.pending--
	}
	full := b.n >= backfillFlushSamples
	b.mu.Unlock()
	if full {
		select {
		case b.flush <- struct{}{}:
		default:
		}
	}
}

// take returns the waiting samples, each series' sorted by time with
// repeated timestamps dropped (the first-written value wins), and empties
// the buffer.
func (b *backfill) take() map[*memSeries][]sample {
	b.mu.Lock()
	out := b.series
	b.series = map[*memSeries][]sample{}
	b.n = 0
	b.mu.Unlock()
	for s, ss := range out {
		slices.SortStableFunc(ss, func(x, y sample) int { return cmp.Compare(x.t, y.t) })
		out[s] = slices.CompactFunc(ss, func(x, y sample) bool { return x.t == y.t })
	}
	return out
}

// restore puts samples back after a failed write.
func (b *backfill) restore(m map[*memSeries][]sample) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s, ss := range m {
		b.series[s] = append(ss, b.series[s]...)
		b.n += len(ss)
	}
}

// snapshot copies the waiting samples, for a WAL checkpoint.
func (b *backfill) snapshot() map[*memSeries][]sample {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[*memSeries][]sample, len(b.series))
	for s, ss := range b.series {
		out[s] = slices.Clone(ss)
	}
	return out
}

// flushBackfill writes the waiting backfilled samples as level-1 blocks,
// one per block range they fall in, with their rollups.
func (db *DB) flushBackfill() error {
	bf := db.head.backfill
	waiting := bf.take()
	if len(waiting) == 0 {
		return nil
	}
	series := make([]*memSeries, 0, len(waiting))
	for s := range waiting {
		series = append(series, s)
	}
	series, groups := sortByLabels(series)
	mergeSamples(waiting, groups)
	if err := db.dropStored(waiting); err != nil {
		bf.restore(waiting)
		return err
	}
	series = slices.DeleteFunc(series, func(s *memSeries) bool { return len(waiting[s]) == 0 })
	ranges := map[int64]bool{}
	for _, ss := range waiting {
		for _, x := range ss {
			ranges[floorDiv(x.t, db.head.blockRange)] = true
		}
	}
	starts := make([]int64, 0, len(ranges))
	for r := range ranges {
		starts = append(starts, r*db.head.blockRange)
	}
	slices.Sort(starts)
	for i, start := range starts {
		err := db.writeBlocks(start, start+db.head.blockRange, series, func(s *memSeries, mint, maxt int64) Iterator {
			return newSliceIterator(waiting[s], mint, maxt)
		})
		if err != nil {
			// Keep what is not written yet for the next attempt.
			left := map[*memSeries][]sample{}
			for s, ss := range waiting {
				j, _ := slices.BinarySearchFunc(ss, start, func(x sample, t int64) int { return cmp.Compare(x.t, t) })
				if j < len(ss) {
					left[s] = ss[j:]
				}
			}
			bf.restore(left)
			return fmt.Errorf("write %d backfill ranges (%d done): %w", len(starts), i, err)
		}
		db.observeBackfill(start, start+db.head.blockRange, waiting)
	}
	return nil
}

// observeBackfill tells the observer which series got samples in [start,
// end) that are now visible.
func (db *DB) observeBackfill(start, end int64, waiting map[*memSeries][]sample) {
	box := db.observer.Load()
	if box == nil {
		return
	}
	for s, ss := range waiting {
		i, _ := slices.BinarySearchFunc(ss, start, func(x sample, t int64) int { return cmp.Compare(x.t, t) })
		j, _ := slices.BinarySearchFunc(ss, end, func(x sample, t int64) int { return cmp.Compare(x.t, t) })
		if i < j {
			box.o.ObserveBackfill(s.labels(), ss[i].t, ss[j-1].t)
		}
	}
}
