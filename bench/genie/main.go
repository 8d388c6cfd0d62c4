// Command genie-bench measures Genie job submission under load against a
// real `gaffer serve`: it registers a cluster and a command that sleeps,
// then submits sleep jobs at a steady rate from several clients, so that
// with jobs of -sleep seconds about rate × sleep of them run at once. It
// reports the submissions achieved per second, the latency of a
// submission (POST /api/v3/jobs to its 202), the delay from submission
// to RUNNING for a sample, how many jobs ran at once, and the server's
// CPU time.
//
//	go run ./bench/genie [-rate 200] [-sleep 2.5] [-duration 30s]
//	go run ./bench/genie -server http://127.0.0.1:7070 -token-file gaffer-data/admin.token
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve` on a
// fresh data directory (SQLite, default settings but no per-user limit).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

func main() {
	target := benchserver.TargetFlags(flag.CommandLine)
	rate := flag.Float64("rate", 200, "submissions per second")
	sleep := flag.Float64("sleep", 2.5, "seconds each job sleeps")
	duration := flag.Duration("duration", 30*time.Second, "how long to submit")
	clients := flag.Int("clients", 32, "concurrent submitting clients")
	flag.Parse()
	if err := run(target, *rate, *sleep, *duration, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "genie-bench:", err)
		os.Exit(1)
	}
}

type page struct {
	Page struct {
		TotalElements int `json:"totalElements"`
	} `json:"page"`
}

func run(target *cli.ClientFlags, rate, sleep float64, duration time.Duration, clients int) error {
	c, srv, err := benchserver.Connect(target, io.Discard, "--nats-listen", "127.0.0.1:0", "--genie-user-active-limit", "0")
	if err != nil {
		return err
	}
	defer srv.Stop()
	ctx := context.Background()
	tag := fmt.Sprintf("bench:%d", time.Now().UnixNano())
	for path, body := range map[string]map[string]any{
		"/api/v3/clusters": {"name": "bench", "user": "bench", "version": "1", "status": "UP", "tags": []string{tag}},
		"/api/v3/commands": {"name": "sleep", "user": "bench", "version": "1", "status": "ACTIVE", "tags": []string{tag},
			"executableAndArguments": []string{"sleep"}, "clusterCriteria": []map[string]any{{"tags": []string{tag}}}},
	} {
		if err := c.Do(ctx, "POST", path, body, nil); err != nil {
			return fmt.Errorf("register %s: %w", path, err)
		}
	}
	c = benchserver.Pooled(c, clients, time.Minute)
	cpu0 := cpuTime(srv)
	total := int(rate * duration.Seconds())
	ticks := make(chan int, total)
	var lat []time.Duration
	var latMu sync.Mutex
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ticks {
				t0 := time.Now()
				req := map[string]any{"id": fmt.Sprintf("bench-%d-%d", start.UnixNano(), i), "name": "nap", "user": fmt.Sprintf("u%d", i%50),
					"version": "1", "commandArgs": []string{fmt.Sprint(sleep)}, "commandCriteria": []string{tag},
					"clusterCriterias": []map[string]any{{"tags": []string{tag}}}}
				if err := c.Do(ctx, "POST", "/api/v3/jobs", req, nil); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				latMu.Lock()
				lat = append(lat, time.Since(t0))
				latMu.Unlock()
			}
		}()
	}
	// Pace the submissions; sample how many run meanwhile.
	var running []int
	sampleEvery := time.Second
	nextSample := start.Add(sampleEvery)
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		ticks <- i
		if time.Now().After(nextSample) {
			nextSample = nextSample.Add(sampleEvery)
			go func() {
				var p page
				if c.Do(ctx, "GET", "/api/v3/jobs?status=RUNNING&size=1", nil, &p) == nil {
					latMu.Lock()
					running = append(running, p.Page.TotalElements)
					latMu.Unlock()
				}
			}()
		}
	}
	close(ticks)
	wg.Wait()
	elapsed := time.Since(start)
	cpu1 := cpuTime(srv)
	// Wait for the last jobs to end, then count the outcomes.
	deadline := time.Now().Add(time.Duration(sleep*float64(time.Second)) + time.Minute)
	var active page
	for time.Now().Before(deadline) {
		c.Do(ctx, "GET", "/api/v3/jobs?status=ACCEPTED&status=RESOLVED&status=CLAIMED&status=INIT&status=RUNNING&size=1", nil, &active)
		if active.Page.TotalElements == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	var ok, bad page
	c.Do(ctx, "GET", "/api/v3/jobs?status=SUCCEEDED&size=1", nil, &ok)
	c.Do(ctx, "GET", "/api/v3/jobs?status=FAILED&status=KILLED&status=INVALID&size=1", nil, &bad)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	sort.Ints(running)
	fmt.Printf("%d submissions in %s from %d clients: %.1f/s (%d refused; first: %v)\n", len(lat), elapsed.Round(time.Millisecond),
		clients, float64(len(lat))/elapsed.Seconds(), failed.Load(), firstErr.Load())
	fmt.Printf("submission latency: p50 %s  p99 %s  max %s\n", q(lat, .5), q(lat, .99), q(lat, 1))
	if len(running) > 0 {
		fmt.Printf("jobs RUNNING at once (sampled each second): median %d, max %d\n", running[len(running)/2], running[len(running)-1])
	}
	if srv != nil {
		fmt.Printf("server CPU while submitting (the serve process and its jobs, /proc): %.2f cores\n", (cpu1-cpu0).Seconds()/elapsed.Seconds())
	}
	fmt.Printf("outcomes: %d SUCCEEDED, %d FAILED/KILLED/INVALID, %d still active\n", ok.Page.TotalElements, bad.Page.TotalElements,
		active.Page.TotalElements)
	return nil
}

func q(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p * float64(len(d)-1))
	return d[i].Round(100 * time.Microsecond)
}

// cpuTime is the CPU time of the server process and its reaped children
// (the jobs it ran), from /proc; 0 without a local server.
func cpuTime(srv *benchserver.Server) time.Duration {
	if srv == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", srv.Pid()))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime is
	// the 14th field, stime 15th, cutime 16th, cstime 17th.
	s := string(b)
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ticks int64
	for _, f := range rest[11:15] {
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
