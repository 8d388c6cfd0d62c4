package tsdb

import (
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

// TestFailedBatchLeavesNoSeries checks that series created by a batch that
// is rolled back or fails to commit leave the head: they take no place
// under the cardinality limits and do not show in label listings.
func TestFailedBatchLeavesNoSeries(t *testing.T) {
	full := false
	o := testOptions(nil)
	o.MaxSeriesPerMetric = 2
	o.walOpenFile = func(name string) (wal.File, error) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644)
		return fullDisk{f, &full}, err
	}
	dir := t.TempDir()
	db := openTest(t, dir, o)
	defer func() { db.Close() }()
	m := func(i int) Labels { return FromStrings(MetricName, "m", "i", fmt.Sprint(i)) }
	noSeries := func(when string) {
		t.Helper()
		if n := db.head.numSeries(); n != 0 {
			t.Fatalf("%s: %d series in the head", when, n)
		}
		q, _ := db.Querier(math.MinInt64, math.MaxInt64)
		defer q.Close()
		vals, _ := q.LabelValues("i")
		names, _ := q.LabelNames(MustMatcher(MatchEqual, MetricName, "m"))
		if len(vals) != 0 || len(names) != 0 {
			t.Fatalf("%s: label values %v, names %v", when, vals, names)
		}
	}

	// A batch refused for an invalid series (the caller rolls back).
	a := db.Appender()
	if _, err := a.Append(0, m(1), 1000, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Append(0, FromStrings(MetricName, "m", "bad key", "x"), 1000, 1); !errors.Is(err, ErrInvalidSeries) {
		t.Fatalf("invalid series: %v", err)
	}
	a.Rollback()
	noSeries("after a rolled-back batch")

	// A batch refused at the per-metric limit.
	a = db.Appender()
	for i := range 2 {
		if _, err := a.Append(0, m(i), 1000, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Append(0, m(2), 1000, 1); !errors.Is(err, ErrCardinalityLimit) {
		t.Fatalf("limit: %v", err)
	}
	a.Rollback()
	noSeries("after a batch over the limit")

	// A batch that fails on a full disk.
	full = true
	a = db.Appender()
	for i := range 2 {
		if _, err := a.Append(0, m(i), 1000, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(); !errors.Is(err, ErrStorageFull) {
		t.Fatalf("commit on a full disk: %v", err)
	}
	noSeries("after a failed commit")
	full = false

	// The limit is free again: two other series fit, and survive a restart.
	a = db.Appender()
	for i := 5; i < 7; i++ {
		if _, err := a.Append(0, m(i), 1000, float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openTest(t, dir, testOptions(nil))
	got := query(t, db, math.MinInt64, math.MaxInt64, nil)
	if len(got) != 2 || db.head.numSeries() != 2 {
		t.Fatalf("after reopening: %d series (%d in the head): %v", len(got), db.head.numSeries(), got)
	}
}

// TestFailWrites drives the public full-disk hook: commits fail with
// ErrStorageFull and compaction keeps the head while it is on, and both
// work again once it is off.
func TestFailWrites(t *testing.T) {
	var full bool
	o := testOptions(nil)
	o.FailWrites = func() bool { return full }
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	ls := FromStrings(MetricName, "m")
	appendOne(t, db, ls, 1000, 1)
	full = true
	a := db.Appender()
	a.Append(0, ls, 2000, 2)
	a.Append(0, FromStrings(MetricName, "new"), 2000, 2)
	if err := a.Commit(); !errors.Is(err, ErrStorageFull) {
		t.Fatalf("commit: %v", err)
	}
	if err := db.FlushHead(); !errors.Is(err, ErrStorageFull) {
		t.Fatalf("flush: %v", err)
	}
	full = false
	appendOne(t, db, ls, 2000, 2)
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	got := query(t, db, math.MinInt64, math.MaxInt64, nil)
	if len(got) != 1 || !sameSamples(got[ls.String()], []sample{{1000, 1}, {2000, 2}}) {
		t.Fatalf("after the disk came back: %v", got)
	}
}
