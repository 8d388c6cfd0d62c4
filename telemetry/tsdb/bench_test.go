package tsdb

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"
)

func benchOptions() Options {
	o := testOptions(nil)
	o.BlockDuration = 2 * time.Hour
	o.Rollups = []RollupTier{{time.Minute, 0}, {time.Hour, 0}}
	return o
}

// BenchmarkAppend measures head appends of 10k active series in batches of
// 1000 samples, as remote write delivers them: one op is one sample.
func BenchmarkAppend(b *testing.B) {
	for _, byRef := range []bool{true, false} {
		b.Run(fmt.Sprintf("byRef=%v", byRef), func(b *testing.B) {
			db := openTest(b, b.TempDir(), benchOptions())
			defer db.Close()
			const n = 10_000
			series := make([]Labels, n)
			refs := make([]SeriesRef, n)
			for i := range series {
				series[i] = FromStrings(MetricName, "requests_total", "job", "api", "instance", fmt.Sprintf("host-%d", i%500), "path", fmt.Sprintf("/p%d", i/500))
			}
			a := db.Appender()
			for i := range series {
				refs[i], _ = a.Append(0, series[i], 0, 0)
			}
			a.Commit()
			b.ReportAllocs()
			start := time.Now()
			a = db.Appender()
			i := 0
			for b.Loop() {
				s := i % n
				ts := int64(i/n+1) * 10_000
				ref := refs[s]
				if !byRef {
					ref = 0
				}
				if _, err := a.Append(ref, series[s], ts, float64(i)); err != nil {
					b.Fatal(err)
				}
				if i++; i%1000 == 0 {
					if err := a.Commit(); err != nil {
						b.Fatal(err)
					}
					a = db.Appender()
				}
			}
			a.Commit()
			b.ReportMetric(float64(i)/time.Since(start).Seconds(), "samples/s")
		})
	}
}

// BenchmarkMemoryPerSeries measures heap per active series: right after
// creation (one sample each), and holding one hour of 10 s samples.
func BenchmarkMemoryPerSeries(b *testing.B) {
	for _, samples := range []int{1, 360} {
		b.Run(fmt.Sprintf("samples=%d", samples), func(b *testing.B) {
			for b.Loop() {
				w := newWorkload(2000, 1) // 42k series
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				db := openTest(b, b.TempDir(), benchOptions())
				if err := w.fill(db, 0, int64(samples)*10_000); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(w.numSeries()), "bytes/series")
				db.Close()
			}
		})
	}
}

// BenchmarkBytesPerSample writes two hours of the mixed workload into a
// block and reports its size (index and chunks) per sample.
func BenchmarkBytesPerSample(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(mixedDensity(b, 1000), "bytes/sample") // 21k series
	}
}

// mixedDensity writes two hours of the mixed workload for targets scrape
// targets (seed 2) into a block and returns its bytes per sample.
func mixedDensity(tb testing.TB, targets int) float64 {
	tb.Helper()
	db := openTest(tb, tb.TempDir(), benchOptions())
	defer db.Close()
	w := newWorkload(targets, 2)
	start := int64(1_700_000_000_000)
	start -= start % (2 * 3_600_000)
	if err := w.fill(db, start, start+2*3_600_000); err != nil {
		tb.Fatal(err)
	}
	if err := db.FlushHead(); err != nil {
		tb.Fatal(err)
	}
	st, err := db.Stats(0)
	if err != nil {
		tb.Fatal(err)
	}
	return st.BytesPerSample
}

// BenchmarkQuerySum sums 10k series over 1h and 24h ranges: raw samples
// read through iterators (what PromQL's sum over a range does) and Atlas
// consolidation at a 1m step (which reads the 1m rollup for persisted data).
func BenchmarkQuerySum(b *testing.B) {
	dir := b.TempDir()
	db := openTest(b, dir, benchOptions())
	defer db.Close()
	const n = 10_000
	end := int64(26 * 3_600_000)
	a := db.Appender()
	refs := make([]SeriesRef, n)
	series := make([]Labels, n)
	for i := range series {
		series[i] = FromStrings(MetricName, "cpu_seconds_total", "instance", fmt.Sprintf("host-%d", i), "region", fmt.Sprint("r", i%4))
	}
	for ts := int64(0); ts < end; ts += 30_000 {
		for i := range n {
			refs[i], _ = a.Append(refs[i], series[i], ts, float64(ts/1000+int64(i)))
		}
		a.Commit()
		a = db.Appender()
		if ts%(2*3_600_000) == 0 {
			db.Compact()
		}
	}
	a.Commit()
	db.Compact()
	m := MustMatcher(MatchEqual, MetricName, "cpu_seconds_total")
	for _, hours := range []int64{1, 24} {
		mint := end - hours*3_600_000
		b.Run(fmt.Sprintf("raw/%dh", hours), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q, _ := db.Querier(mint, end)
				set := q.Select(nil, m)
				sum := 0.0
				for set.Next() {
					it := set.At().Iterator()
					for it.Next() {
						_, v := it.At()
						sum += v
					}
				}
				q.Close()
				if sum == 0 || math.IsNaN(sum) {
					b.Fatal("empty result")
				}
			}
		})
		b.Run(fmt.Sprintf("consolidate1m/%dh", hours), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				total := make([]float64, hours*60+1)
				err := db.Consolidate(mint, end-1, 60_000, []*Matcher{m}, func(_ Labels, steps []StepAggregate) error {
					for i, s := range steps {
						total[i] += s.Sum
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConsolidate100k is Atlas's `name,sps,:eq,:sum` read from the
// store: 100,000 series × 3 h of 1 m samples (18M points) consolidated at
// a 1 m step, from the head and from persisted blocks. Values are small
// integers with noise, as Atlas's per-node request rates are.
func BenchmarkConsolidate100k(b *testing.B) {
	for _, where := range []string{"head", "blocks"} {
		b.Run(where, func(b *testing.B) {
			o := benchOptions()
			o.FutureWindow = 0
			db := openTest(b, b.TempDir(), o)
			defer db.Close()
			const n = 100_000
			start := int64(10 * 3_600_000)
			refs := make([]SeriesRef, n)
			series := make([]Labels, n)
			for i := range series {
				series[i] = FromStrings(MetricName, "sps", "node", fmt.Sprintf("i-%06d", i))
			}
			for j := range 180 {
				a := db.Appender()
				t := start + int64(j+1)*60_000
				for i := range n {
					refs[i], _ = a.Append(refs[i], series[i], t, float64(i%97+j%5))
				}
				if err := a.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			if where == "blocks" {
				if err := db.FlushHead(); err != nil {
					b.Fatal(err)
				}
			}
			m := MustMatcher(MatchEqual, MetricName, "sps")
			b.ReportAllocs()
			for b.Loop() {
				total := make([]float64, 181)
				err := db.Consolidate(start, start+3*3_600_000, 60_000, []*Matcher{m}, func(_ Labels, steps []StepAggregate) error {
					for i, s := range steps {
						total[i] += s.Sum
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*180)/(b.Elapsed().Seconds()/float64(b.N))/1e6, "Mpoints/s")
		})
	}
}

// BenchmarkAppendBackfill measures the backfill shape of issue 19: batches
// of 2,000 samples holding 40 consecutive samples (10 minutes at 15 s) of
// each of 50 series, counters and two-decimal gauges, the ref of a
// series' previous sample passed with the next; one op is one sample,
// WAL write included.
func BenchmarkAppendBackfill(b *testing.B) {
	db := openTest(b, b.TempDir(), benchOptions())
	defer db.Close()
	const n, perSeries, perBatch = 2000, 40, 2000
	series := make([]Labels, n)
	values := make([]float64, n)
	for i := range series {
		series[i] = FromStrings(MetricName, fmt.Sprintf("bench_%02d", i%100), "job", "node", "instance", fmt.Sprintf("host-%05d:9100", i/100))
	}
	b.ReportAllocs()
	t0 := time.Now().Add(-7 * 24 * time.Hour).UnixMilli() // room for 1,000 windows
	var ref SeriesRef
	a := db.Appender()
	i := 0
	for b.Loop() {
		window := i / (n * perSeries)        // all series, 40 samples each
		s := i % (n * perSeries) / perSeries // the series
		k := window*perSeries + i%perSeries  // its sample
		if s%3 == 0 {
			values[s] = math.Round((values[s]+float64(k%7)-3.1)*100) / 100
		} else {
			values[s] += float64(k * s % 100)
		}
		if i%perSeries == 0 {
			ref = 0
		}
		r, err := a.Append(ref, series[s], t0+int64(k)*15_000, values[s])
		if err != nil {
			b.Fatal(err)
		}
		ref = r
		if i++; i%perBatch == 0 {
			if err := a.Commit(); err != nil {
				b.Fatal(err)
			}
			a = db.Appender()
		}
	}
	a.Commit()
}
