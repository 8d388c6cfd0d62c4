package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

type queryResult struct {
	name   string
	median float64 // ms
}

type phaseResult struct {
	firstRate      float64
	ingestRate     float64
	rss            float64
	rssPerSeries   float64
	bytesPerSample float64
	dirBytes       float64 // the TSDB directory after a graceful stop
	queries        []queryResult
}

func runPhases(c config, t *target) (*phaseResult, error) {
	ctx := context.Background()
	res := &phaseResult{}
	now := time.Now().Truncate(time.Minute)
	if c.runs("query") {
		log.Printf("%s: writing %d query series x %dh at 1m", t.kind, c.querySeries, c.queryHours)
		if err := writeQueryData(ctx, c, t, now); err != nil {
			return nil, err
		}
		log.Printf("%s: waiting for blocks", t.kind)
		deadline := time.Now().Add(4 * time.Minute)
		for {
			samples, bytes, span, err := t.blockStats()
			if err == nil && span >= time.Duration(c.queryHours-4)*time.Hour {
				res.bytesPerSample = bytes / samples
				log.Printf("%s: %.0f samples in blocks over %v, %.3f bytes/sample", t.kind, samples, span, res.bytesPerSample)
				break
			}
			if time.Now().After(deadline) {
				log.Printf("%s: blocks cover %v after 4 minutes (%v)", t.kind, span, err)
				if err == nil {
					res.bytesPerSample = bytes / samples
				}
				break
			}
			time.Sleep(2 * time.Second)
		}
		qs := []struct {
			name string
			expr string
			rng  time.Duration
			step time.Duration
		}{
			{"sum by over 10k series, 1h range (15s step)", `sum by (job) (rate(bench_query_total[5m]))`, time.Hour, 15 * time.Second},
			{"sum by over 10k series, 24h range (5m step)", `sum by (job) (rate(bench_query_total[5m]))`, 24 * time.Hour, 5 * time.Minute},
		}
		for _, q := range qs {
			var times []float64
			for i := 0; i < c.queryReps; i++ {
				start := time.Now()
				r, err := t.client.QueryRange(ctx, q.expr, now.Add(-q.rng), now, q.step)
				if err != nil {
					return nil, fmt.Errorf("query %s: %w", q.expr, err)
				}
				if len(r.Series) == 0 {
					return nil, fmt.Errorf("query %s: no series", q.expr)
				}
				times = append(times, float64(time.Since(start).Microseconds())/1000)
			}
			sort.Float64s(times)
			res.queries = append(res.queries, queryResult{q.name, times[len(times)/2]})
			log.Printf("%s: %s: median %.1f ms of %v", t.kind, q.name, times[len(times)/2], times)
		}
	}
	if !c.runs("ingest") {
		return res, nil
	}
	time.Sleep(5 * time.Second)
	rss0 := t.rss()
	if c.profileDir != "" && t.gaffer != nil {
		if err := t.saveProfile(ctx, "heap", c.profileDir, "idle.heap.pprof"); err != nil {
			return nil, err
		}
	}
	log.Printf("%s: RSS before ingest %.0f MiB; encoding %d series x %d rounds", t.kind, rss0/(1<<20), c.series, c.rounds)
	reqs := encodeIngest(c, time.Now())
	// Round 0 creates the series; the later rounds are the sustained rate.
	first, err := sendRounds(ctx, t, reqs[:1])
	if err != nil {
		return nil, err
	}
	res.firstRate = float64(c.series) / first.Seconds()
	rest, err := sendRounds(ctx, t, reqs[1:])
	if err != nil {
		return nil, err
	}
	res.ingestRate = float64(c.series*(c.rounds-1)) / rest.Seconds()
	log.Printf("%s: first round (new series) %v: %.0f samples/s; %d more rounds in %v: %.0f samples/s", t.kind,
		first.Round(time.Millisecond), res.firstRate, c.rounds-1, rest.Round(time.Millisecond), res.ingestRate)
	time.Sleep(10 * time.Second)
	res.rss = t.rss()
	res.rssPerSeries = (res.rss - rss0) / float64(c.series)
	if c.profileDir != "" && t.gaffer != nil {
		if err := t.saveProfile(ctx, "heap", c.profileDir, "ingest.heap.pprof"); err != nil {
			return nil, err
		}
	}
	log.Printf("%s: RSS after ingest %.0f MiB: %.0f bytes per added active series", t.kind, res.rss/(1<<20), res.rssPerSeries)
	return res, nil
}

// benchLabels returns the labels of ingest series i, distinct for every
// i: series/100 instances of 50 counters, 30 gauges and the 4 buckets of
// a latency histogram for 5 handlers.
func benchLabels(i int) (tsdb.Labels, int) {
	kind := i % 10
	inst := fmt.Sprintf("host-%05d:9100", i/100)
	switch {
	case kind < 5:
		return tsdb.FromStrings("__name__", fmt.Sprintf("bench_counter_%02d_total", i%100/10*10+kind), "job", "node", "instance", inst), 0
	case kind < 8:
		return tsdb.FromStrings("__name__", fmt.Sprintf("bench_gauge_%02d", i%100), "job", "node", "instance", inst), 1
	}
	j := i%100/10*2 + kind - 8 // 0..19 within the instance
	return tsdb.FromStrings("__name__", "bench_latency_seconds_bucket", "job", "node", "instance", inst,
		"le", []string{"0.1", "0.5", "1", "+Inf"}[j%4], "handler", fmt.Sprintf("/h%d", j/4)), 2
}

// encodeIngest pre-encodes every request of the ingest phase, by round
// and sender, so the clock measures the server. Each round writes one
// sample of every series; each sender owns a slice of the series.
func encodeIngest(c config, end time.Time) [][][][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	labels := make([]tsdb.Labels, c.series)
	kinds := make([]int, c.series)
	values := make([]float64, c.series)
	for i := range labels {
		labels[i], kinds[i] = benchLabels(i)
		values[i] = math.Round(rng.Float64() * 1000)
	}
	t0 := end.Add(-time.Duration(c.rounds) * c.interval)
	out := make([][][][]byte, c.rounds)
	per := (c.series + c.senders - 1) / c.senders
	var buf []byte
	for r := 0; r < c.rounds; r++ {
		out[r] = make([][][]byte, c.senders)
		ts := t0.Add(time.Duration(r) * c.interval).UnixMilli()
		for s := 0; s < c.senders; s++ {
			lo, hi := s*per, min((s+1)*per, c.series)
			for b := lo; b < hi; b += c.batch {
				var series []prom.TimeSeries
				for i := b; i < min(b+c.batch, hi); i++ {
					switch kinds[i] {
					case 0, 2:
						values[i] += float64(rng.IntN(100))
					case 1:
						values[i] = math.Round((values[i]+rng.NormFloat64()*3)*100) / 100
					}
					series = append(series, prom.TimeSeries{Labels: labels[i], Samples: []prom.Sample{{Value: values[i], Timestamp: ts}}})
				}
				buf = prom.AppendWriteRequest(buf[:0], series)
				out[r][s] = append(out[r][s], snappy.Encode(nil, buf))
			}
		}
	}
	return out
}

// sendRounds sends the rounds' requests, each sender its own series in
// round order, and returns the time taken.
func sendRounds(ctx context.Context, t *target, rounds [][][][]byte) (time.Duration, error) {
	if len(rounds) == 0 {
		return 0, nil
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, len(rounds[0]))
	for s := range rounds[0] {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for _, r := range rounds {
				for _, body := range r[s] {
					if err := t.client.WriteRaw(ctx, body); err != nil {
						errs <- err
						return
					}
				}
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("ingest: %w", err)
	}
	return time.Since(start), nil
}

// writeQueryData writes the query phase's counters: querySeries series in
// ten jobs, one sample a minute over queryHours hours ending at end, in
// time order, ten minutes per request.
func writeQueryData(ctx context.Context, c config, t *target, end time.Time) error {
	rng := rand.New(rand.NewPCG(5, 6))
	labels := make([]tsdb.Labels, c.querySeries)
	values := make([]float64, c.querySeries)
	for i := range labels {
		labels[i] = tsdb.FromStrings("__name__", "bench_query_total", "job", fmt.Sprintf("job-%d", i%10), "instance", fmt.Sprintf("host-%05d", i))
	}
	start := end.Add(-time.Duration(c.queryHours) * time.Hour)
	const perReq = 500
	for m := 0; m < c.queryHours*60; m += 10 {
		var wg sync.WaitGroup
		errs := make(chan error, c.querySeries/perReq+1)
		for lo := 0; lo < c.querySeries; lo += perReq {
			var series []prom.TimeSeries
			for i := lo; i < min(lo+perReq, c.querySeries); i++ {
				ts := prom.TimeSeries{Labels: labels[i]}
				for k := m; k < m+10 && k < c.queryHours*60; k++ {
					values[i] += float64(rng.IntN(60))
					ts.Samples = append(ts.Samples, prom.Sample{Value: values[i], Timestamp: start.Add(time.Duration(k) * time.Minute).UnixMilli()})
				}
				series = append(series, ts)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := t.client.Write(ctx, series); err != nil {
					errs <- err
				}
			}()
			if lo/perReq%4 == 3 {
				wg.Wait()
			}
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return fmt.Errorf("write query data: %w", err)
		}
	}
	return nil
}
