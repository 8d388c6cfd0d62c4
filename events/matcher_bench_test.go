package events

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"cel.dev/cel-go/common/types"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// The rule-matching benchmarks run 1,000 rules shaped like an alert and
// deploy routing table, against events of which each matches at most
// five rules:
//
//	go test -run XXX -bench Match -benchmem ./events/
//
// BenchmarkMatchIndexed is the Matcher; BenchmarkMatchEveryRule evaluates
// every rule's program for every event, the plain loop the index replaces.
// Both report events/s of wall time and events/cpu-s, events per second of
// the process's CPU time (GC included), which other processes on a shared
// machine do not inflate: with one goroutine it is the rate per core.

func benchRules(b testing.TB) []*compiledRule {
	var rules []*compiledRule
	add := func(cond string) { rules = append(rules, mustRule(b, fmt.Sprint("r", len(rules)), cond)) }
	sev := []string{"critical", "warning", "info"}
	for i := 0; i < 600; i++ {
		add(fmt.Sprintf(`type == "gaffer.alerting.firing" && data.service == "svc%d" && data.severity == %q`, i/3, sev[i%3]))
	}
	for i := 0; i < 200; i++ {
		add(fmt.Sprintf(`source == "/clusters/c%d" && type.startsWith("gaffer.deploy.")`, i))
	}
	for i := 0; i < 100; i++ {
		add(fmt.Sprintf(`type in ["com.example.t%d", "com.example.u%d"]`, i, i))
	}
	for i := 0; i < 95; i++ {
		add(fmt.Sprintf(`data.region == "r%d" && data.value > 50.0`, i))
	}
	for i := 0; i < 5; i++ {
		add(fmt.Sprintf(`has(data.value) && data.value >= %d.0 && data.value < %d.0`, 90+2*i, 92+2*i))
	}
	return rules
}

func benchEvents(n int) []*bus.Event {
	rng := rand.New(rand.NewPCG(7, 8))
	sev := []string{"critical", "warning", "info"}
	out := make([]*bus.Event, n)
	for i := range out {
		var ev *bus.Event
		data := map[string]any{"value": rng.Float64() * 100, "region": fmt.Sprintf("r%d", rng.IntN(120))}
		switch rng.IntN(4) {
		case 0, 1:
			data["service"] = fmt.Sprintf("svc%d", rng.IntN(250))
			data["severity"] = sev[rng.IntN(3)]
			data["summary"] = "error rate above 5% for 10 minutes"
			ev = testEvent("gaffer.alerting.firing", "/alerting", "")
		case 2:
			data["version"] = "v1.2.3"
			ev = testEvent("gaffer.deploy.finished", fmt.Sprintf("/clusters/c%d", rng.IntN(250)), "")
		default:
			ev = testEvent(fmt.Sprintf("com.example.t%d", rng.IntN(120)), "/orders", "")
		}
		ev.Data, _ = json.Marshal(data)
		ev.ID = fmt.Sprint("ev", i)
		out[i] = ev
	}
	return out
}

func BenchmarkMatchIndexed(b *testing.B) {
	m := newMatcher(benchRules(b))
	evs := benchEvents(4096)
	var act activation
	var dst []*compiledRule
	maxMatched := 0
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUSeconds()
	for i := 0; i < b.N; i++ {
		act.reset(evs[i%len(evs)], now)
		dst = m.Match(&act, dst[:0])
		maxMatched = max(maxMatched, len(dst))
	}
	b.StopTimer()
	reportRates(b, processCPUSeconds()-cpu)
	if maxMatched > 5 {
		b.Fatalf("an event matched %d rules; the benchmark promises at most 5", maxMatched)
	}
}

func BenchmarkMatchEveryRule(b *testing.B) {
	rules := benchRules(b)
	evs := benchEvents(4096)
	var act activation
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUSeconds()
	for i := 0; i < b.N; i++ {
		act.reset(evs[i%len(evs)], now)
		for _, r := range rules {
			if out, err := r.cond.prg.Eval(context.Background(), &act); err == nil && out == types.True {
				_ = r
			}
		}
	}
	b.StopTimer()
	reportRates(b, processCPUSeconds()-cpu)
}

func reportRates(b *testing.B, cpuSeconds float64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpuSeconds > 0 {
		b.ReportMetric(float64(b.N)/cpuSeconds, "events/cpu-s")
	}
}

// TestBenchmarkWorkload checks the benchmark's promise that no event
// matches more than five rules, and that the index agrees with the loop.
func TestBenchmarkWorkload(t *testing.T) {
	rules := benchRules(t)
	m := newMatcher(rules)
	if s := m.Stats(); s.Always != 5 {
		t.Fatalf("index stats %+v: want the 5 unindexable rules evaluated for every event", s)
	}
	total, most := 0, 0
	for _, ev := range benchEvents(2000) {
		var act activation
		act.reset(ev, time.Now())
		n := len(m.Match(&act, nil))
		total += n
		most = max(most, n)
		want := 0
		for _, r := range rules {
			act.reset(ev, time.Now())
			if out, err := r.cond.prg.Eval(context.Background(), &act); err == nil && out == types.True {
				want++
			}
		}
		if n != want {
			t.Fatalf("event %s %s: index matched %d rules, evaluating all matched %d", ev.Type, ev.Data, n, want)
		}
	}
	if most > 5 || total == 0 {
		t.Fatalf("events matched at most %d rules, %d in all; want 1..5", most, total)
	}
	t.Logf("%d matches over 2000 events, at most %d per event", total, most)
}
