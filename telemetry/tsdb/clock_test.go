package tsdb

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
)

// TestStoreAtAnyTimeOfDay runs the life of a store — five hours of
// samples arriving as the clock moves, compaction after every ten
// minutes, then a backfill of an hour of a new series and of samples
// between (and repeating) stored ones — at every base time of
// clocktest.DaySweep. Wherever the head cuts and the 2 h block
// boundaries fall, every sample reads back once, and consolidation at a
// raw step and at both rollup resolutions counts each sample once.
func TestStoreAtAnyTimeOfDay(t *testing.T) {
	clocktest.Sweep(t, clocktest.DaySweep(), storeAtTime)
}

func storeAtTime(t *testing.T, now time.Time) {
	clock := clocktest.NewManual(now.Add(-5 * time.Hour))
	o := DefaultOptions()
	o.CompactInterval = -1
	o.Now = clock.Now
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	db := openTest(t, dir, o)
	defer func() { db.Close() }()

	live, late := FromStrings(MetricName, "live"), FromStrings(MetricName, "late")
	want := map[string][]sample{}
	start := now.Add(-5 * time.Hour).UnixMilli()
	end := now.UnixMilli()
	const step = 30_000
	for batch := start; batch < end; batch += 10 * 60_000 {
		a := db.Appender()
		for ts := batch; ts < min(batch+10*60_000, end); ts += step {
			if _, err := a.Append(0, live, ts, float64(ts/step%97)); err != nil {
				t.Fatalf("append at %d: %v", ts, err)
			}
			want[live.String()] = append(want[live.String()], sample{ts, float64(ts / step % 97)})
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		clock.Set(time.UnixMilli(min(batch+10*60_000, end)))
		if err := db.Compact(); err != nil {
			t.Fatal(err)
		}
	}
	// The backfill: an hour of a new series three to four hours back,
	// and samples between the stored ones of live in the same hour, with
	// repeats of stored timestamps whose stored values must stay.
	a := db.Appender()
	from := now.Add(-4 * time.Hour).UnixMilli()
	for ts := from; ts < from+hourMs; ts += 60_000 {
		if _, err := a.Append(0, late, ts, 2); err != nil {
			t.Fatalf("backfill late at %d: %v", ts, err)
		}
		want[late.String()] = append(want[late.String()], sample{ts, 2})
		mid := ts + step/2
		if _, err := a.Append(0, live, mid, -1); err != nil {
			t.Fatalf("backfill live at %d: %v", mid, err)
		}
		want[live.String()] = append(want[live.String()], sample{mid, -1})
		if stored := start + (ts-start)/step*step; stored >= start {
			a.Append(0, live, stored, 12345) // refused or dropped: the stored value stays
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	for _, ss := range want {
		slices.SortFunc(ss, func(x, y sample) int { return int(x.t - y.t) })
	}
	checkAll(t, db, want)
	checkConsolidated(t, db, "live", want[live.String()], start, end-1)
	checkConsolidated(t, db, "late", want[late.String()], start, end-1)
}
