package alerting

import (
	"context"
	"math"
	"testing"
	"time"
)

// states lists the transitions' target states.
func states(ts []Transition) []State {
	out := make([]State, len(ts))
	for i, t := range ts {
		out[i] = t.To
	}
	return out
}

func TestThresholdForAndResolve(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	// errors is 1 but 5 for minutes 100–119.
	d, _ := testData(t, end, 180, testSeries{[]string{"__name__", "errors", "job", "api"}, func(m int) float64 {
		if m >= 100 && m < 120 {
			return 5
		}
		return 1
	}})
	start := end.Add(-179 * time.Minute)
	r := mustCompile(t, Spec{Name: "HighErrors", PromQL: `errors > 3`, For: Duration(5 * time.Minute),
		Labels: map[string]string{"severity": "page"}, Annotations: map[string]string{"summary": "{{ $labels.job }} at {{ $value }}"}})
	ts, rs := run(t, r, d, start, end)
	got := states(ts)
	want := []State{StatePending, StateFiring, StateResolved}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("transitions %v, want %v", got, want)
	}
	if d := ts[1].At.Sub(ts[0].At); d != 5*time.Minute {
		t.Errorf("fired %s after pending, want 5m", d)
	}
	if at := ts[0].At.Sub(start); at != 100*time.Minute {
		t.Errorf("pending at minute %v, want 100", at.Minutes())
	}
	for _, a := range rs.alerts {
		if a.Labels["alertname"] != "HighErrors" || a.Labels["severity"] != "page" || a.Labels["job"] != "api" {
			t.Errorf("labels %v", a.Labels)
		}
		if a.Annotations["summary"] != "api at 5" {
			t.Errorf("annotation %q", a.Annotations["summary"])
		}
	}
	// The chart shows the left side with the threshold above it.
	c, err := r.Chart(context.Background(), d, start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Series) != 1 || c.Series[0].Upper[0] != 3 || c.Series[0].Values[0] != 1 || !c.Series[0].Breach[105] || c.Series[0].Breach[99] {
		t.Errorf("chart %+v", c.Series)
	}
}

func TestAtlasExpressionAndRollingCount(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	// Spikes at every fourth minute of 100–139, then five in a row.
	d, _ := testData(t, end, 180, testSeries{[]string{"__name__", "cpu", "app", "www"}, func(m int) float64 {
		if (m >= 100 && m < 140 && m%4 == 0) || (m >= 150 && m < 155) {
			return 90
		}
		return 10
	}})
	start := end.Add(-179 * time.Minute)
	plain := mustCompile(t, Spec{Name: "Cpu", Atlas: "name,cpu,:eq,:max,80,:gt"})
	ts, _ := run(t, plain, d, start, end)
	if n := len(ts); n < 20 {
		t.Errorf("plain rule: %d transitions, want one per spike", n)
	}
	damped := mustCompile(t, Spec{Name: "Cpu", Atlas: "name,cpu,:eq,:max", Condition: &Condition{
		Threshold: &Threshold{Op: ">", Value: 80}, RollingCount: &RollingCount{N: 3, M: 5}}})
	ts, _ = run(t, damped, d, start, end)
	got := states(ts)
	if len(got) != 3 || got[0] != StatePending || got[1] != StateFiring || got[2] != StateResolved {
		t.Fatalf("damped transitions %v, want one alert for the run of five", got)
	}
	// Atlas's value at t is the last complete minute: 3 of the 5 spikes
	// (150, 151, 152) are seen at 153.
	if at := ts[0].At.Sub(start); at != 153*time.Minute {
		t.Errorf("damped alert active at minute %v, want 153", at.Minutes())
	}
}

func TestDESBand(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	d, _ := testData(t, end, 600, testSeries{[]string{"__name__", "rps", "job", "web"}, func(m int) float64 {
		v := 1000 + 200*math.Sin(2*math.Pi*float64(m)/600) + float64(m%7)
		if m >= 500 && m < 530 {
			v *= 0.3 // traffic drop
		}
		return v
	}})
	start := end.Add(-599 * time.Minute)
	r := mustCompile(t, Spec{Name: "TrafficDrop", PromQL: "rps", Condition: &Condition{
		DES: &DESBand{Preset: "sdes-slower", MaxPercent: 0.2, Direction: "below"}}})
	ts, _ := run(t, r, d, start.Add(400*time.Minute), end)
	if len(ts) < 2 || ts[0].To != StatePending || ts[1].To != StateFiring {
		t.Fatalf("transitions %v, want the drop to fire", states(ts))
	}
	if at := ts[0].At.Sub(start).Minutes(); at < 500 || at > 503 {
		t.Errorf("pending at minute %v, want 500", at)
	}
	c, err := r.Chart(context.Background(), d, end.Add(-3*time.Hour), end)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Series[0]
	if s.Lower == nil || s.Upper != nil || s.Baseline == nil || math.IsNaN(s.Lower[0]) {
		t.Errorf("band: lower %v upper %v", s.Lower != nil, s.Upper != nil)
	}
}

func TestCompareWithYesterday(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	day := 1440
	d, _ := testData(t, end, day+200, testSeries{[]string{"__name__", "latency"}, func(m int) float64 {
		v := 0.1 + 0.05*math.Sin(2*math.Pi*float64(m)/float64(day))
		if m >= day+100 && m < day+150 {
			v *= 3
		}
		return v
	}})
	start := end.Add(-time.Duration(day+199) * time.Minute)
	r := mustCompile(t, Spec{Name: "Slow", PromQL: "latency", Condition: &Condition{
		Compare: &Compare{Offset: Duration(24 * time.Hour), Ratio: 2}}})
	ts, _ := run(t, r, d, start.Add(time.Duration(day)*time.Minute), end)
	got := states(ts)
	if len(got) != 3 || got[1] != StateFiring || ts[0].At.Sub(start) != time.Duration(day+100)*time.Minute {
		t.Fatalf("transitions %v at %v", got, ts)
	}
}

func TestChangePointOnset(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	d, _ := testData(t, end, 300, testSeries{[]string{"__name__", "queue"}, func(m int) float64 {
		v := 50 + 4*noise(m)
		if m >= 250 {
			v += 40
		}
		return v
	}})
	start := end.Add(-299 * time.Minute)
	r := mustCompile(t, Spec{Name: "QueueJump", PromQL: "queue", Condition: &Condition{
		ChangePoint: &ChangeOnset{Window: Duration(2 * time.Hour), Hold: Duration(10 * time.Minute), Direction: "up"}}})
	ts, _ := run(t, r, d, start.Add(200*time.Minute), end)
	got := states(ts)
	if len(got) != 3 || got[1] != StateFiring || got[2] != StateResolved {
		t.Fatalf("transitions %v, want one alert while the change is recent", got)
	}
	if at := ts[0].At.Sub(start).Minutes(); at < 250 || at > 256 {
		t.Errorf("onset seen at minute %v, want at most a few minutes after 250", at)
	}
	if held := ts[2].At.Sub(ts[0].At); held > 11*time.Minute {
		t.Errorf("held %s, want at most the hold of 10m", held)
	}
}

func TestRuntimeErrorIsTheRulesOwn(t *testing.T) {
	end := time.Now().Truncate(time.Minute)
	d, _ := testData(t, end, 10, testSeries{[]string{"__name__", "x"}, func(int) float64 { return 1 }})
	// Parses, but fails at run time: many-to-many matching.
	r := mustCompile(t, Spec{Name: "Bad", PromQL: `x + on() group_left vector(1) + on() {__name__=~"x|y"}`})
	if _, err := r.Evaluate(context.Background(), d, end); err == nil {
		t.Log("expression evaluated; the error test relies on the store")
	}
	if _, err := r.Evaluate(context.Background(), Data{}, end); err == nil {
		t.Error("no store: no error")
	}
}

// noise is a deterministic value in [-1, 1) for m.
func noise(m int) float64 {
	z := uint64(m)*0x9e3779b97f4a7c15 + 0x5eed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return float64((z^(z>>31))>>11)/(1<<52) - 1
}
