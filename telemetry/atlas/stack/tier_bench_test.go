package stack

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// tierStore ingests 100,000 series × 3 h at 1 m (18M samples) through the
// store's Appender, with a tier attached to which name,sps,:eq was
// admitted after the first hour, and returns both.
func tierStore(b *testing.B) (*tsdb.DB, *Tier, time.Time) {
	db := openTierStore(b)
	tier := NewTier(6*time.Hour, nil)
	tier.Attach(db)
	b.Cleanup(func() { tier.Detach(db) })
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-3 * time.Hour)
	const n = 100_000
	series := make([]tsdb.Labels, n)
	for i := range series {
		series[i] = tsdb.FromStrings(tsdb.MetricName, "sps", "node", fmt.Sprintf("i-%06d", i))
	}
	refs := make([]tsdb.SeriesRef, n)
	t0 := time.Now()
	for j := 0; j < 180; j++ {
		if j == 60 {
			if err := tier.Admit(context.Background(), db, Equal{"name", "sps"}); err != nil {
				b.Fatal(err)
			}
		}
		ts := start.Add(time.Duration(j+1) * time.Minute).UnixMilli()
		a := db.Appender()
		for i := range series {
			var err error
			if refs[i], err = a.Append(refs[i], series[i], ts, float64(i%97)+float64(j%7)/4); err != nil {
				b.Fatal(err)
			}
			if i%10_000 == 9_999 {
				if err := a.Commit(); err != nil {
					b.Fatal(err)
				}
				a = db.Appender()
			}
		}
		if err := a.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("ingested %d samples in %v with the tier attached", n*180, time.Since(t0).Round(time.Millisecond))
	if st := tier.Stats(); st.Series != n {
		b.Fatalf("the tier holds %d series, want %d", st.Series, n)
	}
	return db, tier, end
}

// BenchmarkTierSum100k is name,sps,:eq,:sum over 100,000 series, 3 h at
// 1 m (18M points), fed through the store's ingest path and answered by
// the memory tier. Run it with -cpu 1.
func BenchmarkTierSum100k(b *testing.B) {
	_, tier, end := tierStore(b)
	ev := &Evaluator{Source: tier} // the tier alone: an uncovered range fails
	req := Request{Query: "name,sps,:eq,:sum", Start: end.Add(-3 * time.Hour), End: end, Step: time.Minute}
	b.ResetTimer()
	for b.Loop() {
		res, err := ev.Evaluate(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if vs := res.Exprs[0].Lines[0].Values; len(vs) != 180 || vs[10] != vs[10] {
			b.Fatalf("got %d values: %v", len(vs), vs[:3])
		}
	}
	b.ReportMetric(18e6/(b.Elapsed().Seconds()/float64(b.N))/1e6, "Mpoints/s")
}

// BenchmarkTierMemory holds 100,000 series × 6 h at 1 m (the default
// window) fed through ObserveSample and reports the heap and resident
// memory they take.
func BenchmarkTierMemory(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rss0 := rssBytes()
		now := time.Now()
		tier := NewTier(6*time.Hour, func() time.Time { return now })
		tier.ready.Store(true)
		tier.gen++ // a query admitting every series
		tier.byGen = append(tier.byGen, &tierQuery{q: True{}, key: ":true", gen: 1})
		tier.mark.Store(&tierMark{tier: tier, gen: 1})
		const n = 100_000
		states := make([]any, n)
		series := make([]tsdb.Labels, n)
		for i := range series {
			series[i] = tsdb.FromStrings(tsdb.MetricName, "sps", "node", fmt.Sprintf("i-%06d", i), "app", "web")
		}
		from := tier.Start()
		for i := range series {
			tier.ObserveSample(&states[i], series[i], from, math.NaN()) // registers it
		}
		tier.mu.Lock()
		for _, s := range tier.pending {
			s.mu.Lock()
			s.foldLate(nil, tier.floorHour.Load())
			s.mu.Unlock()
		}
		tier.pending = nil
		tier.mu.Unlock()
		for ts := from; ts <= now.UnixMilli(); ts += minuteMs {
			for i := range series {
				tier.ObserveSample(&states[i], series[i], ts, float64(i%97))
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := tier.Stats()
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/series")
		b.ReportMetric(float64(rssBytes()-rss0)/n, "rssB/series")
		b.ReportMetric(float64(st.Blocks)/n, "blocks/series")
		runtime.KeepAlive(states)
		runtime.KeepAlive(tier)
	}
}

// rssBytes reads the process's resident set size.
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkAppendWithTier is tsdb's BenchmarkAppend (10k series, batches
// of 1,000, by ref; one op is one sample) without a tier, with a tier
// observing the store to which no query was admitted (a Prometheus-only
// workload), and with one holding every series: the differences are what
// the tier costs ingest.
func BenchmarkAppendWithTier(b *testing.B) {
	for _, mode := range []string{"none", "idle", "admitted"} {
		b.Run("tier="+mode, func(b *testing.B) {
			db := openTierStore(b)
			const n = 10_000
			series := make([]tsdb.Labels, n)
			refs := make([]tsdb.SeriesRef, n)
			for i := range series {
				series[i] = tsdb.FromStrings(tsdb.MetricName, "requests_total", "job", "api", "instance", fmt.Sprintf("host-%d", i%500), "path", fmt.Sprintf("/p%d", i/500))
			}
			base := time.Now().Add(-3 * time.Hour).UnixMilli()
			var tier *Tier
			if mode != "none" {
				tier = NewTier(6*time.Hour, nil)
				tier.Attach(db)
			}
			if mode == "admitted" {
				// The series join at their first sample, in the order they
				// are appended, and are then warmed up.
				if err := tier.Admit(context.Background(), db, True{}); err != nil {
					b.Fatal(err)
				}
			}
			a := db.Appender()
			for i := range series { // a first sample
				var err error
				if refs[i], err = a.Append(refs[i], series[i], base-10_000, 0); err != nil {
					b.Fatal(err)
				}
			}
			if err := a.Commit(); err != nil {
				b.Fatal(err)
			}
			if mode == "admitted" {
				tier.AdmitRequested(context.Background(), db)
				if st := tier.Stats(); st.Series != n {
					b.Fatalf("the tier holds %d series", st.Series)
				}
			}
			a = db.Appender()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				s := i % n
				var err error
				if refs[s], err = a.Append(refs[s], series[s], base+int64(i/n)*10_000, float64(i)); err != nil {
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
		})
	}
}

// BenchmarkTierAdmit100k admits name,sps,:eq to a new tier over a store
// holding 100,000 series × 3 h at 1 m: it finds the series in the index,
// registers them and reads their 18M samples, as the first graph of a
// query does in the background (or every graph after a restart).
func BenchmarkTierAdmit100k(b *testing.B) {
	db, old, _ := tierStore(b)
	old.Detach(db)
	b.ResetTimer()
	for b.Loop() {
		tier := NewTier(6*time.Hour, nil)
		tier.Attach(db)
		if err := tier.Admit(context.Background(), db, Equal{"name", "sps"}); err != nil {
			b.Fatal(err)
		}
		tier.Detach(db)
	}
}

// BenchmarkStoreSum100k is BenchmarkTierSum100k's query read from the
// store through TSDBSource instead, for comparison.
func BenchmarkStoreSum100k(b *testing.B) {
	db, _, end := tierStore(b)
	ev := &Evaluator{Source: TSDBSource{DB: db}}
	req := Request{Query: "name,sps,:eq,:sum", Start: end.Add(-3 * time.Hour), End: end, Step: time.Minute}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ev.Evaluate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(18e6/(b.Elapsed().Seconds()/float64(b.N))/1e6, "Mpoints/s")
}
