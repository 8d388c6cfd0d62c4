package tsdb

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

const hourMs = 3_600_000

// ingest appends n series of a metric with 10 s samples over [from, to),
// jittered, returning what was written.
func ingest(t testing.TB, db *DB, metric string, n int, from, to int64, seed uint64) map[string][]sample {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	want := map[string][]sample{}
	a := db.Appender()
	refs := make([]SeriesRef, n)
	count := 0
	for ts := from; ts < to; ts += 10_000 {
		for i := range n {
			ls := FromStrings(MetricName, metric, "instance", fmt.Sprint(i))
			st := ts + int64(r.IntN(20))
			v := float64(r.IntN(1000)) / 10
			ref, err := a.Append(refs[i], ls, st, v)
			if err != nil {
				t.Fatal(err)
			}
			refs[i] = ref
			want[ls.String()] = append(want[ls.String()], sample{st, v})
			if count++; count%1000 == 0 {
				if err := a.Commit(); err != nil {
					t.Fatal(err)
				}
				a = db.Appender()
			}
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	return want
}

func checkAll(t *testing.T, db *DB, want map[string][]sample) {
	t.Helper()
	got := query(t, db, math.MinInt64, math.MaxInt64, nil)
	if len(got) != len(want) {
		t.Fatalf("got %d series, want %d", len(got), len(want))
	}
	for k, w := range want {
		if !sameSamples(got[k], w) {
			t.Fatalf("%s: got %d samples, want %d (first got %v want %v)", k, len(got[k]), len(w), got[k][:min(3, len(got[k]))], w[:3])
		}
	}
}

func TestCompactionPreservesData(t *testing.T) {
	dir := t.TempDir()
	o := testOptions(nil)
	db := openTest(t, dir, o)
	want := ingest(t, db, "m", 20, 0, 40*hourMs, 1)
	checkAll(t, db, want)
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, db, want)
	st, _ := db.Stats(5)
	maxLevel := 0
	for _, b := range st.Blocks {
		maxLevel = max(maxLevel, b.Level)
	}
	if len(st.Blocks) == 0 || maxLevel < 2 {
		t.Fatalf("expected compacted blocks, got %+v", st.Blocks)
	}
	if st.Series != 20 || st.Samples != int64(20*40*360) {
		t.Fatalf("stats: %d series, %d samples", st.Series, st.Samples)
	}
	db.Close()
	db = openTest(t, dir, o)
	defer db.Close()
	checkAll(t, db, want)
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, db, want)
}

func TestRollupEqualsRawAggregation(t *testing.T) {
	o := testOptions(nil)
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	want := ingest(t, db, "m", 5, 0, 6*hourMs, 2)
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int64{60_000, 300_000, hourMs} {
		err := db.Consolidate(0, 6*hourMs-1, step, []*Matcher{MustMatcher(MatchEqual, MetricName, "m")}, func(ls Labels, steps []StepAggregate) error {
			raw := want[ls.String()]
			for _, st := range steps {
				var sum, count float64
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, s := range raw {
					if s.t >= st.T && s.t < st.T+step {
						sum += s.v
						count++
						lo, hi = math.Min(lo, s.v), math.Max(hi, s.v)
					}
				}
				if count != st.Count || math.Abs(sum-st.Sum) > 1e-9*math.Abs(sum) || (count > 0 && (lo != st.Min || hi != st.Max)) {
					return fmt.Errorf("%s step %d at %d: got %+v, want sum %v count %v min %v max %v", ls, step, st.T, st, sum, count, lo, hi)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Select with a rollup resolution answers per-window aggregates.
	got := query(t, db, 0, 6*hourMs, &SelectHints{MaxResolution: 60_000, Aggregate: AggMax})
	for k, w := range want {
		if len(got[k]) != 6*60 {
			t.Fatalf("%s: %d rollup windows", k, len(got[k]))
		}
		first := got[k][0]
		m := math.Inf(-1)
		for _, s := range w {
			if s.t < 60_000 {
				m = math.Max(m, s.v)
			}
		}
		if first.t != 59_999 || first.v != m {
			t.Fatalf("%s: first window %+v, want max %v at 59999", k, first, m)
		}
	}
}

func TestRetention(t *testing.T) {
	var logs bytes.Buffer
	o := testOptions(&logs)
	o.Retention = 5 * 3_600_000 * 1e6
	o.Rollups = []RollupTier{{Resolution: 60_000 * 1e6, Retention: 20 * 3_600_000 * 1e6}}
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	ingest(t, db, "m", 3, 0, 12*hourMs, 3)
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	st, _ := db.Stats(1)
	for _, b := range st.Blocks {
		if b.Resolution == 0 && b.MaxTime <= 12*hourMs-5*hourMs {
			t.Fatalf("raw block %s [%d, %d) outlived retention", b.ID, b.MinTime, b.MaxTime)
		}
	}
	// Old ranges are still answered, from the rollup tier.
	got := query(t, db, 0, hourMs-1, nil, MustMatcher(MatchEqual, "instance", "0"))
	if s := got[`m{instance="0"}`]; len(s) != 60 || s[0].t != 59_999 {
		t.Fatalf("old range from rollups: %d samples", len(s))
	}
	// Size retention drops the oldest blocks first.
	db.opts.MaxBytes = st.BlockBytes / 2
	if err := db.applyRetention(); err != nil {
		t.Fatal(err)
	}
	st2, _ := db.Stats(1)
	if st2.BlockBytes+st2.WALBytes > db.opts.MaxBytes || len(st2.Blocks) == 0 {
		t.Fatalf("size retention: %d bytes of blocks left, limit %d", st2.BlockBytes, db.opts.MaxBytes)
	}
	if !bytes.Contains(logs.Bytes(), []byte("retention deleted block")) {
		t.Fatal("retention did not log")
	}
}
