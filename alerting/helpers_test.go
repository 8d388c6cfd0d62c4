package alerting

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// testSeries is one stored series: its labels and its value at each
// minute from the start (NaN for none).
type testSeries struct {
	labels []string
	value  func(minute int) float64
}

// testData stores the series, one sample a minute for minutes minutes
// ending at end, in a real metrics system, and returns rule data over
// it.
func testData(t testing.TB, end time.Time, minutes int, ss ...testSeries) (Data, *metrics.Service) {
	t.Helper()
	svc, err := metrics.New(context.Background(), &platform.Deps{Log: slog.New(slog.DiscardHandler), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	m := svc.(*metrics.Service)
	t.Cleanup(func() { m.Stop(context.Background()) })
	start := end.Add(-time.Duration(minutes-1) * time.Minute)
	db := m.DB()
	for from := 0; from < minutes; from += 60 {
		app := db.Appender()
		for _, s := range ss {
			ls := tsdb.FromStrings(s.labels...)
			for k := from; k < min(from+60, minutes); k++ {
				v := s.value(k)
				if v != v {
					continue
				}
				if _, err := app.Append(0, ls, start.Add(time.Duration(k)*time.Minute).UnixMilli(), v); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return Data{Prom: m, Atlas: stack.TSDBSource{DB: db}}, m
}

func mustCompile(t testing.TB, s Spec) *Rule {
	t.Helper()
	r, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	r.ID = "r1"
	return r
}

// run evaluates r at every interval from from to to and returns the
// transitions.
func run(t testing.TB, r *Rule, d Data, from, to time.Time) ([]Transition, *ruleState) {
	t.Helper()
	rs := newRuleState()
	var out []Transition
	for at := query.AlignDown(from, r.every); !at.After(to); at = at.Add(r.every) {
		ss, err := r.Evaluate(context.Background(), d, at)
		if err != nil {
			t.Fatalf("evaluate at %s: %v", at, err)
		}
		out = append(out, rs.apply(context.Background(), r, ss, at, expander{query: d.Prom})...)
	}
	return out, rs
}
