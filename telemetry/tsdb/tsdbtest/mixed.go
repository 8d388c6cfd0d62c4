// Package tsdbtest generates the workloads that the store's benchmarks and
// the side-by-side program bench/tsdb measure. It does not import the store,
// so the store's own tests can use it.
package tsdbtest

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Mixed is the mixed workload of docs/benchmarks.md: scrape targets, each
// exposing a latency histogram (10 buckets, _sum, _count), four counters
// (requests with code 200 and a rare 500, CPU seconds at 10 ms resolution,
// bytes sent) and five gauges (resident memory in 4 KiB pages, goroutines,
// a temperature with two decimals, a full-precision random ratio, up): 21
// series per target, scraped every 10 s. One target in five has its scrape
// timestamps jittered by 0–24 ms; the others are on their grid, as
// Prometheus's timestamp alignment and Atlas's step-aligned publishing
// make them. Every counter moves at every scrape, so it is a busy fleet:
// the idle and constant series of real fleets are left out.
type Mixed struct {
	r       *rand.Rand
	Targets []*Target
}

// Target is one scrape target of the mixed workload.
type Target struct {
	// Series holds each series' labels as name, value pairs.
	Series [][]string
	vals   []float64
	jitter bool
	offset int64
	rate   float64
	mem    float64
	gorout float64
	temp   float64
	bucket []float64
}

// MixedSeriesPerTarget is the number of series each target exposes.
const MixedSeriesPerTarget = 21

var (
	bucketBounds  = []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	bucketShare   = []float64{0.3, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002}
	bucketLatency = []float64{0.004, 0.008, 0.02, 0.04, 0.08, 0.2, 0.4, 0.8, 2, 4}
)

// NewMixed returns the workload for n targets; seed fixes its randomness.
func NewMixed(n int, seed uint64) *Mixed {
	w := &Mixed{r: rand.New(rand.NewPCG(seed, 99))}
	for i := range n {
		t := &Target{jitter: i%5 == 0, offset: int64(w.r.IntN(10_000)), rate: 5 + w.r.Float64()*45,
			mem: float64(100_000+w.r.IntN(50_000)) * 4096, gorout: float64(50 + w.r.IntN(200)), temp: 40 + w.r.Float64()*20,
			bucket: make([]float64, len(bucketBounds))}
		inst := fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250)
		base := func(name string, kv ...string) []string {
			return append([]string{"__name__", name, "job", "api", "instance", inst, "region", "us-east-1"}, kv...)
		}
		for _, le := range bucketBounds {
			t.Series = append(t.Series, base("http_request_duration_seconds_bucket", "le", le))
		}
		t.Series = append(t.Series,
			base("http_request_duration_seconds_sum"), base("http_request_duration_seconds_count"),
			base("http_requests_total", "code", "200"), base("http_requests_total", "code", "500"),
			base("process_cpu_seconds_total"), base("network_transmit_bytes_total"),
			base("process_resident_memory_bytes"), base("go_goroutines"), base("temperature_celsius"),
			base("load_ratio"), base("up"))
		t.vals = make([]float64, len(t.Series))
		w.Targets = append(w.Targets, t)
	}
	return w
}

// NumSeries returns the number of series.
func (w *Mixed) NumSeries() int { return len(w.Targets) * MixedSeriesPerTarget }

// Scrape advances every target by one 10 s interval ending at ts and calls
// emit with each sample: the target's index, the series' index in
// Target.Series, the timestamp and the value.
func (w *Mixed) Scrape(ts int64, emit func(target, series int, t int64, v float64)) {
	r := w.r
	for ti, t := range w.Targets {
		st := ts + t.offset
		if t.jitter {
			st += int64(r.IntN(25))
		}
		n := math.Round(t.rate*10 + r.NormFloat64()*math.Sqrt(t.rate*10))
		n = max(n, 0)
		// Latencies: most requests fast; distribute n over buckets.
		left := n
		var latency float64
		for b := range bucketBounds {
			var k float64
			if b == len(bucketBounds)-1 {
				k = left
			} else {
				k = math.Round(left * bucketShare[b] * (0.8 + 0.4*r.Float64()))
				k = min(k, left)
			}
			left -= k
			t.bucket[b] += k
			latency += k * bucketLatency[b]
		}
		cum := 0.0
		for b := range bucketBounds {
			cum += t.bucket[b]
			t.vals[b] = cum
		}
		nb := len(bucketBounds)
		t.vals[nb] = math.Round((t.vals[nb]+latency)*1000) / 1000 // sum, ms resolution
		t.vals[nb+1] = cum                                        // count
		t.vals[nb+2] += n                                         // 200s
		if r.IntN(50) == 0 {
			t.vals[nb+3]++ // rare 500s
		}
		t.vals[nb+4] = math.Round((t.vals[nb+4]+0.01*float64(50+r.IntN(100)))*100) / 100 // cpu seconds
		t.vals[nb+5] += n * float64(800+r.IntN(400))                                     // bytes
		if r.IntN(6) == 0 {
			t.mem += float64(r.IntN(200)-100) * 4096
		}
		t.vals[nb+6] = t.mem
		t.gorout = max(1, t.gorout+float64(r.IntN(5)-2))
		t.vals[nb+7] = t.gorout
		t.temp = math.Round((t.temp+r.NormFloat64()*0.3)*100) / 100
		t.vals[nb+8] = t.temp
		t.vals[nb+9] = r.Float64() // full-precision float
		t.vals[nb+10] = 1
		for i := range t.Series {
			emit(ti, i, st, t.vals[i])
		}
	}
}

// Counters is bench/prom's query data: n counters, one sample a minute,
// each growing by a random 0–59 per minute.
type Counters struct {
	r      *rand.Rand
	values []float64
}

// NewCounters returns n counters; seed fixes their randomness.
func NewCounters(n int, seed uint64) *Counters {
	return &Counters{r: rand.New(rand.NewPCG(seed, 6)), values: make([]float64, n)}
}

// Labels returns counter i's labels as name, value pairs.
func (c *Counters) Labels(i int) []string {
	return []string{"__name__", "bench_query_total", "job", fmt.Sprintf("job-%d", i%10), "instance", fmt.Sprintf("host-%05d", i)}
}

// Next advances counter i by one minute and returns its value.
func (c *Counters) Next(i int) float64 {
	c.values[i] += float64(c.r.IntN(60))
	return c.values[i]
}
