package prom

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// BenchmarkRangeQuery is the benchmark's heavy query, sum by over
// `series` counters, through the upstream engine and this package's
// Queryable: 24 h of one-minute samples, half of them persisted.
func BenchmarkRangeQuery(b *testing.B) {
	for _, series := range []int{1000} {
		b.Run(fmt.Sprintf("series=%d", series), func(b *testing.B) {
			o := tsdb.DefaultOptions()
			o.CompactInterval = -1
			db, err := tsdb.Open(b.TempDir(), o)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			end := time.Now().Truncate(time.Minute)
			start := end.Add(-24 * time.Hour)
			for m := 0; m < 24*60; m += 60 {
				app := db.Appender()
				for i := 0; i < series; i++ {
					ls := tsdb.FromStrings("__name__", "q_total", "job", fmt.Sprint(i%10), "instance", fmt.Sprint(i))
					for k := m; k < m+60; k++ {
						if _, err := app.Append(0, ls, start.Add(time.Duration(k)*time.Minute).UnixMilli(), float64(k*(i%7+1))); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := app.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			if err := db.Compact(); err != nil {
				b.Fatal(err)
			}
			eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 50_000_000, Timeout: time.Minute})
			q := Queryable{DB: db}
			b.ResetTimer()
			for b.Loop() {
				qry, err := eng.NewRangeQuery(context.Background(), q, nil, `sum by (job) (rate(q_total[5m]))`, end.Add(-24*time.Hour), end, 5*time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				if res := qry.Exec(context.Background()); res.Err != nil {
					b.Fatal(res.Err)
				}
				qry.Close()
			}
		})
	}
}
