package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
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
	end := time.Now()
	reqs := backfillRequests(c, end)
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
	missing, err := killCheck(c, bin, reqs, end)
	if err != nil {
		return nil, err
	}
	g, p := results[0], results[1]
	name := fmt.Sprintf("backfill %dk series × %v at %v", c.bfSeries/1000, c.bfSpan, c.bfStep)
	return [][]string{
		row(name+": acknowledged samples missing after kill -9 and restart (Gaffer)", missing, 0, "%.0f", "0", false),
		row(name+": remote-write ingest, samples/s", g.rate, p.rate, "%.0f", "≥ 2× Prometheus", true),
		row(name+": RSS after ingest, MiB", g.rss/(1<<20), p.rss/(1<<20), "%.0f", "≤ 0.5× Prometheus", false),
		row(name+": TSDB directory after graceful stop, bytes/sample", g.bytesPerSamp, p.bytesPerSamp, "%.2f", "≤ 0.5× Prometheus", false),
	}, nil
}

// killCheck sends the backfill requests into a fresh Gaffer, kills it
// with SIGKILL as soon as the last one is acknowledged, starts it again on
// the same directory and counts the samples it holds: every acknowledged
// sample must be there. It returns the number missing.
func killCheck(c config, bin string, reqs [][][]byte, end time.Time) (float64, error) {
	ctx := context.Background()
	t, err := startTarget("gaffer", bin, c.promBin)
	if err != nil {
		return 0, err
	}
	defer t.stop()
	if _, err := sendRounds(ctx, t, [][][][]byte{reqs}); err != nil {
		return 0, err
	}
	if err := syscall.Kill(t.pid(), syscall.SIGKILL); err != nil {
		return 0, fmt.Errorf("kill -9 gaffer: %w", err)
	}
	t.gaffer.Stop() // reaps the killed process
	logf, err := os.OpenFile(filepath.Join(t.dir, "log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	t.gaffer, err = benchserver.Start(benchserver.Config{Bin: bin, DataDir: t.dir, Out: logf, Args: []string{"--nats-listen", "127.0.0.1:0"}})
	if err != nil {
		return 0, fmt.Errorf("restart gaffer after kill -9: %w", err)
	}
	t.client = &prom.Client{URL: t.gaffer.URL, Token: t.gaffer.Client.Token, HTTP: promHTTP()}
	want := float64(c.bfSeries * int(c.bfSpan/c.bfStep))
	span := c.bfSpan + time.Hour
	// One query per metric name: count_over_time drops the name, so the
	// names cannot share one vector.
	names := map[string]bool{}
	for i := range min(c.bfSeries, 100) {
		ls, _ := benchLabels(i)
		names[ls.Metric()] = true
	}
	var got float64
	for name := range names {
		r, err := t.client.Query(ctx, fmt.Sprintf(`sum(count_over_time(%s[%dm]))`, name, int(span.Minutes())), end)
		if err != nil {
			return 0, fmt.Errorf("count samples after restart: %w", err)
		}
		if len(r.Series) != 1 || len(r.Series[0].Points) != 1 {
			return 0, fmt.Errorf("count samples of %s after restart: %d series in the answer", name, len(r.Series))
		}
		got += r.Series[0].Points[0].V
	}
	log.Printf("gaffer: after kill -9 and restart (ready in %v): %.0f of %.0f acknowledged samples", t.gaffer.ReadyAfter.Round(time.Millisecond), got, want)
	return want - got, nil
}
