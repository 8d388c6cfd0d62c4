package tsdb

import (
	"errors"
	"slices"
	"testing"
)

// TestBackfill appends samples into time already persisted: before every
// block, and between the samples of a persisted block (with repeats of
// stored timestamps, where the stored value wins). They survive a restart
// before compaction, and compaction writes them out and merges the
// overlapping blocks.
func TestBackfill(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(nil)
	o.BackfillWindow = 24 * hourMs * 1e6
	db := openTest(t, dir, o)
	defer func() { db.Close() }()
	ls := FromStrings(MetricName, "m")
	old := FromStrings(MetricName, "history")
	want := map[string][]sample{}
	add := func(ls Labels, ts int64, v float64) {
		want[ls.String()] = append(want[ls.String()], sample{ts, v})
	}
	a := db.Appender()
	for ts := int64(10 * hourMs); ts < 14*hourMs; ts += 10_000 {
		a.Append(0, ls, ts, float64(ts/1000))
		add(ls, ts, float64(ts/1000))
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	// Backfill: a new series before every block, and samples between the
	// stored ones of m, with repeats of stored timestamps.
	a = db.Appender()
	for ts := int64(0); ts < 4*hourMs; ts += 60_000 {
		if _, err := a.Append(0, old, ts, float64(ts)/60_000*0.5); err != nil {
			t.Fatal(err)
		}
		add(old, ts, float64(ts)/60_000*0.5)
	}
	for ts := int64(10 * hourMs); ts < 11*hourMs; ts += 10_000 {
		if _, err := a.Append(0, ls, ts+5_000, -1); err != nil {
			t.Fatal(err)
		}
		add(ls, ts+5_000, -1)
		if _, err := a.Append(0, ls, ts, 12345); err != nil { // the stored value stays
			t.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Appender().Append(0, ls, -20*hourMs, 1); !errors.Is(err, ErrTooOld) {
		t.Fatalf("beyond the backfill window: %v", err)
	}
	for _, ss := range want {
		slices.SortFunc(ss, func(x, y sample) int { return int(x.t - y.t) })
	}
	// A restart before compaction replays the backfill from the WAL.
	db.Close()
	db = openTest(t, dir, o)
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, db, want)
	// The rollup of the backfilled history equals its raw aggregation.
	var sum float64
	err := db.Consolidate(0, 4*hourMs-1, hourMs, []*Matcher{MustMatcher(MatchEqual, MetricName, "history")}, func(_ Labels, steps []StepAggregate) error {
		for _, s := range steps {
			sum += s.Sum
		}
		return nil
	})
	if want := 0.5 * 239 * 240 / 2; err != nil || sum != want {
		t.Fatalf("consolidated history: %v, %v; want %v", sum, err, want)
	}
	// Consolidating m — from raw samples at a 30 s step, from the
	// rollups at 1 m and 1 h — counts each stored sample once: the
	// repeats were dropped, and the rollups of the overlapping blocks
	// were merged by adding their windows.
	checkConsolidated(t, db, "m", want[ls.String()], 10*hourMs, 14*hourMs-1)
	// No two raw blocks overlap after compaction.
	st, _ := db.Stats(0)
	var raw []BlockMeta
	for _, b := range st.Blocks {
		if b.Resolution == 0 {
			raw = append(raw, b)
		}
	}
	for i := 1; i < len(raw); i++ {
		if raw[i].MinTime < raw[i-1].MaxTime {
			t.Fatalf("raw blocks overlap after compaction: %+v", raw)
		}
	}
	// And it all survives another restart.
	db.Close()
	db = openTest(t, dir, o)
	checkAll(t, db, want)
}

// checkConsolidated compares Consolidate of metric name over [mint, maxt]
// with the sums and counts of the samples want, at a raw step and at the
// default rollups' resolutions.
func checkConsolidated(t *testing.T, db *DB, name string, want []sample, mint, maxt int64) {
	t.Helper()
	for _, step := range []int64{30_000, 60_000, hourMs} {
		sums, counts := map[int64]float64{}, map[int64]float64{}
		for _, x := range want {
			if x.t >= mint && x.t <= maxt {
				w := floorDiv(x.t, step) * step
				sums[w] += x.v
				counts[w]++
			}
		}
		err := db.Consolidate(mint, maxt, step, []*Matcher{MustMatcher(MatchEqual, MetricName, name)}, func(_ Labels, steps []StepAggregate) error {
			for _, a := range steps {
				if a.Count != counts[a.T] || a.Sum != sums[a.T] {
					t.Errorf("step %d at %d: sum %v count %v, want %v and %v", step, a.T, a.Sum, a.Count, sums[a.T], counts[a.T])
					return nil
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
