package remediation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/remediation"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// hooks records step starts and execution ends.
type hooks struct {
	mu       sync.Mutex
	starts   map[string][]time.Time // execution -> step start times
	done     map[string]chan string
	firstKey map[string]time.Time
}

func newHooks(s *server) *hooks {
	h := &hooks{starts: map[string][]time.Time{}, done: map[string]chan string{}, firstKey: map[string]time.Time{}}
	remediation.SetHooks(s.svc(), func(id, key string, at time.Time) {
		h.mu.Lock()
		h.starts[id] = append(h.starts[id], at)
		h.mu.Unlock()
	}, func(id, status string) {
		h.wait(id) <- status
	})
	return h
}

func (h *hooks) wait(id string) chan string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.done[id]
	if c == nil {
		c = make(chan string, 1)
		h.done[id] = c
	}
	return c
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func benchServer(b *testing.B, args ...string) *server { return start(b, args...) }

// BenchmarkChain10 runs a chain of ten no-op steps per iteration: the
// time from start to end, and the engine's overhead per transition (from
// one step's start to the next one's).
func BenchmarkChain10(b *testing.B) {
	s := benchServer(b)
	h := newHooks(s)
	var src strings.Builder
	src.WriteString("name: chain10\nsteps:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&src, "  - {name: s%d, type: noop, output: %d}\n", i, i)
	}
	s.apply(src.String())
	ctx := context.Background()
	var totals, transitions []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		ex, err := s.svc().StartRun(ctx, remediation.StartRequest{Runbook: "chain10", Trigger: remediation.Trigger{Kind: "test"}})
		if err != nil {
			b.Fatal(err)
		}
		if st := <-h.wait(ex.ID); st != "succeeded" {
			b.Fatalf("execution %s", st)
		}
		totals = append(totals, time.Since(t0))
		h.mu.Lock()
		st := h.starts[ex.ID]
		for j := 1; j < len(st); j++ {
			transitions = append(transitions, st[j].Sub(st[j-1]))
		}
		h.mu.Unlock()
	}
	b.StopTimer()
	b.ReportMetric(ms(quantile(totals, 0.5)), "chain-p50-ms")
	b.ReportMetric(ms(quantile(totals, 0.99)), "chain-p99-ms")
	b.ReportMetric(ms(quantile(transitions, 0.5)), "transition-p50-ms")
	b.ReportMetric(ms(quantile(transitions, 0.99)), "transition-p99-ms")
}

// BenchmarkEventToFirstStep publishes an event that a rule routes to a
// runbook, and measures until the runbook's first step starts.
func BenchmarkEventToFirstStep(b *testing.B) {
	s := benchServer(b)
	h := newHooks(s)
	s.apply("name: on-event\nsteps:\n  - {name: first, type: noop}\n")
	rule := map[string]any{"name": "bench", "condition": `type == "bench.alert"`,
		"actions": []map[string]any{{"type": "runbook", "runbook": "on-event", "params": `{"n": data.n}`}}}
	if r := s.Do("POST", "/api/v1/events/rules", s.token, rule); r.Status != 201 {
		b.Fatalf("rule: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := h.count()
		t0 := time.Now()
		ev := &bus.Event{Type: "bench.alert", Source: "/bench", Data: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i))}
		if _, err := s.Deps().Bus.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
		first := h.waitCount(before + 1)
		lat = append(lat, first.Sub(t0))
	}
	b.StopTimer()
	b.ReportMetric(ms(quantile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(quantile(lat, 0.99)), "p99-ms")
}

func (h *hooks) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.starts {
		n += len(s)
	}
	return n
}

// waitCount waits until n steps have started and returns the latest start.
func (h *hooks) waitCount(n int) time.Time {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		var latest time.Time
		c := 0
		for _, s := range h.starts {
			c += len(s)
			for _, t := range s {
				if t.After(latest) {
					latest = t
				}
			}
		}
		h.mu.Unlock()
		if c >= n {
			return latest
		}
		time.Sleep(200 * time.Microsecond)
	}
	panic("no step started within 30s")
}

// BenchmarkFanOut1000Agents runs a no-op action on 1,000 connected
// agents (in this process, each with its own token and NATS connection).
func BenchmarkFanOut1000Agents(b *testing.B) {
	n := 1000
	if v := os.Getenv("GAFFER_BENCH_AGENTS"); v != "" {
		fmt.Sscan(v, &n)
	}
	s := benchServer(b, "--remediation-agent-heartbeat", "5s")
	h := newHooks(s)
	dir := b.TempDir()
	copyDir(b, "../examples/actions/noop", filepath.Join(dir, "noop"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-%04d", i)
		a, err := agent.New(ctx, agent.Config{Server: s.URL, Token: s.agentToken(name), ActionsDir: dir,
			Tags: map[string]string{"role": "bench"}, Hostname: name, Log: quiet})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var page struct{ Items []remediation.AgentInfo }
		s.Do("GET", "/api/v1/remediation/agents", s.token, nil).JSON(b, &page)
		online := 0
		for _, a := range page.Items {
			if a.State == "online" {
				online++
			}
		}
		if online == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d agents online", online, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.apply(fmt.Sprintf("name: fan\nsteps:\n  - name: all\n    type: agent\n    action: noop\n    targets: {tags: {role: bench}, concurrency: %d}\n", n))
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		ex, err := s.svc().StartRun(context.Background(), remediation.StartRequest{Runbook: "fan", Trigger: remediation.Trigger{Kind: "test"}})
		if err != nil {
			b.Fatal(err)
		}
		if st := <-h.wait(ex.ID); st != "succeeded" {
			b.Fatalf("fan-out %s: %s", st, s.exec(ex.ID).Error)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "agents")
	b.ReportMetric(ms(quantile(took, 0.5))/1000, "fanout-p50-s")
	b.ReportMetric(ms(quantile(took, 1))/1000, "fanout-max-s")
	cancel()
	wg.Wait()
}

// BenchmarkStoreOutput8MB records an 8 MB step output (and the
// transition after it): the time of the call that stores it.
func BenchmarkStoreOutput8MB(b *testing.B) {
	s := benchServer(b)
	s.apply("name: big\nsteps:\n  - {name: wait, type: sleep, duration: 1h}\n  - {name: after, type: noop}\n")
	blob := strings.Repeat("0123456789abcdef", (8<<20-64)/16)
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := s.run("big", nil)
		for step(s.exec(id), "wait") == nil || step(s.exec(id), "wait").Status != "waiting" {
			time.Sleep(5 * time.Millisecond)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := remediation.FinishStep(s.svc(), id, "wait", 1, map[string]any{"blob": blob}); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(ms(quantile(took, 0.5)), "store-p50-ms")
	b.ReportMetric(ms(quantile(took, 0.99)), "store-p99-ms")
}
