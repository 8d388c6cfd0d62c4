package alerting

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkEvaluate is the cost of one evaluation of each kind of rule
// over a store of 1,000 series with three hours of one-minute samples.
func BenchmarkEvaluate(b *testing.B) {
	end := time.Now().Truncate(time.Minute)
	var ss []testSeries
	for i := range 1000 {
		ss = append(ss, testSeries{[]string{"__name__", "bench_value", "id", fmt.Sprint(i)}, func(m int) float64 { return 100 + float64((m+i)%7) }})
	}
	d, _ := testData(b, end, 180, ss...)
	for _, c := range []struct {
		name string
		spec Spec
	}{
		{"promql-threshold", Spec{Name: "a", PromQL: `bench_value{id="7"} > 150`}},
		{"atlas-threshold", Spec{Name: "a", Atlas: "name,bench_value,:eq,id,7,:eq,:and,:sum,150,:gt"}},
		{"promql-sdes-band", Spec{Name: "a", PromQL: `bench_value{id="7"}`, Condition: &Condition{DES: &DESBand{Preset: "sdes-slower", MaxPercent: 0.5}}}},
		{"promql-compare-1h", Spec{Name: "a", PromQL: `bench_value{id="7"}`, Condition: &Condition{Compare: &Compare{Offset: Duration(time.Hour), Ratio: 2}}}},
		{"promql-changepoint", Spec{Name: "a", PromQL: `bench_value{id="7"}`, Condition: &Condition{ChangePoint: &ChangeOnset{}}}},
		{"promql-sum-by-1000", Spec{Name: "a", PromQL: `sum by (id) (bench_value) > 150`}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := mustCompile(b, c.spec)
			for b.Loop() {
				if _, err := r.Evaluate(context.Background(), d, end); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
