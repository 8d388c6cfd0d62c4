package stack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// ErrTierFull is returned by Admit when the query's series would take
// the tier over its MaxSeries; the store answers the query.
var ErrTierFull = errors.New("atlas memory tier: full")

// Attach makes the tier observe db and answer the queries admitted to it.
// It holds nothing until a query is admitted (Request, Admit); call Run
// to admit the requested queries, keep the window moving and drop what
// is not read. Detach stops the observation.
func (t *Tier) Attach(db *tsdb.DB) {
	t.attachMu.Lock()
	defer t.attachMu.Unlock()
	t.db = db
	db.SetObserver(t)
	t.ready.Store(true)
}

// Detach stops db from feeding the tier.
func (t *Tier) Detach(db *tsdb.DB) {
	t.attachMu.Lock()
	defer t.attachMu.Unlock()
	if t.db == db {
		t.db = nil
	}
	db.SetObserver(nil)
	t.ready.Store(false)
}

// settle waits until the commits db is applying have finished, so that
// every sample the tier ignored before it is visible to a reader opened
// after it (the head publishes its time range after observing a batch).
func (t *Tier) settle(db *tsdb.DB) error {
	t.attachMu.Lock()
	defer t.attachMu.Unlock()
	if t.db != db {
		return errors.New("atlas memory tier: not attached to the store")
	}
	db.SetObserver(t) // finishes the commits under way
	return nil
}

// Request asks for q to be admitted; Run admits it in the background.
// A query admitted, waiting or refused lately is left alone.
func (t *Tier) Request(q Query) {
	key := exprString(q)
	now := t.now().UnixMilli()
	t.mu.RLock()
	r := t.queries[key]
	_, waiting := t.requests[key]
	until := t.refusals[key]
	t.mu.RUnlock()
	// An admitted query is not used here: only a fetch that reads all its
	// series is (see Sweep).
	if r != nil || waiting || now < until {
		return
	}
	t.mu.Lock()
	if len(t.requests) < maxRequests {
		t.requests[key] = q
	}
	t.mu.Unlock()
	t.poke()
}

// Admit admits q now. It registers q, so that series appearing from then
// on join the tier with their first sample, then finds the series of db
// matching q that have data in the window or are in the store's head (its
// index, no samples read), registers those the tier does not hold, and
// fills them from db for the window. Samples stored meanwhile are kept
// aside per series and folded in once the series has been read, leaving
// out the timestamps the read saw, so that nothing is counted twice or
// missed. A head cut during the read hides samples from it: the series are
// then emptied and read again, up to ten times. Over MaxSeries, Admit
// admits nothing and returns ErrTierFull.
func (t *Tier) Admit(ctx context.Context, db *tsdb.DB, q Query) error {
	key := exprString(q)
	now := t.now().UnixMilli()
	t.mu.Lock()
	delete(t.requests, key)
	if r := t.queries[key]; r != nil {
		t.mu.Unlock()
		return nil
	}
	t.gen++
	r := &tierQuery{q: q, key: key, gen: t.gen}
	r.used.Store(now)
	t.queries[key] = r
	t.byGen = append(t.byGen, r)
	t.mark.Store(&tierMark{tier: t, gen: t.gen}) // series not held look at q
	t.mu.Unlock()
	fail := func(err error) error {
		t.mu.Lock()
		t.dropQueryLocked(r)
		t.mu.Unlock()
		return fmt.Errorf("atlas memory tier: admit %s: %w", key, err)
	}

	sels := selectors(q)
	qr, err := db.Querier(t.Start(), math.MaxInt64)
	if err != nil {
		return fail(err)
	}
	defer qr.Close()
	type found struct {
		key string
		ls  tsdb.Labels
	}
	var list []found
	seen := map[string]bool{}
	for _, ms := range sels {
		set := qr.Select(nil, ms...)
		for i := 0; set.Next(); i++ {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return fail(err)
				}
			}
			ls := set.At().Labels()
			k := ls.String()
			if seen[k] || !q.Matches(atlasTags(ls)) {
				continue
			}
			seen[k] = true
			list = append(list, found{k, ls})
		}
		if err := set.Err(); err != nil {
			return fail(fmt.Errorf("find its series: %w", err))
		}
	}

	t.mu.Lock()
	fresh := 0
	for _, f := range list {
		if s := t.byKey[f.key]; s == nil || s.gone.Load() {
			fresh++
		}
	}
	held := int(t.nSeries.Load())
	if t.queries[key] != r || held+fresh > t.maxSeries { // a new series of q may have filled the tier
		t.dropQueryLocked(r)
		t.refusals[key] = now + refuseRetry.Milliseconds()
		t.mu.Unlock()
		t.refused.Add(1)
		t.log.Warn("atlas: memory tier full; the query is answered by the store", "query", key,
			"series", fresh, "held", held, "max", t.maxSeries)
		return fmt.Errorf("%w: %s has %d series more, the tier holds %d of at most %d", ErrTierFull, key, fresh, held, t.maxSeries)
	}
	var batch []*tierSeries
	for _, f := range list {
		s := t.byKey[f.key]
		if s == nil || s.gone.Load() {
			batch = append(batch, t.registerLocked(f.ls, false))
			continue
		}
		s.mu.Lock()
		s.readAt = max(s.readAt, now)
		s.mu.Unlock()
	}
	t.mu.Unlock()
	qr.Close()

	// A series of the batch whose sample arrived since q was registered
	// found q and joined; its earlier samples are in the store, and those
	// of commits still under way are once settle returns.
	if err := t.warmSeries(ctx, db, sels, batch); err != nil {
		t.dropUnwarmed(batch)
		return fail(err)
	}
	r.ready.Store(true)
	return nil
}

// dropQueryLocked forgets an admitted query; the caller holds t.mu.
func (t *Tier) dropQueryLocked(r *tierQuery) {
	if t.queries[r.key] == r {
		delete(t.queries, r.key)
	}
	t.byGen = slices.DeleteFunc(t.byGen, func(x *tierQuery) bool { return x == r })
}

// dropUnwarmed drops series whose warm-up failed, and the queries that
// match them, which the store answers until they are admitted again.
func (t *Tier) dropUnwarmed(list []*tierSeries) {
	t.mu.Lock()
	for _, s := range list {
		for _, r := range slices.Clone(t.byGen) {
			if r.q.Matches(s.tags) {
				t.dropQueryLocked(r)
			}
		}
	}
	t.mu.Unlock()
	for _, s := range list {
		s.mu.Lock()
		s.drop()
		s.mu.Unlock()
	}
	t.removeGone()
}

// warmSeries fills the series of batch, registered and not warm, from db
// for the window: those that sels select, each by its own labels if sels
// is nil.
func (t *Tier) warmSeries(ctx context.Context, db *tsdb.DB, sels [][]*tsdb.Matcher, batch []*tierSeries) error {
	if len(batch) == 0 {
		return nil
	}
	defer t.unwarmed.Add(-int64(len(batch)))
	want := make(map[string]*tierSeries, len(batch))
	for _, s := range batch {
		want[s.ls.String()] = s
	}
	if sels == nil {
		for _, s := range batch {
			ms := make([]*tsdb.Matcher, 0, len(s.ls))
			for _, l := range s.ls {
				m, err := tsdb.NewMatcher(tsdb.MatchEqual, l.Name, l.Value)
				if err != nil {
					return err
				}
				ms = append(ms, m)
			}
			sels = append(sels, ms)
		}
	}
	for attempt := 1; ; attempt++ {
		cuts := db.HeadCuts()
		for ; cuts%2 == 1; cuts = db.HeadCuts() { // a cut is under way
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err := t.settle(db); err != nil {
			return err
		}
		if err := t.read(ctx, db, sels, want); err != nil {
			return fmt.Errorf("warm up from the store: %w", err)
		}
		if db.HeadCuts() == cuts {
			return nil
		}
		if attempt == 10 {
			return fmt.Errorf("the store cut its head during each of %d warm-ups", attempt)
		}
		for _, s := range batch {
			s.mu.Lock()
			s.unwarm()
			s.mu.Unlock()
		}
	}
}

// read fills the series of want that sels select from db's raw samples
// for the window and marks them warm.
func (t *Tier) read(ctx context.Context, db *tsdb.DB, sels [][]*tsdb.Matcher, want map[string]*tierSeries) error {
	q, err := db.Querier(t.Start(), math.MaxInt64)
	if err != nil {
		return err
	}
	defer q.Close()
	done := make(map[*tierSeries]bool, len(want))
	var ts []int64
	var vs []float64
	for _, ms := range sels {
		set := q.Select(nil, ms...)
		for i := 0; set.Next(); i++ {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			series := set.At()
			s := want[series.Labels().String()]
			if s == nil || done[s] {
				continue
			}
			done[s] = true
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
	}
	fh := t.floorHour.Load()
	for _, s := range want { // no data in the window yet
		if !done[s] {
			s.mu.Lock()
			if !s.warm {
				s.foldLate(nil, fh)
			}
			s.mu.Unlock()
		}
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

// unwarm empties the series for another warm-up; the caller holds s.mu.
// Samples it held are in the store for the next read; later ones are
// kept aside.
func (s *tierSeries) unwarm() {
	clear(s.blocks)
	s.cur, s.curSums, s.curCounts = nil, nil, nil
	s.warm, s.late = false, nil
}

// drop marks the series dropped and frees its data; the caller holds
// s.mu. The store's slot may keep the series until its next sample.
func (s *tierSeries) drop() {
	if !s.gone.Load() {
		s.gone.Store(true)
		s.tier.nSeries.Add(-1)
	}
	s.blocks, s.late = nil, nil
	s.cur, s.curSums, s.curCounts = nil, nil, nil
}

// Run admits the requested queries and warms the series admitted at
// ingest as they come, and every interval moves the window (dropping
// hours that left it and series left empty) and drops the series and
// queries no fetch read for the idle time; it reads backfilled ranges
// again from db. It returns when ctx ends.
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
			t.AdmitRequested(ctx, db)
			t.rereadBackfill(ctx, db)
		}
	}
}

// AdmitRequested warms the series admitted at ingest and admits the
// queries requested, one at a time, until none is left.
func (t *Tier) AdmitRequested(ctx context.Context, db *tsdb.DB) {
	for ctx.Err() == nil {
		t.mu.Lock()
		pending := t.pending
		t.pending = nil
		var q Query
		for _, x := range t.requests {
			q = x
			break
		}
		t.mu.Unlock()
		if len(pending) > 0 {
			if err := t.warmSeries(ctx, db, nil, pending); err != nil {
				if ctx.Err() == nil {
					t.log.Error("atlas: memory tier: warm up new series; their queries read the store", "series", len(pending), "err", err)
				}
				t.dropUnwarmed(pending)
			}
		}
		if q == nil {
			return
		}
		if err := t.Admit(ctx, db, q); err != nil && !errors.Is(err, ErrTierFull) && ctx.Err() == nil {
			t.log.Error("atlas: memory tier: the query is answered by the store", "err", err)
		}
	}
}

// Sweep moves the window's start to the clock and drops the hours before
// it; it forgets series left without data, and the queries and series
// that no fetch read for the idle time.
func (t *Tier) Sweep() {
	fh := t.advance()
	now := t.now().UnixMilli()
	cutoff := now - t.idle
	t.fetchMu.Lock()
	t.mu.Lock()
	for _, r := range slices.Clone(t.byGen) {
		// A query is used only by a fetch that reads all its series, and
		// a series is admitted no earlier than the queries matching it
		// were last used, so a series' last read is at least its queries'
		// last use: no query kept here has a series dropped below.
		if r.used.Load() < cutoff {
			t.dropQueryLocked(r)
		}
	}
	for k, until := range t.refusals {
		if until <= now {
			delete(t.refusals, k)
		}
	}
	list := slices.Clone(t.all)
	t.mu.Unlock()
	dead := 0
	for _, s := range list {
		s.mu.Lock()
		empty := s.evict(fh)
		if !s.gone.Load() && s.warm && len(s.late) == 0 && (empty || s.readAt < cutoff) {
			s.drop()
			dead++
		}
		s.mu.Unlock()
	}
	t.fetchMu.Unlock()
	if dead > 0 {
		t.removeGone()
	}
}

// removeGone takes the dropped series out of the registry.
func (t *Tier) removeGone() {
	t.mu.Lock()
	defer t.mu.Unlock()
	gone := func(s *tierSeries) bool { return s.gone.Load() }
	t.all = slices.DeleteFunc(t.all, gone)
	for n, l := range t.byName {
		if l = slices.DeleteFunc(l, gone); len(l) == 0 {
			delete(t.byName, n)
		} else {
			t.byName[n] = l
		}
	}
	for k, s := range t.byKey {
		if gone(s) {
			delete(t.byKey, k)
		}
	}
}

// rereadBackfill replaces the minutes of backfilled ranges with what the
// store now holds there. A series the tier does not hold is admitted if
// an admitted query matches it; one still warming up is done later.
func (t *Tier) rereadBackfill(ctx context.Context, db *tsdb.DB) {
	t.backMu.Lock()
	todo := t.back
	t.back = nil
	t.backMu.Unlock()
	var later []backfillRange
	for _, r := range todo {
		if ctx.Err() != nil {
			later = append(later, r)
			continue
		}
		s := t.lookup(r.ls)
		if s == nil {
			var state any
			t.resolve(&state, r.ls, 0) // warmed with the store's data, backfill included
			continue
		}
		s.mu.Lock()
		warm := s.warm
		s.mu.Unlock()
		if !warm {
			later = append(later, r)
			continue
		}
		_ = t.reread(db, s, r) // a series gone from the store keeps what the tier had
	}
	if len(later) > 0 {
		t.backMu.Lock()
		t.back = append(t.back, later...)
		t.backMu.Unlock()
	}
}

// reread replaces the minutes of r with the store's samples there. The
// range lies before the store's head, so no sample arrives there through
// ObserveSample meanwhile.
func (t *Tier) reread(db *tsdb.DB, s *tierSeries, r backfillRange) error {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone.Load() {
		return nil
	}
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

// TierStats describe a tier's size and use.
type TierStats struct {
	Series    int   // series held
	Blocks    int   // hour blocks held
	Counts    int   // blocks with a count array
	Bytes     int64 // estimated memory of blocks, series and tags
	Queries   int   // queries admitted
	FromTier  int64 // fetches answered by the tier (through TieredSource)
	FromStore int64 // fetches in the window answered by the store: not admitted yet, or refused
	Refused   int64 // admissions refused for MaxSeries
}

// Stats counts the tier's series and blocks and estimates their memory.
func (t *Tier) Stats() TierStats {
	t.mu.RLock()
	list := slices.Clone(t.all)
	st := TierStats{Queries: len(t.queries)}
	t.mu.RUnlock()
	st.FromTier, st.FromStore, st.Refused = t.fromTier.Load(), t.fromStore.Load(), t.refused.Load()
	for _, s := range list {
		s.mu.Lock()
		if s.gone.Load() {
			s.mu.Unlock()
			continue
		}
		st.Series++
		st.Bytes += 240 + int64(len(s.blocks))*32 // struct, map headers, registry, ring
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
