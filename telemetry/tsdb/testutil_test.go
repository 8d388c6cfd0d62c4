package tsdb

import (
	"bytes"
	"log/slog"
	"math"
	"testing"
)

// testOptions returns options for tests: no background loop, 1h blocks,
// a 1m rollup tier, quiet logs captured in logs.
func testOptions(logs *bytes.Buffer) Options {
	o := DefaultOptions()
	o.CompactInterval = -1
	o.BlockDuration = 3_600_000 * 1e6 // 1h in ns
	o.Rollups = []RollupTier{{Resolution: 60_000 * 1e6, Retention: 0}}
	o.Retention = 0
	if logs == nil {
		logs = new(bytes.Buffer)
	}
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return o
}

func openTest(t testing.TB, dir string, o Options) *DB {
	t.Helper()
	db, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// appendOne appends and commits one sample.
func appendOne(t testing.TB, db *DB, ls Labels, ts int64, v float64) {
	t.Helper()
	a := db.Appender()
	if _, err := a.Append(0, ls, ts, v); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
}

// query returns every series matching ms in [mint, maxt] as a map from the
// labels' string to its samples.
func query(t testing.TB, db *DB, mint, maxt int64, hints *SelectHints, ms ...*Matcher) map[string][]sample {
	t.Helper()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string][]sample{}
	set := q.Select(hints, ms...)
	var prev Labels
	for set.Next() {
		s := set.At()
		if prev != nil && Compare(prev, s.Labels()) >= 0 {
			t.Fatalf("series out of order: %s after %s", s.Labels(), prev)
		}
		prev = s.Labels()
		it := s.Iterator()
		var ss []sample
		for it.Next() {
			ts, v := it.At()
			ss = append(ss, sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		out[s.Labels().String()] = ss
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSamples(a, b []sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].t != b[i].t || math.Float64bits(a[i].v) != math.Float64bits(b[i].v) {
			return false
		}
	}
	return true
}

// testSeries returns an empty head series with labels ls.
func testSeries(ref uint32, ls Labels) *memSeries {
	packed, err := packLabels(ls)
	if err != nil {
		panic(err)
	}
	return newMemSeries(ref, packed)
}
