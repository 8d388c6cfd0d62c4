// Command workflow-bench measures the workflow scheduler end to end
// against a real `gaffer serve`, through its API, with the server's own
// timestamps (milliseconds):
//
//   - threestep: a workflow of three NoOp steps started -runs times, one
//     at a time: instance created -> ended, and the client's start call
//     -> the end it observes (polling every 2 ms);
//
//   - cron: -workflows workflows whose Quartz cron fires every 20 s, all
//     at the same instant: each instance's creation after its time, for
//     -rounds firings.
//
//     go run ./bench/workflow [-only threestep,cron] [-runs 200] [-workflows 10000] [-rounds 2]
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve` on a
// fresh data directory (SQLite and the embedded NATS, default settings).
// Maestro, Airflow and Temporal cannot be installed on the project's
// machines, so their figures are the anchors (docs/benchmarks.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

func main() {
	target := benchserver.TargetFlags(flag.CommandLine)
	only := flag.String("only", "threestep,cron", "scenarios to run")
	runs := flag.Int("runs", 200, "threestep: instances, one at a time")
	workflows := flag.Int("workflows", 10000, "cron: workflows due at the same instant")
	rounds := flag.Int("rounds", 2, "cron: firings to measure")
	flag.Parse()
	if err := run(target, *only, *runs, *workflows, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "workflow-bench:", err)
		os.Exit(1)
	}
}

func run(target *cli.ClientFlags, only string, runs, workflows, rounds int) error {
	c, srv, err := benchserver.Connect(target, io.Discard, "--nats-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Stop()
	c = benchserver.Pooled(c, 8, time.Minute)
	ctx := context.Background()
	for _, s := range strings.Split(only, ",") {
		switch s {
		case "threestep":
			err = threeStep(ctx, c, runs)
		case "cron":
			err = cronFleet(ctx, c, workflows, rounds)
		default:
			err = fmt.Errorf("-only: unknown scenario %q", s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// instance is what the bench reads of an instance.
type instance struct {
	InstanceID int64      `json:"instance_id"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

func threeStep(ctx context.Context, c *cli.Client, runs int) error {
	def := `{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "bench-3", "steps": [
	  {"step": {"id": "a", "type": "NoOp", "transition": {"successors": {"b": "true"}}}},
	  {"step": {"id": "b", "type": "NoOp", "transition": {"successors": {"c": "true"}}}},
	  {"step": {"id": "c", "type": "NoOp"}}]}}`
	if err := c.DoRaw(ctx, "POST", "/api/v1/workflows?file=bench-3.json", "application/json", []byte(def), nil); err != nil {
		return err
	}
	var server, client []time.Duration
	for range runs {
		t0 := time.Now()
		var in instance
		if err := c.Do(ctx, "POST", "/api/v1/workflows/bench-3/instances", nil, &in); err != nil {
			return err
		}
		for in.FinishedAt == nil {
			if time.Since(t0) > 30*time.Second {
				return fmt.Errorf("instance %d did not end in 30 s", in.InstanceID)
			}
			if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workflows/bench-3/instances/%d", in.InstanceID), nil, &in); err != nil {
				return err
			}
			if in.FinishedAt == nil {
				time.Sleep(2 * time.Millisecond)
			}
		}
		if in.Status != "SUCCEEDED" {
			return fmt.Errorf("instance %d: %s", in.InstanceID, in.Status)
		}
		server = append(server, in.FinishedAt.Sub(in.CreatedAt))
		client = append(client, time.Since(t0))
	}
	fmt.Printf("threestep: %d instances of 3 NoOp steps, one at a time\n", runs)
	fmt.Printf("  created -> ended (server):      p50 %s  p99 %s  max %s\n", q(server, .5), q(server, .99), q(server, 1))
	fmt.Printf("  start call -> end seen (client): p50 %s  p99 %s  max %s\n", q(client, .5), q(client, .99), q(client, 1))
	return nil
}

func cronFleet(ctx context.Context, c *cli.Client, n, rounds int) error {
	t0 := time.Now()
	if err := parallel(n, func(i int) error {
		def := fmt.Sprintf(`{"properties": {"run_strategy": "parallel"}, "workflow": {"id": "cron-%d",
		  "time_triggers": [{"type": "CRON", "cron": "*/20 * * * * ? *", "timezone": "UTC"}],
		  "steps": [{"step": {"id": "a", "type": "NoOp"}}]}}`, i)
		return c.DoRaw(ctx, "POST", "/api/v1/workflows?file=cron.json", "application/json", []byte(def), nil)
	}); err != nil {
		return err
	}
	fmt.Printf("cron: applied %d workflows in %s; each fires every 20 s, all at the same instant\n", n, time.Since(t0).Round(time.Millisecond))
	// Wait for a firing after the last apply, then rounds more.
	for r := 0; r <= rounds; r++ {
		next := time.Now().Truncate(20 * time.Second).Add(20 * time.Second)
		time.Sleep(time.Until(next) + 5*time.Second)
		var mu sync.Mutex
		var late []time.Duration
		err := parallel(n, func(i int) error {
			var list []instance
			if err := c.Do(ctx, "GET", fmt.Sprintf("/api/v1/workflows/cron-%d/instances", i), nil, &list); err != nil {
				return err
			}
			// The list has no params: an instance created in the 20 s
			// after the firing is its instance (the next fires later).
			for _, in := range list {
				if d := in.CreatedAt.Sub(next); d >= 0 && d < 20*time.Second {
					mu.Lock()
					late = append(late, d)
					mu.Unlock()
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if r == 0 {
			continue // the first firing may meet the last applies
		}
		fmt.Printf("  firing %d (%s): %d of %d started; after their time p50 %s  p99 %s  max %s\n", r, next.Format("15:04:05"),
			len(late), n, q(late, .5), q(late, .99), q(late, 1))
	}
	return nil
}

// parallel runs f(0..n-1) on 8 goroutines and returns the first error.
func parallel(n int, f func(int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func q(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))].Round(time.Millisecond)
}
