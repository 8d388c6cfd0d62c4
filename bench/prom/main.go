// Command prom compares Gaffer's metrics system with Prometheus on this
// machine, both fed over remote write: sustained ingest at many active
// series, resident memory per active series, bytes per sample on disk,
// the median latency of heavy range queries, and Gaffer's spectatord line
// ingest over the unix socket and UDP.
//
//	go run ./bench/prom                       # everything, default sizes
//	go run ./bench/prom -series 100000 -rounds 30 -query-series 10000
//	go run ./bench/prom -only spectatord
//	go run ./bench/prom -only ingest,backfill  # the metrics store's figures
//
// The backfill part writes -backfill-series series over the last
// -backfill-span at -backfill-step (counters, gauges, classic histogram
// buckets), each request holding -backfill-window of samples of as many
// series as fit in -batch, from -backfill-senders senders. The ingest and
// backfill parts end with a graceful stop (SIGTERM) and measure the whole
// TSDB directory, write-ahead log included.
//
// It builds ./cmd/gaffer, runs `gaffer serve` and `prometheus
// --web.enable-remote-write-receiver` on loopback ports with temporary
// data directories, and prints a Markdown table.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
)

type config struct {
	series, rounds, senders, batch int
	interval                       time.Duration
	querySeries                    int
	queryHours                     int
	queryReps                      int
	promBin                        string
	only                           string
	lineSeconds                    float64
	udpRate                        int
	udpSenders                     int
	bfSeries, bfSenders            int
	bfSpan, bfStep, bfWindow       time.Duration
	profileDir                     string
}

// runs reports whether -only selects part (an empty -only selects all).
func (c config) runs(part string) bool {
	if c.only == "" {
		return true
	}
	for _, p := range strings.Split(c.only, ",") {
		if strings.TrimSpace(p) == part {
			return true
		}
	}
	return false
}

func main() {
	var c config
	flag.IntVar(&c.series, "series", 100_000, "active series in the ingest phase")
	flag.IntVar(&c.rounds, "rounds", 30, "samples per series in the ingest phase")
	flag.DurationVar(&c.interval, "interval", 10*time.Second, "sample interval of the ingest phase")
	flag.IntVar(&c.senders, "senders", 8, "concurrent remote-write senders (Prometheus's shards)")
	flag.IntVar(&c.batch, "batch", 2000, "samples per remote-write request (Prometheus's max_samples_per_send)")
	flag.IntVar(&c.querySeries, "query-series", 10_000, "series of the query phase")
	flag.IntVar(&c.queryHours, "query-hours", 24, "hours of one-minute data in the query phase")
	flag.IntVar(&c.queryReps, "query-reps", 7, "runs of each heavy query (the median is reported)")
	flag.StringVar(&c.promBin, "prometheus", "prometheus", "the Prometheus binary")
	flag.StringVar(&c.only, "only", "", "run some parts, comma-separated: ingest (with memory and disk), query, backfill, spectatord")
	flag.IntVar(&c.bfSeries, "backfill-series", 20_000, "series of the backfill part")
	flag.DurationVar(&c.bfSpan, "backfill-span", 2*time.Hour, "history written by the backfill part, ending now")
	flag.DurationVar(&c.bfStep, "backfill-step", 15*time.Second, "sample interval of the backfill part")
	flag.DurationVar(&c.bfWindow, "backfill-window", 10*time.Minute, "samples of each series in one backfill request")
	flag.IntVar(&c.bfSenders, "backfill-senders", 4, "concurrent senders of the backfill part")
	flag.StringVar(&c.profileDir, "profile-dir", "", "save Gaffer's heap profile before and after the ingest part, and its CPU profile during the backfill and heap profile after it, here")
	flag.Float64Var(&c.lineSeconds, "line-seconds", 5, "seconds of spectatord line ingest per transport")
	flag.IntVar(&c.udpRate, "udp-rate", 400_000, "lines per second sent over UDP")
	flag.IntVar(&c.udpSenders, "udp-senders", 8, "goroutines sending UDP, each at udp-rate/udp-senders")
	flag.Parse()
	log.SetFlags(log.Ltime)

	binDir, err := os.MkdirTemp("", "bench-prom-bin-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(binDir)
	bin, err := benchserver.Build(binDir)
	if err != nil {
		log.Fatal(err)
	}
	var rows [][]string
	if c.runs("ingest") || c.runs("query") {
		r, err := compare(c, bin)
		if err != nil {
			log.Fatal(err)
		}
		rows = append(rows, r...)
	}
	if c.runs("backfill") {
		r, err := backfillCompare(c, bin)
		if err != nil {
			log.Fatal(err)
		}
		rows = append(rows, r...)
	}
	if c.runs("spectatord") {
		r, err := spectatordBench(c, bin)
		if err != nil {
			log.Fatal(err)
		}
		rows = append(rows, r...)
	}
	host, _ := os.Hostname()
	fmt.Printf("\n%s, %s, %d series x %d rounds at %v, %d query series x %dh\n\n", time.Now().UTC().Format("2006-01-02"), host,
		c.series, c.rounds, c.interval, c.querySeries, c.queryHours)
	fmt.Println("| measure | Gaffer | Prometheus | ratio | goal |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println("| " + strings.Join(r, " | ") + " |")
	}
}

// compare runs the query and ingest phases on both systems.
func compare(c config, bin string) ([][]string, error) {
	var results [2]*phaseResult
	for i, kind := range []string{"gaffer", "prometheus"} {
		t, err := startTarget(kind, bin, c.promBin)
		if err != nil {
			return nil, err
		}
		res, err := runPhases(c, t)
		if err == nil && c.runs("ingest") {
			var took time.Duration
			res.dirBytes, took, err = t.stopGracefully()
			log.Printf("%s: directory after graceful stop (%v): %.1f MiB", kind, took.Round(time.Millisecond), res.dirBytes/(1<<20))
		}
		t.stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		results[i] = res
	}
	g, p := results[0], results[1]
	var rows [][]string
	if c.runs("ingest") {
		written := float64(c.series * c.rounds)
		if c.runs("query") {
			written += float64(c.querySeries * c.queryHours * 60)
		}
		rows = append(rows,
			row("TSDB directory after graceful stop (WAL included), bytes/sample", g.dirBytes/written, p.dirBytes/written, "%.2f", "≤ 0.5× Prometheus", false),
			row("remote-write ingest, first sample of each new series, samples/s", g.firstRate, p.firstRate, "%.0f", "", true),
			row("remote-write ingest, sustained (later rounds), samples/s", g.ingestRate, p.ingestRate, "%.0f", "≥ 2× Prometheus", true),
			row("RSS per active series, bytes", g.rssPerSeries, p.rssPerSeries, "%.0f", "≤ 0.5× Prometheus", false),
			row("RSS after ingest, MiB", g.rss/(1<<20), p.rss/(1<<20), "%.0f", "≤ 0.5× Prometheus", false))
	}
	if c.runs("query") {
		rows = append(rows, row("disk, bytes per sample (blocks of the query data)", g.bytesPerSample, p.bytesPerSample, "%.3f", "≤ 1.0", false))
	}
	for i, q := range g.queries {
		rows = append(rows, row("median latency: "+q.name+", ms", q.median, p.queries[i].median, "%.1f", "≤ Prometheus", false))
	}
	return rows, nil
}

func row(name string, g, p float64, format, goal string, higherBetter bool) []string {
	ratio := "—"
	if p > 0 {
		ratio = fmt.Sprintf("%.2f×", g/p)
	}
	return []string{name, fmt.Sprintf(format, g), fmt.Sprintf(format, p), ratio, goal}
}
