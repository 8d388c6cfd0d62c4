package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// storeResult is one system's figures on a workload that ends with a
// graceful stop: the ingest rate, the resident memory after ingest, and
// the whole TSDB directory (write-ahead log included) after the stop.
type storeResult struct {
	rate          float64 // samples/s
	rss           float64 // bytes
	dirBytes      float64
	bytesPerSamp  float64
	stoppedWithin time.Duration
}

// backfillRequests pre-encodes the backfill workload: c.bfSeries series
// (benchLabels: counters, gauges, classic histogram buckets) over the
// c.bfSpan before end at c.bfStep, by sender; each sender owns a slice of
// the series and walks time forward in windows of c.bfWindow, each request
// holding whole windows of about c.batch samples' worth of its series.
func backfillRequests(c config, end time.Time) [][][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	labels := make([]tsdb.Labels, c.bfSeries)
	kinds := make([]int, c.bfSeries)
	values := make([]float64, c.bfSeries)
	for i := range labels {
		labels[i], kinds[i] = benchLabels(i)
		values[i] = math.Round(rng.Float64() * 1000)
	}
	steps := int(c.bfSpan / c.bfStep)
	perWindow := max(1, int(c.bfWindow/c.bfStep))
	seriesPerReq := max(1, c.batch/perWindow)
	t0 := end.Add(-c.bfSpan).Truncate(c.bfStep)
	per := (c.bfSeries + c.bfSenders - 1) / c.bfSenders
	out := make([][][]byte, c.bfSenders)
	var buf []byte
	for s := range out {
		lo, hi := s*per, min((s+1)*per, c.bfSeries)
		for w := 0; w < steps; w += perWindow {
			for b := lo; b < hi; b += seriesPerReq {
				var series []prom.TimeSeries
				for i := b; i < min(b+seriesPerReq, hi); i++ {
					ts := prom.TimeSeries{Labels: labels[i]}
					for k := w; k < min(w+perWindow, steps); k++ {
						switch kinds[i] {
						case 0, 2:
							values[i] += float64(rng.IntN(100))
						case 1:
							values[i] = math.Round((values[i]+rng.NormFloat64()*3)*100) / 100
						}
						ts.Samples = append(ts.Samples, prom.Sample{Value: values[i], Timestamp: t0.Add(time.Duration(k) * c.bfStep).UnixMilli()})
					}
					series = append(series, ts)
				}
				buf = prom.AppendWriteRequest(buf[:0], series)
				out[s] = append(out[s], snappy.Encode(nil, buf))
			}
		}
	}
	return out
}

// runBackfill sends the pre-encoded requests into a fresh target, then
// measures its memory, stops it gracefully and measures its directory.
func runBackfill(c config, t *target, reqs [][][]byte) (*storeResult, error) {
	ctx := context.Background()
	samples := float64(c.bfSeries * int(c.bfSpan/c.bfStep))
	profiled := make(chan error, 1)
	if c.profileDir != "" && t.gaffer != nil {
		go func() { profiled <- t.saveProfile(ctx, "profile?seconds=5", c.profileDir, "backfill.cpu.pprof") }()
	} else {
		profiled <- nil
	}
	elapsed, err := sendRounds(ctx, t, [][][][]byte{reqs})
	if err != nil {
		return nil, err
	}
	if err := <-profiled; err != nil {
		return nil, err
	}
	res := &storeResult{rate: samples / elapsed.Seconds()}
	time.Sleep(10 * time.Second)
	res.rss = t.rss()
	if c.profileDir != "" && t.gaffer != nil {
		if err := t.saveProfile(ctx, "heap", c.profileDir, "backfill.heap.pprof"); err != nil {
			return nil, err
		}
	}
	res.dirBytes, res.stoppedWithin, err = t.stopGracefully()
	if err != nil {
		return nil, err
	}
	res.bytesPerSamp = res.dirBytes / samples
	log.Printf("%s: backfill of %.0f samples in %v: %.0f samples/s; RSS %.0f MiB; directory after stop %.1f MiB, %.2f bytes/sample (stop took %v)",
		t.kind, samples, elapsed.Round(time.Millisecond), res.rate, res.rss/(1<<20), res.dirBytes/(1<<20), res.bytesPerSamp, res.stoppedWithin.Round(time.Millisecond))
	return res, nil
}

// backfillCompare runs the backfill workload on a fresh Gaffer, then on a
// fresh Prometheus, with the same pre-encoded requests.
func backfillCompare(c config, bin string) ([][]string, error) {
	log.Printf("encoding backfill: %d series x %v at %v, %v per series per request, %d senders", c.bfSeries, c.bfSpan, c.bfStep, c.bfWindow, c.bfSenders)
	reqs := backfillRequests(c, time.Now())
	var results [2]*storeResult
	for i, kind := range []string{"gaffer", "prometheus"} {
		t, err := startTarget(kind, bin, c.promBin)
		if err != nil {
			return nil, err
		}
		res, err := runBackfill(c, t, reqs)
		t.stop()
		if err != nil {
			return nil, fmt.Errorf("%s backfill: %w", kind, err)
		}
		results[i] = res
	}
	g, p := results[0], results[1]
	name := fmt.Sprintf("backfill %dk series × %v at %v", c.bfSeries/1000, c.bfSpan, c.bfStep)
	return [][]string{
		row(name+": remote-write ingest, samples/s", g.rate, p.rate, "%.0f", "≥ 2× Prometheus", true),
		row(name+": RSS after ingest, MiB", g.rss/(1<<20), p.rss/(1<<20), "%.0f", "≤ 0.5× Prometheus", false),
		row(name+": TSDB directory after graceful stop, bytes/sample", g.bytesPerSamp, p.bytesPerSamp, "%.2f", "≤ 0.5× Prometheus", false),
	}, nil
}
