package stack

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// sumSource is 100,000 series of 3 hours at a 1-minute step (18M points).
func sumSource(b *testing.B) (*MemSource, time.Time) {
	src := NewMemSource(60_000)
	end := time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)
	start := end.Add(-3 * time.Hour)
	vs := make([]float64, 180)
	for i := 0; i < 100_000; i++ {
		for j := range vs {
			vs[j] = float64(i%97) + math.Sin(float64(j))
		}
		src.Add(map[string]string{"name": "sps", "node": fmt.Sprintf("i-%06d", i)}, start.Add(time.Minute).UnixMilli(), vs)
	}
	return src, end
}

// BenchmarkSum100kSeries is name,sps,:eq,:sum over 100,000 series, 3 h at
// 1 m (18M points) from the in-memory tier, on one goroutine.
func BenchmarkSum100kSeries(b *testing.B) {
	src, end := sumSource(b)
	ev := &Evaluator{Source: src}
	req := Request{Query: "name,sps,:eq,:sum", Start: end.Add(-3 * time.Hour), End: end, Step: time.Minute}
	b.ResetTimer()
	for b.Loop() {
		res, err := ev.Evaluate(context.Background(), req)
		if err != nil || len(res.Exprs[0].Lines[0].Values) != 180 {
			b.Fatal(err)
		}
	}
}

// BenchmarkSumFromStore is the same query read from the store through its
// consolidation (10,000 series, 3 h of 1-minute samples: 1.8M points).
func BenchmarkSumFromStore(b *testing.B) {
	db, err := tsdb.Open(filepath.Join(b.TempDir(), "tsdb"), tsdb.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-3 * time.Hour)
	const n = 10_000
	refs := make([]tsdb.SeriesRef, n)
	for j := 0; j < 180; j++ {
		a := db.Appender()
		t := start.Add(time.Duration(j+1) * time.Minute).UnixMilli()
		for i := 0; i < n; i++ {
			ls := tsdb.FromStrings(tsdb.MetricName, "sps", "node", fmt.Sprintf("i-%06d", i))
			if refs[i], err = a.Append(refs[i], ls, t, float64(i%97)); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	ev := &Evaluator{Source: TSDBSource{DB: db}}
	req := Request{Query: "name,sps,:eq,:sum", Start: start, End: end, Step: time.Minute}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ev.Evaluate(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*180)/(b.Elapsed().Seconds()/float64(b.N))/1e6, "Mpoints/s")
}

// BenchmarkParse is parsing a typical graph expression.
func BenchmarkParse(b *testing.B) {
	q := "name,sps,:eq,nf.app,nccp,:eq,:and,(,nf.cluster,),:by,:dup,10,0.1,0.02,:des,:swap,$nf.cluster,:legend,max,5,:topk"
	for b.Loop() {
		if _, err := Parse(q, nil); err != nil {
			b.Fatal(err)
		}
	}
}
