package metrics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// staleNaN is Prometheus's stale marker.
var staleNaN = math.Float64frombits(0x7ff0000000000002)

// comparisonData generates two hours of counters, gauges, classic
// histograms, a jittered counter and a series that goes stale and comes
// back, ending at end. Regular samples sit 250 ms after each 15 s mark and
// jittered ones up to 2 s after it, so no query boundary below (whole
// seconds at :07 and whole minutes) falls exactly on a sample, where
// Prometheus 2 (closed ranges) and 3 (left-open ranges) differ by design.
func comparisonData(end time.Time) [][]prom.TimeSeries {
	rng := rand.New(rand.NewPCG(1, 2))
	start := end.Add(-2 * time.Hour)
	type gen struct {
		ls   tsdb.Labels
		next func(i int, t int64) (int64, float64, bool)
	}
	var gens []gen
	for _, job := range []string{"api", "web"} {
		for inst := 0; inst < 3; inst++ {
			instance := fmt.Sprintf("%s-%d:9090", job, inst)
			for _, code := range []string{"200", "500"} {
				c, reset := 0.0, rng.IntN(400)+20
				scale := float64(1 + rng.IntN(20))
				if code == "500" {
					scale /= 10
				}
				gens = append(gens, gen{tsdb.FromStrings("__name__", "cmp_requests_total", "job", job, "instance", instance, "code", code),
					func(i int, t int64) (int64, float64, bool) {
						if i == reset && inst == 1 {
							c = 0 // a restart
						}
						c += math.Round(scale * rng.Float64() * 100)
						return t, c, true
					}})
			}
			g := 20 + 5*rng.Float64()
			gens = append(gens, gen{tsdb.FromStrings("__name__", "cmp_temperature", "job", job, "instance", instance),
				func(i int, t int64) (int64, float64, bool) {
					g += rng.NormFloat64() * 0.3
					return t, math.Round(g*1000) / 1000, true
				}})
			les := []string{"0.1", "0.5", "1", "5", "+Inf"}
			counts := make([]float64, len(les))
			var sum, count float64
			for k, le := range les {
				gens = append(gens, gen{tsdb.FromStrings("__name__", "cmp_latency_seconds_bucket", "job", job, "instance", instance, "le", le),
					func(i int, t int64) (int64, float64, bool) {
						if k == 0 { // the first bucket of a step draws the step's observations
							n := rng.IntN(50)
							for o := 0; o < n; o++ {
								v := math.Exp(rng.NormFloat64()*0.8 - 1)
								sum += v
								count++
								for j, bound := range []float64{0.1, 0.5, 1, 5, math.Inf(1)} {
									if v <= bound {
										counts[j]++
									}
								}
							}
						}
						return t, counts[k], true
					}})
			}
			gens = append(gens,
				gen{tsdb.FromStrings("__name__", "cmp_latency_seconds_sum", "job", job, "instance", instance),
					func(i int, t int64) (int64, float64, bool) { return t, sum, true }},
				gen{tsdb.FromStrings("__name__", "cmp_latency_seconds_count", "job", job, "instance", instance),
					func(i int, t int64) (int64, float64, bool) { return t, count, true }})
		}
	}
	for inst := 0; inst < 3; inst++ {
		j := 0.0
		gens = append(gens, gen{tsdb.FromStrings("__name__", "cmp_jitter_total", "instance", strconv.Itoa(inst)),
			func(i int, t int64) (int64, float64, bool) {
				j += float64(rng.IntN(10))
				return t - 250 + int64(rng.IntN(2000)), j, true
			}})
		f := 0.0
		gens = append(gens, gen{tsdb.FromStrings("__name__", "cmp_flaky", "instance", strconv.Itoa(inst)),
			func(i int, t int64) (int64, float64, bool) {
				switch {
				case i == 200+inst*10:
					return t, staleNaN, true // the target disappeared
				case i > 200+inst*10 && i < 320:
					return 0, 0, false
				}
				f += rng.Float64()
				return t, f, true
			}})
	}
	var batches [][]prom.TimeSeries
	steps := int(2 * time.Hour / (15 * time.Second))
	for b := 0; b < steps; b += 20 { // five minutes per request
		batch := make([]prom.TimeSeries, len(gens))
		for k := range gens {
			batch[k].Labels = gens[k].ls
		}
		for i := b; i < b+20 && i < steps; i++ {
			t := start.Add(time.Duration(i)*15*time.Second).UnixMilli() + 250
			for k, g := range gens {
				if ts, v, ok := g.next(i, t); ok {
					batch[k].Samples = append(batch[k].Samples, prom.Sample{Timestamp: ts, Value: v})
				}
			}
		}
		batches = append(batches, batch)
	}
	return batches
}

// comparisonQueries are the PromQL expressions compared with Prometheus.
var comparisonQueries = []string{
	`cmp_requests_total`,
	`rate(cmp_requests_total[5m])`,
	`increase(cmp_requests_total[10m])`,
	`irate(cmp_jitter_total[5m])`,
	`rate(cmp_jitter_total[2m])`,
	`increase(cmp_jitter_total[3m])`,
	`sum by (job) (rate(cmp_requests_total[5m]))`,
	`sum without (instance) (rate(cmp_requests_total[5m]))`,
	`sum(cmp_requests_total{code=~"2.."})`,
	`cmp_requests_total{code!="500", job=~"a.*"}`,
	`resets(cmp_requests_total[30m])`,
	`avg_over_time(cmp_temperature[10m])`,
	`max_over_time(cmp_temperature[10m])`,
	`min_over_time(cmp_temperature[10m])`,
	`sum_over_time(cmp_temperature[10m])`,
	`count_over_time(cmp_temperature[10m])`,
	`stddev_over_time(cmp_temperature[10m])`,
	`quantile_over_time(0.9, cmp_temperature[10m])`,
	`changes(cmp_temperature[30m])`,
	`delta(cmp_temperature[10m])`,
	`deriv(cmp_temperature[10m])`,
	`predict_linear(cmp_temperature[15m], 600)`,
	`histogram_quantile(0.9, sum by (le, job) (rate(cmp_latency_seconds_bucket[5m])))`,
	`histogram_quantile(0.5, rate(cmp_latency_seconds_bucket[5m]))`,
	`sum(rate(cmp_latency_seconds_sum[5m])) / sum(rate(cmp_latency_seconds_count[5m]))`,
	`topk(3, cmp_temperature)`,
	`bottomk(2, rate(cmp_requests_total[5m]))`,
	`cmp_temperature offset 10m`,
	`rate(cmp_requests_total[5m] offset 15m)`,
	`label_replace(cmp_temperature, "host", "$1", "instance", "(.*):.*")`,
	`absent(cmp_nonexistent)`,
	`absent(cmp_temperature)`,
	`max_over_time(rate(cmp_jitter_total[5m])[30m:1m])`,
	`avg_over_time(cmp_temperature[30m:2m])`,
	`cmp_flaky`,
	`count(cmp_flaky)`,
	`last_over_time(cmp_flaky[10m])`,
	`cmp_temperature > 22`,
	`cmp_temperature > bool 22`,
	`count by (job) (cmp_temperature)`,
	`avg by (job) (cmp_temperature) * on (job) group_left count by (job) (cmp_temperature)`,
	`quantile(0.5, cmp_temperature)`,
	`stdvar(cmp_temperature)`,
	`clamp_max(cmp_temperature, 22)`,
	`round(cmp_temperature, 0.5)`,
	`timestamp(cmp_temperature)`,
	`sort_desc(sum by (instance) (rate(cmp_requests_total[5m])))`,
	`vector(1) + scalar(sum(cmp_temperature))`,
	`group by (job) (cmp_requests_total)`,
	`count_values("v", round(cmp_temperature))`,
}

// TestCompareWithPrometheus writes the same data to Gaffer and to
// Prometheus 3, built from the module version whose engine Gaffer embeds
// (platformtest.Prometheus3Bin; Debian's 2.42 answers differently by
// design, its range selectors being closed on the left), over remote
// write and compares the answers of every query, instant and range, to
// 1e-9 relative.
func TestCompareWithPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("comparison with Prometheus skipped in -short mode")
	}
	promClient := &prom.Client{URL: platformtest.StartPrometheus3(t).URL}
	srv := platformtest.Start(t, platformtest.Options{Args: []string{"--tsdb-out-of-order-window", "0"}})
	gaffer := &prom.Client{URL: srv.URL, Token: srv.Token("metrics:write")}
	ctx := context.Background()
	end := time.Now().Truncate(time.Minute)
	for i, batch := range comparisonData(end) {
		if err := gaffer.Write(ctx, batch); err != nil {
			t.Fatalf("write batch %d to Gaffer: %v", i, err)
		}
		if err := promClient.Write(ctx, batch); err != nil {
			t.Fatalf("write batch %d to Prometheus: %v", i, err)
		}
	}
	instants := []time.Time{end.Add(-119*time.Minute + 7*time.Second), end.Add(-90*time.Minute + 7*time.Second), end.Add(-47*time.Minute + 7*time.Second),
		end.Add(-25*time.Minute + 37*time.Second), end.Add(-2*time.Minute + 7*time.Second)}
	// The range covers the data from its first sample: with Prometheus 3
	// even rate() extrapolated to a series' start must agree.
	rangeStart, rangeEnd := end.Add(-2*time.Hour+7*time.Second), end.Add(-time.Minute+7*time.Second)
	compared := 0
	for _, q := range comparisonQueries {
		for _, at := range instants {
			want, err1 := promClient.Query(ctx, q, at)
			got, err2 := gaffer.Query(ctx, q, at)
			compareResults(t, fmt.Sprintf("%s at %s", q, at.Format(time.TimeOnly)), want, err1, got, err2)
			compared++
		}
		want, err1 := promClient.QueryRange(ctx, q, rangeStart, rangeEnd, time.Minute)
		got, err2 := gaffer.QueryRange(ctx, q, rangeStart, rangeEnd, time.Minute)
		compareResults(t, q+" over the range", want, err1, got, err2)
		compared++
	}
	t.Logf("compared %d queries (%d expressions, %d instants and a range each)", compared, len(comparisonQueries), len(instants))
}

func compareResults(t *testing.T, what string, want prom.Result, err1 error, got prom.Result, err2 error) {
	t.Helper()
	if err1 != nil || err2 != nil {
		t.Errorf("%s: Prometheus error %v, Gaffer error %v", what, err1, err2)
		return
	}
	if want.Type != got.Type {
		t.Errorf("%s: result type %s, Prometheus %s", what, got.Type, want.Type)
		return
	}
	if len(want.Series) != len(got.Series) {
		t.Errorf("%s: %d series, Prometheus %d:\n got %v\nwant %v", what, len(got.Series), len(want.Series), seriesNames(got), seriesNames(want))
		return
	}
	for i := range want.Series {
		w, g := want.Series[i], got.Series[i]
		if !w.Labels.Equal(g.Labels) {
			t.Errorf("%s: series %d is %s, Prometheus %s", what, i, g.Labels, w.Labels)
			return
		}
		if len(w.Points) != len(g.Points) {
			t.Errorf("%s: %s has %d points, Prometheus %d", what, w.Labels, len(g.Points), len(w.Points))
			return
		}
		for j := range w.Points {
			wp, gp := w.Points[j], g.Points[j]
			if wp.T != gp.T || !closeTo(wp.V, gp.V) {
				t.Errorf("%s: %s point %d is (%d, %v), Prometheus (%d, %v)", what, w.Labels, j, gp.T, gp.V, wp.T, wp.V)
				return
			}
		}
	}
}

func closeTo(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func seriesNames(r prom.Result) []string {
	var out []string
	for _, s := range r.Series {
		out = append(out, s.Labels.String())
	}
	return out
}
