// Command failover-bench runs failover exercises against a real `gaffer
// serve` and reports, for each fleet size with and without dark
// capacity, the simulated evacuation time, the planning time and the
// control plane's wall time, and the latency of API calls made while the
// executions run.
//
//	go run ./bench/failover [-seeds 3] [-sizes 500,1000]
//	go run ./bench/failover -server http://127.0.0.1:7070 -token-file gaffer-data/admin.token
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve --roles
// failover` on a fresh data directory (SQLite and the embedded NATS,
// default settings).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

func main() {
	target := benchserver.TargetFlags(flag.CommandLine)
	seeds := flag.Int("seeds", 3, "exercises per configuration, seeds 1 to n")
	sizes := flag.String("sizes", "500,1000", "clusters per region, comma-separated")
	regions := flag.Int("regions", 3, "regions")
	flag.Parse()
	if err := run(target, *seeds, *sizes, *regions); err != nil {
		fmt.Fprintln(os.Stderr, "failover-bench:", err)
		os.Exit(1)
	}
}

type exercise struct {
	ID          string `json:"id"`
	ExecutionID string `json:"execution_id"`
	Report      *struct {
		Evacuated           bool    `json:"evacuated"`
		SimulatedSeconds    float64 `json:"simulated_seconds"`
		PlanSeconds         float64 `json:"plan_seconds"`
		ControlPlaneSeconds float64 `json:"control_plane_seconds"`
		Goal                struct {
			Met bool `json:"met"`
		} `json:"goal"`
		Fleet struct {
			Instances int `json:"instances"`
			Dark      int `json:"dark_instances"`
		} `json:"fleet"`
	} `json:"report"`
}

func run(target *cli.ClientFlags, seeds int, sizes string, regions int) error {
	c, srv, err := benchserver.Connect(target, os.Stderr, "--roles", "failover", "--nats-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Stop()
	ctx := context.Background()
	idle := probe(ctx, c, 300, nil)
	fmt.Printf("API idle: GET execution list p50 %v, p99 %v (%d calls)\n\n", idle.pct(50), idle.pct(99), len(idle))
	fmt.Println("| regions × clusters | dark | evacuated | simulated (min) | planning (s) | control plane (s) | goal met | API p50 / p99 / max during (calls) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("sizes: %w", err)
		}
		for _, dark := range []bool{true, false} {
			for seed := 1; seed <= seeds; seed++ {
				var x exercise
				done := make(chan struct{})
				var lat latencies
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); lat = probe(ctx, c, 0, done) }()
				err := c.Do(ctx, "POST", "/api/v1/failover/exercises", map[string]any{"regions": regions, "clusters": n, "dark": dark,
					"seed": seed, "evacuate": "us-east-1", "provider": "simulator"}, &x)
				for err == nil && x.Report == nil {
					time.Sleep(20 * time.Millisecond)
					err = c.Do(ctx, "GET", "/api/v1/failover/exercises/"+x.ID, nil, &x)
				}
				close(done)
				wg.Wait()
				if err != nil {
					return err
				}
				r := x.Report
				fmt.Printf("| %d × %d (seed %d) | %v | %v | %.2f | %.3f | %.2f | %v | %v / %v / %v (%d) |\n", regions, n, seed, dark,
					r.Evacuated, r.SimulatedSeconds/60, r.PlanSeconds, r.ControlPlaneSeconds, r.Goal.Met,
					lat.pct(50), lat.pct(99), lat.pct(100), len(lat))
			}
		}
	}
	return nil
}

type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i].Round(100 * time.Microsecond)
}

// probe lists executions n times, or until done closes.
func probe(ctx context.Context, c *cli.Client, n int, done chan struct{}) latencies {
	var out latencies
	for i := 0; n == 0 || i < n; i++ {
		if done != nil {
			select {
			case <-done:
				return out
			default:
			}
		}
		start := time.Now()
		if err := c.Do(ctx, "GET", "/api/v1/failover/executions?limit=20", nil, nil); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			return out
		}
		out = append(out, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	return out
}
