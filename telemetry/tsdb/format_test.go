package tsdb

import (
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// v1Want is what testdata/v1 holds: a 3 h raw block (and its 1 m rollup)
// written by the version-1 block writer.
func v1Want() map[string][]sample {
	want := map[string][]sample{}
	for i := 0; i < 3*360; i++ {
		ts := int64(i) * 10_000
		want[`c_total{job="a"}`] = append(want[`c_total{job="a"}`], sample{ts, float64(i * 3)})
		v := float64(i%17) * 0.25
		if i%100 == 99 {
			v = staleNaN
		}
		want[`g{job="a"}`] = append(want[`g{job="a"}`], sample{ts, v})
		want[`r{job="b"}`] = append(want[`r{job="b"}`], sample{ts + int64(i%7), math.Sin(float64(i))})
	}
	return want
}

// copyDir copies testdata into a temporary store directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadsV1Blocks opens blocks of the first format, reads them bit for
// bit, and compacts them with a new block into the current format.
func TestReadsV1Blocks(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "testdata/v1", dir)
	o := testOptions(nil)
	o.BlockDuration = 3 * 3_600_000 * 1e6
	db := openTest(t, dir, o)
	defer db.Close()
	want := v1Want()
	checkAll(t, db, want)
	// Rollups of the v1 block answer Consolidate too.
	n := 0
	err := db.Consolidate(0, 3*hourMs-1, 60_000, []*Matcher{MustMatcher(MatchEqual, MetricName, "c_total")}, func(_ Labels, steps []StepAggregate) error {
		for _, s := range steps {
			n += int(s.Count)
		}
		return nil
	})
	if err != nil || n != 3*360 {
		t.Fatalf("consolidate over v1 rollups: %d samples, %v", n, err)
	}
	// The next 6 h land in v2 blocks; compaction merges all into v2.
	ls := FromStrings(MetricName, "c_total", "job", "a")
	for i := 3 * 360; i < 9*360; i++ {
		appendOne(t, db, ls, int64(i)*10_000, float64(i*3))
		want[ls.String()] = append(want[ls.String()], sample{int64(i) * 10_000, float64(i * 3)})
	}
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, db, want)
	st, _ := db.Stats(0)
	for _, b := range st.Blocks {
		if b.Version != blockVersion {
			t.Errorf("block %s [%d, %d) res %d is version %d after compaction", b.ID, b.MinTime, b.MaxTime, b.Resolution, b.Version)
		}
	}
}

// TestBlockBitExact writes awkward values through a block and reads them
// back bit for bit.
func TestBlockBitExact(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, testOptions(nil))
	r := rand.New(rand.NewPCG(9, 9))
	specials := []float64{staleNaN, math.NaN(), math.Float64frombits(0xfff0000000000003), math.Inf(1), math.Inf(-1),
		math.Copysign(0, -1), 0, 5e-324, math.MaxFloat64, -math.MaxFloat64, 9007199254740993, 0.1, 1.0 / 3}
	gens := map[string]func(i int) float64{
		"counter":  func(i int) float64 { return float64(i * 7) },
		"decimal":  func(i int) float64 { return float64(r.IntN(10000)) / 100 },
		"rate60":   func(i int) float64 { return float64(r.IntN(10000)) / 60 },
		"random":   func(i int) float64 { return r.NormFloat64() },
		"bits":     func(i int) float64 { return math.Float64frombits(r.Uint64()) },
		"specials": func(i int) float64 { return specials[i%len(specials)] },
		"mixed": func(i int) float64 {
			if i%9 == 0 {
				return specials[r.IntN(len(specials))]
			}
			return float64(i) * 0.5
		},
	}
	want := map[string][]sample{}
	a := db.Appender()
	for name, g := range gens {
		for _, jitter := range []int64{0, 25} {
			ls := FromStrings(MetricName, name, "jitter", fmt.Sprint(jitter))
			for i := 0; i < 2*360+17; i++ {
				ts := int64(i)*10_000 + r.Int64N(jitter+1)
				v := g(i)
				if _, err := a.Append(0, ls, ts, v); err != nil {
					t.Fatal(err)
				}
				want[ls.String()] = append(want[ls.String()], sample{ts, v})
			}
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.FlushHead(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, db, want)
	db.Close()
	db = openTest(t, dir, testOptions(nil))
	defer db.Close()
	checkAll(t, db, want)
	// Seeks land on the right samples inside column chunks.
	q, _ := db.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	set := q.Select(nil, MustMatcher(MatchEqual, MetricName, "counter"))
	for set.Next() {
		it := set.At().Iterator()
		for _, seek := range []int64{-5, 0, 1, 9_999, 10_000, 1_234_567, 3_000_000, 3_600_000, 7_200_000} {
			if !it.SeekTime(seek) {
				break
			}
			if ts, _ := it.At(); ts < seek {
				t.Fatalf("SeekTime(%d) stopped at %d", seek, ts)
			}
		}
	}
}
