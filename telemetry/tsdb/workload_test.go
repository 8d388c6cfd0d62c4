package tsdb

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// workload generates the mixed benchmark workload described in
// docs/benchmarks.md: scrape targets each exposing a latency histogram (10
// buckets, sum, count), four counters and five gauges, scraped every 10 s.
// One target in five has scrape timestamps jittered by up to 25 ms; the
// others are on the grid, as Prometheus's timestamp alignment and Atlas's
// step-aligned publishing make them.
type workload struct {
	r       *rand.Rand
	targets []*target
}

type target struct {
	series  []Labels
	refs    []SeriesRef
	vals    []float64
	jitter  bool
	offset  int64
	rate    float64
	mem     float64
	gorout  float64
	temp    float64
	load    float64
	buckets []float64
}

var bucketBounds = []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}

func newWorkload(targets int, seed uint64) *workload {
	w := &workload{r: rand.New(rand.NewPCG(seed, 99))}
	for i := range targets {
		t := &target{jitter: i%5 == 0, offset: int64(w.r.IntN(10_000)), rate: 5 + w.r.Float64()*45,
			mem: float64(100_000+w.r.IntN(50_000)) * 4096, gorout: float64(50 + w.r.IntN(200)), temp: 40 + w.r.Float64()*20,
			buckets: make([]float64, len(bucketBounds))}
		inst := fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250)
		base := func(name string, kv ...string) Labels {
			return FromStrings(append([]string{MetricName, name, "job", "api", "instance", inst, "region", "us-east-1"}, kv...)...)
		}
		for _, le := range bucketBounds {
			t.series = append(t.series, base("http_request_duration_seconds_bucket", "le", le))
		}
		t.series = append(t.series,
			base("http_request_duration_seconds_sum"), base("http_request_duration_seconds_count"),
			base("http_requests_total", "code", "200"), base("http_requests_total", "code", "500"),
			base("process_cpu_seconds_total"), base("network_transmit_bytes_total"),
			base("process_resident_memory_bytes"), base("go_goroutines"), base("temperature_celsius"),
			base("load_ratio"), base("up"))
		t.refs = make([]SeriesRef, len(t.series))
		t.vals = make([]float64, len(t.series))
		w.targets = append(w.targets, t)
	}
	return w
}

// numSeries returns the number of series.
func (w *workload) numSeries() int { return len(w.targets) * len(w.targets[0].series) }

// scrape advances every target by one 10 s interval ending at ts and calls
// emit for each sample.
func (w *workload) scrape(ts int64, emit func(t *target, i int, ts int64, v float64)) {
	r := w.r
	for _, t := range w.targets {
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
				k = math.Round(left * []float64{0.3, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002}[b] * (0.8 + 0.4*r.Float64()))
				k = min(k, left)
			}
			left -= k
			t.buckets[b] += k
			latency += k * []float64{0.004, 0.008, 0.02, 0.04, 0.08, 0.2, 0.4, 0.8, 2, 4}[b]
		}
		cum := 0.0
		for b := range bucketBounds {
			cum += t.buckets[b]
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
		t.load = r.Float64() // full-precision float
		t.vals[nb+9] = t.load
		t.vals[nb+10] = 1
		for i := range t.series {
			emit(t, i, st, t.vals[i])
		}
	}
}

// fill appends the workload's samples for [from, to) in batches.
func (w *workload) fill(db *DB, from, to int64) error {
	var err error
	for ts := from; ts < to && err == nil; ts += 10_000 {
		a := db.Appender()
		w.scrape(ts, func(t *target, i int, ts int64, v float64) {
			if err != nil {
				return
			}
			t.refs[i], err = a.Append(t.refs[i], t.series[i], ts, v)
		})
		if err != nil {
			a.Rollback()
			return err
		}
		err = a.Commit()
	}
	return err
}
