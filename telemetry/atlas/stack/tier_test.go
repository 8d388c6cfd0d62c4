package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

func openTierStore(t testing.TB) *tsdb.DB {
	t.Helper()
	return openTierStoreIn(t, filepath.Join(t.TempDir(), "tsdb"))
}

func openTierStoreIn(t testing.TB, dir string) *tsdb.DB {
	t.Helper()
	return openTierStoreAt(t, dir, nil)
}

// openTierStoreAt opens a store whose clock is now (the wall clock if nil).
func openTierStoreAt(t testing.TB, dir string, now func() time.Time) *tsdb.DB {
	t.Helper()
	o := tsdb.DefaultOptions()
	o.Now = now
	o.CompactInterval = -1
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := tsdb.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type testSample struct {
	ls tsdb.Labels
	t  int64
	v  float64
}

// tierWorkload is five hours up to now of series that exercise the
// normalisation: one sample a minute with gaps, NaN, stale markers and
// -0; 10-second samples; irregular timestamps arriving out of order;
// a series that appears and disappears; one of NaN only; repeated and
// conflicting duplicates.
func tierWorkload(now time.Time, seed uint64) []testSample {
	rnd := rand.New(rand.NewPCG(seed, 1))
	from := now.Add(-5 * time.Hour).Truncate(time.Minute).UnixMilli()
	to := now.UnixMilli()
	var out []testSample
	ls := func(name, node string) tsdb.Labels {
		return tsdb.FromStrings(tsdb.MetricName, name, "node", node, "app", "web")
	}
	stale := math.Float64frombits(0x7ff0000000000002)
	for t := from; t <= to; t += minuteMs {
		for i := 0; i < 5; i++ {
			if rnd.IntN(10) == 0 {
				continue // a gap
			}
			v := float64(rnd.IntN(1000)) / 10
			switch rnd.IntN(50) {
			case 0:
				v = math.NaN()
			case 1:
				v = stale
			case 2:
				v = math.Copysign(0, -1)
			}
			out = append(out, testSample{ls("sps", fmt.Sprintf("i-%d", i)), t, v})
		}
		for s := int64(0); s < minuteMs; s += 10_000 {
			if rnd.IntN(4) > 0 && t+s <= to {
				out = append(out, testSample{ls("lat", "a"), t + s, rnd.Float64() * 3})
			}
		}
		for k := rnd.IntN(4); k > 0; k-- {
			out = append(out, testSample{ls("odd", "x"), t + rnd.Int64N(minuteMs), rnd.NormFloat64()})
		}
		if t >= from+2*3_600_000 && t < from+3*3_600_000 {
			out = append(out, testSample{ls("burst", "b"), t + 30_000, 1e300})
		}
		out = append(out, testSample{ls("nan", "n"), t, math.NaN()})
	}
	// Out of order within a few minutes, and duplicates.
	for i := range out {
		if j := i + rnd.IntN(30); j < len(out) && rnd.IntN(5) == 0 {
			out[i], out[j] = out[j], out[i]
		}
	}
	for i := 0; i < len(out); i += 97 {
		d := out[i]
		if rnd.IntN(2) == 0 {
			d.v++ // refused by the store
		}
		out = append(out, d)
	}
	return out
}

// ingest appends samples in batches, ignoring the refusals the workload
// provokes.
func ingest(t testing.TB, db *tsdb.DB, samples []testSample) {
	t.Helper()
	a := db.Appender()
	for i, s := range samples {
		if _, err := a.Append(0, s.ls, s.t, s.v); err != nil &&
			!errors.Is(err, tsdb.ErrDuplicateSample) && !errors.Is(err, tsdb.ErrOutOfOrder) && !errors.Is(err, tsdb.ErrTooOld) {
			t.Fatal(err)
		}
		if i%500 == 499 {
			if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
			a = db.Appender()
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
}

// fetchAll reads every series of src.
func fetchAll(t testing.TB, src Source, q Query, start, end, step int64) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	err := src.Fetch(context.Background(), q, start, end, step, func(tags map[string]string, vs []float64) error {
		out[toLabel(tags)] = slices.Clone(vs)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tierSame compares exactly (NaN equal to NaN), or within a relative
// 1e-12 when tol is set: a step of several minutes adds the store's
// samples one by one but the tier's minute sums, which may round
// differently in the last bit when a minute holds several samples.
func tierSame(a, b []float64, tol bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		switch {
		case math.IsNaN(x) || math.IsNaN(y):
			if math.IsNaN(x) != math.IsNaN(y) {
				return false
			}
		case math.Float64bits(x) == math.Float64bits(y):
		case tol && math.Abs(x-y) <= 1e-12*math.Max(math.Abs(x), math.Abs(y)):
		default:
			return false
		}
	}
	return true
}

// compareWithStore checks that tier and TSDBSource give the same series
// and values for ranges over the whole workload at several steps.
func compareWithStore(t *testing.T, tier *Tier, db *tsdb.DB, now time.Time) {
	t.Helper()
	ctx := context.Background()
	store := TSDBSource{DB: db}
	queries := []Query{True{}, Equal{"name", "sps"}, Or{Equal{"name", "lat"}, Equal{"name", "odd"}}, In{"name", []string{"burst", "nan"}}}
	tier.AdmitRequested(ctx, db) // series that joined at ingest
	for _, q := range queries {
		if err := tier.Admit(ctx, db, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, stepMin := range []int64{1, 2, 5, 10, 60} {
		step := stepMin * minuteMs
		first := (tier.Start() + step - 1) / step * step
		ranges := [][2]int64{
			{first, (now.UnixMilli()/step + 1) * step},
			{first + 7*step, min(first+50*step, (now.UnixMilli()/step+1)*step)},
			{max(first, (now.UnixMilli()/step-20)*step), (now.UnixMilli()/step + 1) * step},
		}
		for _, r := range ranges {
			if r[1] <= r[0] {
				continue
			}
			if !tier.Covers(r[0], r[1], step) {
				t.Fatalf("tier does not cover [%d, %d) at %dm", r[0], r[1], stepMin)
			}
			for _, q := range queries {
				want := fetchAll(t, store, q, r[0], r[1], step)
				got := fetchAll(t, tier, q, r[0], r[1], step)
				if len(want) != len(got) {
					t.Errorf("%v at %dm over [%d, %d): tier has %d series, store %d", q, stepMin, r[0], r[1], len(got), len(want))
				}
				for k, w := range want {
					// Minutes of several samples that arrived out of order
					// are summed in arrival order, the store's in time order.
					multi := strings.Contains(k, "name=lat") || strings.Contains(k, "name=odd")
					if g, ok := got[k]; !ok || !tierSame(w, g, multi) {
						t.Errorf("%v at %dm, series %s:\n tier  %v\n store %v", q, stepMin, k, g, w)
					}
				}
			}
		}
	}
	// Through the evaluator, where the order of series matters to :sum.
	for _, expr := range []string{"name,sps,:eq,:sum", "name,lat,:eq,:max", ":true,(,node,),:by", "name,odd,:eq,:count"} {
		for _, step := range []time.Duration{time.Minute, 5 * time.Minute} {
			req := Request{Query: expr, Start: now.Add(-4 * time.Hour), End: now, Step: step}
			want, err := (&Evaluator{Source: store}).Evaluate(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			tiered := &Evaluator{Source: TieredSource{Tier: tier, Store: store}}
			if _, err := tiered.Evaluate(ctx, req); err != nil { // admits the expression's queries
				t.Fatal(err)
			}
			tier.AdmitRequested(ctx, db)
			before := tier.Stats()
			got, err := tiered.Evaluate(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if after := tier.Stats(); after.FromStore != before.FromStore || after.FromTier == before.FromTier {
				t.Fatalf("%s at %v: %d fetches from the store, %d from the tier, want all from the tier", expr, step,
					after.FromStore-before.FromStore, after.FromTier-before.FromTier)
			}
			for i, e := range want.Exprs {
				for j, l := range e.Lines {
					g := got.Exprs[i].Lines[j]
					exact := strings.Contains(expr, "sps") || strings.Contains(expr, ":count")
					if g.Label != l.Label || !tierSame(l.Values, g.Values, !exact) {
						t.Errorf("%s at %v, line %s: tier %v, store %v", expr, step, l.Label, g.Values, l.Values)
					}
				}
			}
		}
	}
}

// TestTierMatchesStore feeds a tier partly by warm-up and partly at
// ingest, with part of the data compacted into blocks and rollups, and a
// backfilled series; every answer must be the store's.
func TestTierMatchesStore(t *testing.T) {
	tierMatchesStore(t, time.Date(2026, 12, 7, 5, 57, 0, 0, time.UTC))
}

func tierMatchesStore(t *testing.T, now time.Time) {
	clock := func() time.Time { return now }
	db := openTierStoreAt(t, filepath.Join(t.TempDir(), "tsdb"), clock)
	w := tierWorkload(now, 1)
	slices.SortStableFunc(w, func(a, b testSample) int { return int(a.t/minuteMs - b.t/minuteMs) })
	half := len(w) / 2
	ingest(t, db, w[:half])

	tier := NewTier(6*time.Hour, clock)
	ctx := context.Background()
	tier.Attach(db)
	defer tier.Detach(db)
	if err := tier.Admit(ctx, db, True{}); err != nil {
		t.Fatal(err)
	}
	ingest(t, db, w[half:])
	if err := db.Compact(); err != nil { // cuts the oldest hours into blocks
		t.Fatal(err)
	}
	// Backfill before the head: a new series, and a repeat of a stored
	// sample (which the store drops).
	// The new series' two samples lie in one block range whatever the
	// time of day, so that it is one backfilled range.
	late2 := now.Add(-4*time.Hour - 20*time.Minute).Truncate(time.Minute).UnixMilli()
	late1 := late2 - 10*minuteMs
	if block := tsdb.DefaultOptions().BlockDuration.Milliseconds(); late1/block != late2/block {
		late2 = late2/block*block - minuteMs
		late1 = late2 - 10*minuteMs
	}
	back := []testSample{
		{tsdb.FromStrings(tsdb.MetricName, "sps", "node", "late", "app", "web"), late1, 42},
		{tsdb.FromStrings(tsdb.MetricName, "sps", "node", "late", "app", "web"), late2, 43},
		w[0],
	}
	ingest(t, db, back)
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	// The repeat of w[0] is dropped where the store holds it already
	// (head or block), so only the new series is a backfilled range.
	if len(tier.back) != 1 {
		t.Fatalf("%d backfilled ranges observed, want 1", len(tier.back))
	}
	tier.rereadBackfill(ctx, db)
	compareWithStore(t, tier, db, now)

	t.Run("warm-up only", func(t *testing.T) {
		fresh := NewTier(6*time.Hour, clock)
		fresh.Attach(db)
		defer fresh.Detach(db)
		compareWithStore(t, fresh, db, now)
	})
}

// TestTierWarmUpUnderIngest attaches a tier while writers append, in and
// out of order: samples arriving during the warm-up are neither lost nor
// counted twice.
func TestTierWarmUpUnderIngest(t *testing.T) {
	db := openTierStore(t)
	now := time.Now()
	w := tierWorkload(now, 2)
	slices.SortStableFunc(w, func(a, b testSample) int { return int(a.t/minuteMs - b.t/minuteMs) })
	ingest(t, db, w[:len(w)/3])
	rest := w[len(w)/3:]
	tier := NewTier(6*time.Hour, nil)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g * 200; i < len(rest); i += 400 {
				ingest(t, db, rest[i:min(i+200, len(rest))])
			}
		}()
	}
	tier.Attach(db)
	defer tier.Detach(db)
	if err := tier.Admit(context.Background(), db, True{}); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // queries and sweeps while ingest goes on
		defer readers.Done()
		for i := 0; i < 20; i++ {
			tier.Sweep()
			end := (now.UnixMilli()/minuteMs + 1) * minuteMs
			err := tier.Fetch(context.Background(), True{}, end-3*3_600_000, end, minuteMs, func(map[string]string, []float64) error { return nil })
			if err != nil && !errors.Is(err, ErrNotInTier) { // new series may be warming up
				t.Error(err)
			}
		}
	}()
	wg.Wait()
	readers.Wait()
	compareWithStore(t, tier, db, now)
}

// TestTierWindow moves a tier's clock: hours leave the window, series
// without data are forgotten, and ranges before the window go to the
// store.
func TestTierWindow(t *testing.T) {
	db := openTierStore(t)
	clock := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	tier := NewTier(2*time.Hour, func() time.Time { return clock })
	tier.Attach(db)
	defer tier.Detach(db)
	ctx := context.Background()
	if err := tier.Admit(ctx, db, True{}); err != nil { // series join at their first sample
		t.Fatal(err)
	}
	if got, want := tier.Start(), clock.Add(-3*time.Hour+30*time.Minute).UnixMilli(); got != want {
		t.Fatalf("window starts at %d, want %d (10:00)", got, want)
	}
	var stateA, stateB any
	a := tsdb.FromStrings(tsdb.MetricName, "m", "node", "a")
	b := tsdb.FromStrings(tsdb.MetricName, "m", "node", "b")
	for m := clock.Add(-2 * time.Hour); !m.After(clock); m = m.Add(time.Minute) {
		tier.ObserveSample(&stateA, a, m.UnixMilli(), 1)
		if m.Before(clock.Add(-time.Hour)) {
			tier.ObserveSample(&stateB, b, m.UnixMilli(), 2)
		}
	}
	tier.ObserveSample(&stateA, a, clock.Add(-4*time.Hour).UnixMilli(), 5) // before the window: ignored
	tier.AdmitRequested(ctx, db)                                           // warms them up: nothing in the store
	if st := tier.Stats(); st.Series != 2 || st.Blocks != 5 {
		t.Fatalf("stats %+v, want 2 series in 5 blocks", st)
	}
	// Two hours later, b's data has left the window.
	clock = clock.Add(2 * time.Hour)
	tier.Sweep()
	if st := tier.Stats(); st.Series != 1 || st.Blocks != 1 {
		t.Fatalf("after the window moved: stats %+v, want 1 series in 1 block", st)
	}
	start := clock.Add(-2*time.Hour - 30*time.Minute).UnixMilli()
	if !tier.Covers(start, clock.UnixMilli(), minuteMs) || tier.Covers(start-3_600_000, clock.UnixMilli(), minuteMs) {
		t.Fatalf("window start %d: wrong coverage", tier.Start())
	}
	got := fetchAll(t, tier, True{}, start, start+120*minuteMs, minuteMs)
	var vs []float64
	for _, v := range got {
		vs = v
	}
	if len(got) != 1 || vs[0] != 1 || vs[29] != 1 || !math.IsNaN(vs[31]) {
		t.Fatalf("after the window moved: %v", got)
	}
	// A sample for b brings it back.
	tier.ObserveSample(&stateB, b, clock.UnixMilli(), 3)
	if st := tier.Stats(); st.Series != 2 {
		t.Fatalf("b did not come back: %+v", st)
	}
	// Tiered reads fall back to the store before the window and for steps
	// that are not whole minutes.
	src := TieredSource{Tier: tier, Store: TSDBSource{DB: db}}
	if n := len(fetchAll(t, src, True{}, start-3_600_000, start, minuteMs)); n != 0 {
		t.Fatalf("before the window: %d series from the (empty) store", n)
	}
	if tier.Covers(start, start+30_000*10, 30_000) {
		t.Fatal("a 30 s step is not the tier's")
	}
}

// TestTierWarmUpDuringCompaction attaches a tier while the store cuts its
// head into blocks, which hides samples from a reader of the head: the
// tier notices and warms up again.
func TestTierWarmUpDuringCompaction(t *testing.T) {
	db := openTierStore(t)
	now := time.Now()
	ingest(t, db, tierWorkload(now, 3))
	tier := NewTier(6*time.Hour, nil)
	done := make(chan error)
	tier.Attach(db)
	defer tier.Detach(db)
	go func() { done <- db.Compact() }()
	if err := tier.Admit(context.Background(), db, True{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	compareWithStore(t, tier, db, now)
}

// TestTierRewarm empties the admitted series under ingest and reads
// them again, as Admit does when the store cut its head during a read.
func TestTierRewarm(t *testing.T) {
	db := openTierStore(t)
	now := time.Now()
	w := tierWorkload(now, 4)
	slices.SortStableFunc(w, func(a, b testSample) int { return int(a.t/minuteMs - b.t/minuteMs) })
	ingest(t, db, w[:len(w)/2])
	tier := NewTier(6*time.Hour, nil)
	tier.Attach(db)
	defer tier.Detach(db)
	ctx := context.Background()
	if err := tier.Admit(ctx, db, True{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ingest(t, db, w[len(w)/2:])
	}()
	tier.mu.RLock()
	batch := slices.Clone(tier.all)
	tier.mu.RUnlock()
	want := map[string]*tierSeries{}
	for _, s := range batch {
		s.mu.Lock()
		s.unwarm()
		s.mu.Unlock()
		want[s.ls.String()] = s
	}
	if err := tier.settle(db); err != nil {
		t.Fatal(err)
	}
	if err := tier.read(ctx, db, selectors(True{}), want); err != nil {
		t.Fatal(err)
	}
	<-done
	compareWithStore(t, tier, db, now)
}

// TestTierAfterRestart: a tier attached to a reopened store (its head
// rebuilt from the WAL) holds the recent data again.
func TestTierAfterRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tsdb")
	db := openTierStoreIn(t, dir)
	now := time.Now()
	ingest(t, db, tierWorkload(now, 5))
	tier := NewTier(6*time.Hour, nil)
	tier.Attach(db)
	if err := tier.Admit(context.Background(), db, True{}); err != nil {
		t.Fatal(err)
	}
	tier.Detach(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTierStoreIn(t, dir)
	again := NewTier(6*time.Hour, nil)
	if again.Covers(again.Start(), now.UnixMilli(), minuteMs) {
		t.Fatal("a tier covers ranges before it is attached")
	}
	again.Attach(db)
	defer again.Detach(db)
	if err := again.Admit(context.Background(), db, True{}); err != nil {
		t.Fatal(err)
	}
	if a, b := tier.Stats(), again.Stats(); a.Series != b.Series || a.Blocks != b.Blocks || a.Series == 0 {
		t.Fatalf("before the restart %+v, after %+v", a, b)
	}
	compareWithStore(t, again, db, now)
}

// TestTierMatchesStoreAllDay moves the base time across a day and across
// a two-hour block boundary: where the head cut, the blocks and the
// backfilled range fall must not change an answer.
func TestTierMatchesStoreAllDay(t *testing.T) {
	clocktest.Sweep(t, clocktest.DaySweep(), tierMatchesStore)
}
