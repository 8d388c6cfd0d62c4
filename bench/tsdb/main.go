// Command tsdb measures the store's bytes per sample on disk, side by side
// with Prometheus's chunk encoding on the same samples:
//
//	go run ./bench/tsdb                        # the mixed workload: 1,000 targets × 2 h
//	go run ./bench/tsdb -workload counters     # bench/prom's query data: 10,000 counters × 24 h at 1 m
//	go run ./bench/tsdb -workload prometheus -url http://127.0.0.1:9090 -range 2h
//
// The last reads every series a running Prometheus holds for the range
// (raw samples, through its HTTP API), so real scraped data can be
// compared. Gaffer's figure is its persisted raw blocks (index and chunks,
// after compaction); Prometheus's is its XOR chunks alone, cut as its head
// cuts them (120 samples, or a 2 h boundary), without index or chunk
// references, so it is a lower bound for a Prometheus block.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb/tsdbtest"
)

// series is one series' samples, in time order.
type series struct {
	labels tsdb.Labels
	ts     []int64
	vs     []float64
}

func main() {
	workload := flag.String("workload", "mixed", "mixed, counters or prometheus")
	targets := flag.Int("targets", 1000, "mixed: scrape targets (21 series each)")
	hours := flag.Int("hours", 0, "hours of data (default: 2 for mixed, 24 for counters)")
	counters := flag.Int("counters", 10_000, "counters: series")
	url := flag.String("url", "http://127.0.0.1:9090", "prometheus: the server to read")
	rng := flag.Duration("range", 2*time.Hour, "prometheus: how far back to read")
	flag.Parse()
	log.SetFlags(log.Ltime)

	var data []*series
	var err error
	switch *workload {
	case "mixed":
		data = mixed(*targets, cmp(*hours, 2))
	case "counters":
		data = counterData(*counters, cmp(*hours, 24))
	case "prometheus":
		data, err = fromPrometheus(*url, *rng)
	default:
		err = fmt.Errorf("unknown workload %q", *workload)
	}
	if err != nil {
		log.Fatal(err)
	}
	if err := compare(*workload, data); err != nil {
		log.Fatal(err)
	}
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// mixed generates the mixed workload, starting at a block boundary.
func mixed(targets, hours int) []*series {
	w := tsdbtest.NewMixed(targets, 2)
	out := make([]*series, 0, w.NumSeries())
	for _, t := range w.Targets {
		for _, ls := range t.Series {
			out = append(out, &series{labels: tsdb.FromStrings(ls...)})
		}
	}
	start := int64(1_700_000_000_000)
	start -= start % (2 * 3_600_000)
	for ts := start; ts < start+int64(hours)*3_600_000; ts += 10_000 {
		w.Scrape(ts, func(ti, i int, t int64, v float64) {
			s := out[ti*tsdbtest.MixedSeriesPerTarget+i]
			s.ts = append(s.ts, t)
			s.vs = append(s.vs, v)
		})
	}
	return out
}

// counterData generates bench/prom's query data.
func counterData(n, hours int) []*series {
	c := tsdbtest.NewCounters(n, 5)
	out := make([]*series, n)
	for i := range out {
		out[i] = &series{labels: tsdb.FromStrings(c.Labels(i)...)}
	}
	start := int64(1_700_000_000_000)
	start -= start % (2 * 3_600_000)
	for m := range hours * 60 {
		for i, s := range out {
			s.ts = append(s.ts, start+int64(m)*60_000)
			s.vs = append(s.vs, c.Next(i))
		}
	}
	return out
}

// fromPrometheus reads the raw samples of every series a Prometheus holds
// over the last rng, through Prometheus's query API with telemetry/prom's
// client (a peer, not Gaffer's API, so not the CLI's client).
func fromPrometheus(url string, rng time.Duration) ([]*series, error) {
	c := &prom.Client{URL: url}
	res, err := c.Query(context.Background(), fmt.Sprintf(`{__name__=~".+"}[%ds]`, int(rng.Seconds())), time.Now())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	var out []*series
	for _, s := range res.Series {
		se := &series{labels: s.Labels}
		for _, p := range s.Points {
			se.ts = append(se.ts, p.T)
			se.vs = append(se.vs, p.V)
		}
		if len(se.ts) > 0 {
			out = append(out, se)
		}
	}
	return out, nil
}

// compare stores data in a fresh store and prints its bytes per sample
// next to Prometheus's chunk encoding's, in total and by metric.
func compare(name string, data []*series) error {
	dir, err := os.MkdirTemp("", "bench-tsdb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	o.FutureWindow = 0
	o.Retention = 0
	o.Logger = nil
	db, err := tsdb.Open(filepath.Join(dir, "tsdb"), o)
	if err != nil {
		return err
	}
	defer db.Close()
	var samples int
	byMetric := map[string]*[2]float64{} // samples, Prometheus chunk bytes
	for _, s := range data {
		a := db.Appender()
		var ref tsdb.SeriesRef
		for i := range s.ts {
			if ref, err = a.Append(ref, s.labels, s.ts[i], s.vs[i]); err != nil {
				return fmt.Errorf("append %s: %w", s.labels, err)
			}
		}
		if err := a.Commit(); err != nil {
			return err
		}
		samples += len(s.ts)
		m := byMetric[s.labels.Metric()]
		if m == nil {
			m = new([2]float64)
			byMetric[s.labels.Metric()] = m
		}
		m[0] += float64(len(s.ts))
		m[1] += float64(promChunkBytes(s.ts, s.vs))
	}
	start := time.Now()
	if err := db.FlushHead(); err != nil {
		return err
	}
	took := time.Since(start)
	st, err := db.Stats(0)
	if err != nil {
		return err
	}
	var promBytes float64
	for _, m := range byMetric {
		promBytes += m[1]
	}
	fmt.Printf("\n%s: %d series, %d samples; blocks written in %v\n\n", name, len(data), samples, took.Round(time.Millisecond))
	fmt.Println("| measure | bytes/sample |")
	fmt.Println("|---|---|")
	fmt.Printf("| Gaffer, raw blocks (index + chunks) | %.3f |\n", st.BytesPerSample)
	fmt.Printf("| Prometheus XOR chunks alone (lower bound of a block) | %.3f |\n", promBytes/float64(samples))
	names := make([]string, 0, len(byMetric))
	for n := range byMetric {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return byMetric[names[i]][0] > byMetric[names[j]][0] })
	fmt.Println("\n| metric (most samples first) | samples | Prometheus XOR chunks, bytes/sample |")
	fmt.Println("|---|---|---|")
	for i, n := range names {
		if i == 15 {
			fmt.Printf("| … %d more | | |\n", len(names)-i)
			break
		}
		m := byMetric[n]
		fmt.Printf("| %s | %.0f | %.2f |\n", n, m[0], m[1]/m[0])
	}
	return nil
}

// promChunkBytes encodes samples as Prometheus's head does: XOR chunks of
// up to 120 samples, also cut at 2 h boundaries.
func promChunkBytes(ts []int64, vs []float64) int {
	const blockRange = 2 * 3_600_000
	total := 0
	var c *chunkenc.XORChunk
	var app chunkenc.Appender
	var n int
	var block int64 = math.MinInt64
	flush := func() {
		if c != nil {
			total += len(c.Bytes())
		}
	}
	for i, t := range ts {
		if b := t / blockRange; c == nil || n == 120 || b != block {
			flush()
			c = chunkenc.NewXORChunk()
			app, _ = c.Appender()
			n, block = 0, b
		}
		app.Append(0, t, vs[i])
		n++
	}
	flush()
	return total
}
