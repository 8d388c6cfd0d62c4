package atlas

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Attach makes the tier observe db, fills it from db's raw samples for its
// window and marks it ready. Samples stored while it warms up are kept
// aside per series and folded in once the series has been read, leaving
// out those the read already saw (the store holds one sample per
// timestamp), so that nothing is counted twice or missed. Call Run
// afterwards to keep the window moving; Detach stops the observation.
//
// A reader of the store misses the samples that the store moves from its
// head to a new block while it reads; if that happens, Attach empties the
// tier and warms it up again, after the cut, up to ten times.
func (t *Tier) Attach(ctx context.Context, db *tsdb.DB) error {
	db.SetObserver(t)
	for attempt := 1; ; attempt++ {
		cuts := db.HeadCuts()
		for ; cuts%2 == 1; cuts = db.HeadCuts() { // a cut is under way
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err := t.warm(ctx, db); err != nil {
			return fmt.Errorf("atlas memory tier: warm up from the store: %w", err)
		}
		if db.HeadCuts() == cuts {
			t.ready.Store(true)
			return nil
		}
		if attempt == 10 {
			return fmt.Errorf("atlas memory tier: the store cut its head during each of %d warm-ups", attempt)
		}
		t.reset()
	}
}

// reset forgets every series, for another warm-up. Samples stored before
// it returns are in the store for the next warm-up to read; later ones
// find their series gone and register a new one, which waits for it.
func (t *Tier) reset() {
	t.mu.Lock()
	old := t.all
	t.byKey, t.byName, t.all = map[string]*tierSeries{}, map[string][]*tierSeries{}, nil
	t.unsorted, t.warmDone = map[string]bool{}, false
	t.mu.Unlock()
	for _, s := range old {
		s.mu.Lock()
		s.gone = true
		s.mu.Unlock()
	}
}

// Detach stops db from feeding the tier.
func (t *Tier) Detach(db *tsdb.DB) {
	db.SetObserver(nil)
	t.ready.Store(false)
}

func (t *Tier) warm(ctx context.Context, db *tsdb.DB) error {
	q, err := db.Querier(t.Start(), math.MaxInt64)
	if err != nil {
		return err
	}
	defer q.Close()
	set := q.Select(nil)
	var ts []int64
	var vs []float64
	for i := 0; set.Next(); i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		series := set.At()
		ts, vs = ts[:0], vs[:0]
		it := series.Iterator()
		for it.Next() {
			t, v := it.At()
			ts = append(ts, t)
			vs = append(vs, v)
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("read %s: %w", series.Labels(), err)
		}
		s := t.register(series.Labels())
		s.mu.Lock()
		if !s.warm {
			fh := t.floorHour.Load()
			for j, x := range ts {
				s.add(x, vs[j], fh)
			}
			s.foldLate(ts, fh)
		}
		s.mu.Unlock()
	}
	if err := set.Err(); err != nil {
		return err
	}
	// Series that appeared during the warm-up hold all their samples
	// aside.
	t.mu.Lock()
	t.warmDone = true
	list := slices.Clone(t.all)
	t.mu.Unlock()
	fh := t.floorHour.Load()
	for _, s := range list {
		s.mu.Lock()
		if !s.warm {
			s.foldLate(nil, fh)
		}
		s.mu.Unlock()
	}
	return nil
}

// foldLate adds the samples kept aside whose timestamps are not in seen
// (sorted) and marks the series warm; the caller holds s.mu.
func (s *tierSeries) foldLate(seen []int64, fh int64) {
	for _, l := range s.late {
		if _, dup := slices.BinarySearch(seen, l.t); !dup {
			s.add(l.t, l.v, fh)
		}
	}
	s.late, s.warm = nil, true
}

// Run moves the window every interval (dropping hours that left it and
// series left empty) and reads backfilled ranges again from db, until ctx
// ends.
func (t *Tier) Run(ctx context.Context, db *tsdb.DB, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.Sweep()
		case <-t.wake:
		}
		if t.Ready() {
			t.rereadBackfill(ctx, db)
		}
	}
}

// Sweep moves the window's start to the clock, drops the hours before it
// and forgets series left without data.
func (t *Tier) Sweep() {
	fh := t.advance()
	t.mu.RLock()
	list := slices.Clone(t.all)
	t.mu.RUnlock()
	dead := 0
	for _, s := range list {
		s.mu.Lock()
		if s.evict(fh) {
			s.gone = true
			dead++
		}
		s.mu.Unlock()
	}
	if dead == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	live := func(s *tierSeries) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.gone
	}
	t.all = slices.DeleteFunc(t.all, func(s *tierSeries) bool { return !live(s) })
	for n, l := range t.byName {
		if l = slices.DeleteFunc(l, func(s *tierSeries) bool { return !live(s) }); len(l) == 0 {
			delete(t.byName, n)
		} else {
			t.byName[n] = l
		}
	}
	for k, s := range t.byKey {
		if !live(s) {
			delete(t.byKey, k)
		}
	}
}

// rereadBackfill replaces the minutes of backfilled ranges with what the
// store now holds there.
func (t *Tier) rereadBackfill(ctx context.Context, db *tsdb.DB) {
	t.backMu.Lock()
	todo := t.back
	t.back = nil
	t.backMu.Unlock()
	for _, r := range todo {
		if ctx.Err() != nil {
			return
		}
		_ = t.reread(db, r) // a series gone from the store keeps what the tier had
	}
}

// reread replaces the minutes of r with the store's samples there. The
// range lies before the store's head, so no sample arrives there through
// ObserveSample meanwhile.
func (t *Tier) reread(db *tsdb.DB, r backfillRange) error {
	fh := t.floorHour.Load()
	mint := max(floorDiv(r.mint, minuteMs)*minuteMs, fh*blockMinutes*minuteMs)
	maxt := floorDiv(r.maxt, minuteMs)*minuteMs + minuteMs - 1
	if maxt < mint {
		return nil
	}
	ms := make([]*tsdb.Matcher, 0, len(r.ls))
	for _, l := range r.ls {
		m, err := tsdb.NewMatcher(tsdb.MatchEqual, l.Name, l.Value)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	q, err := db.Querier(mint, maxt)
	if err != nil {
		return err
	}
	defer q.Close()
	set := q.Select(nil, ms...)
	var ts []int64
	var vs []float64
	for set.Next() {
		if !tsdb.Labels.Equal(set.At().Labels(), r.ls) {
			continue
		}
		it := set.At().Iterator()
		for it.Next() {
			t, v := it.At()
			ts = append(ts, t)
			vs = append(vs, v)
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	if err := set.Err(); err != nil {
		return err
	}
	s := t.register(r.ls)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear(mint, maxt)
	for i, x := range ts {
		s.add(x, vs[i], fh)
	}
	return nil
}

// clear empties the minutes of [mint, maxt]; the caller holds s.mu.
func (s *tierSeries) clear(mint, maxt int64) {
	n := int64(len(s.blocks))
	for m := mint / minuteMs; m <= maxt/minuteMs; m++ {
		hour := floorDiv(m, blockMinutes)
		b := &s.blocks[hour%n]
		if b.sums == nil || b.hour != hour {
			continue
		}
		j := m - hour*blockMinutes
		b.sums[j] = math.NaN()
		if b.counts != nil {
			b.counts[j] = 0
		}
	}
	for i := range s.blocks {
		if b := &s.blocks[i]; b.sums != nil {
			b.first, b.last = -1, -1
			for j := range b.sums {
				if _, c := b.at(j); c > 0 {
					if b.first < 0 {
						b.first = int8(j)
					}
					b.last = int8(j)
				}
			}
		}
	}
}

// TierStats describe a tier's size.
type TierStats struct {
	Series int   // series held
	Blocks int   // hour blocks held
	Counts int   // blocks with a count array
	Bytes  int64 // estimated memory of blocks, series and tags
}

// Stats counts the tier's series and blocks and estimates their memory.
func (t *Tier) Stats() TierStats {
	t.mu.RLock()
	list := slices.Clone(t.all)
	t.mu.RUnlock()
	var st TierStats
	st.Series = len(list)
	for _, s := range list {
		s.mu.Lock()
		st.Bytes += 200 + int64(len(s.blocks))*32 // struct, map headers, ring
		for k, v := range s.tags {
			st.Bytes += int64(len(k)+len(v)) + 48
		}
		for _, b := range s.blocks {
			if b.sums != nil {
				st.Blocks++
				st.Bytes += 480
				if b.counts != nil {
					st.Counts++
					st.Bytes += 128
				}
			}
		}
		s.mu.Unlock()
	}
	return st
}
