// Command remediation-bench measures runbooks end to end against a real
// `gaffer serve`: CloudEvents are POSTed to /api/v1/events one at a time; a
// rule's runbook action starts a runbook of ten no-op steps; the delay from
// each POST to the first step's start (as the execution records it) and to
// the execution's end is reported.
//
//	go run ./bench/remediation [-events 200]
//	go run ./bench/remediation -server http://127.0.0.1:7070 -token-file gaffer-data/admin.token
//
// Without -server it builds ./cmd/gaffer and runs `gaffer serve` on a
// fresh data directory (SQLite and the embedded NATS, default settings).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/bench/internal/benchserver"
	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

func main() {
	target := benchserver.TargetFlags(flag.CommandLine)
	events := flag.Int("events", 200, "events to send, one at a time")
	flag.Parse()
	if err := run(target, *events); err != nil {
		fmt.Fprintln(os.Stderr, "remediation-bench:", err)
		os.Exit(1)
	}
}

func run(target *cli.ClientFlags, n int) error {
	c, srv, err := benchserver.Connect(target, io.Discard, "--nats-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Stop()
	ctx := context.Background()
	var src strings.Builder
	src.WriteString("name: bench-chain\nsteps:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&src, "  - {name: s%d, type: noop}\n", i)
	}
	if err := c.DoRaw(ctx, "POST", "/api/v1/remediation/runbooks", "application/yaml", []byte(src.String()), nil); err != nil {
		return err
	}
	rule := map[string]any{"name": fmt.Sprintf("bench %d", time.Now().UnixNano()), "condition": `type == "bench.remediation"`,
		"actions": []map[string]any{{"type": "runbook", "runbook": "bench-chain"}}}
	if err := c.Do(ctx, "POST", "/api/v1/events/rules", rule, nil); err != nil {
		return err
	}
	var first, total, created []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		ev, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": fmt.Sprintf("b-%d-%d", t0.UnixNano(), i),
			"source": "/bench", "type": "bench.remediation"})
		if err := c.DoRaw(ctx, "POST", "/api/v1/events", "application/cloudevents+json", ev, nil); err != nil {
			return err
		}
		cr, f, t, err := await(ctx, c, t0)
		if err != nil {
			return err
		}
		created, first, total = append(created, cr), append(first, f), append(total, t)
	}
	fmt.Printf("%d events, one at a time; runbook of 10 no-op steps\n", n)
	fmt.Printf("event POSTed -> execution created:  p50 %s  p99 %s  max %s\n", q(created, .5), q(created, .99), q(created, 1))
	fmt.Printf("event POSTed -> first step started: p50 %s  p99 %s  max %s\n", q(first, .5), q(first, .99), q(first, 1))
	fmt.Printf("event POSTed -> execution ended:    p50 %s  p99 %s  max %s\n", q(total, .5), q(total, .99), q(total, 1))
	return nil
}

// await waits for the execution started after t0 to end and returns the
// delays to its creation, its first step's start and its end (millisecond
// clock).
func await(ctx context.Context, c *cli.Client, t0 time.Time) (time.Duration, time.Duration, time.Duration, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var page struct {
			Items []struct {
				ID         string     `json:"id"`
				CreatedAt  time.Time  `json:"created_at"`
				FinishedAt *time.Time `json:"finished_at"`
			} `json:"items"`
		}
		if err := c.Do(ctx, "GET", "/api/v1/remediation/executions?runbook=bench-chain&limit=1", nil, &page); err != nil {
			return 0, 0, 0, err
		}
		if len(page.Items) == 1 && !page.Items[0].CreatedAt.Before(t0.Truncate(time.Millisecond)) && page.Items[0].FinishedAt != nil {
			var ex struct {
				Steps []struct {
					StartedAt *time.Time `json:"started_at"`
				} `json:"steps"`
			}
			if err := c.Do(ctx, "GET", "/api/v1/remediation/executions/"+page.Items[0].ID, nil, &ex); err != nil {
				return 0, 0, 0, err
			}
			if len(ex.Steps) == 0 || ex.Steps[0].StartedAt == nil {
				return 0, 0, 0, fmt.Errorf("execution %s has no started first step", page.Items[0].ID)
			}
			it := page.Items[0]
			return it.CreatedAt.Sub(t0), ex.Steps[0].StartedAt.Sub(t0), it.FinishedAt.Sub(t0), nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, 0, 0, fmt.Errorf("no execution ended within 30s")
}

func q(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(p*float64(len(s))))].Round(100 * time.Microsecond)
}
