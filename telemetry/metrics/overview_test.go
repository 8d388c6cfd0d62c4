package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// TestOverviewReportsTheIngestRate appends samples between readings of
// the overview on a manual clock: the rate is what was appended over the
// time the clock moved, since the start while that is shorter than five
// minutes and over the last five minutes after.
func TestOverviewReportsTheIngestRate(t *testing.T) {
	clock := clocktest.NewManual(clocktest.Base)
	svc, err := New(context.Background(), &platform.Deps{Log: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*Service)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	series := 0
	appendSamples := func(n int) {
		t.Helper()
		app := s.db.Appender()
		ts := clock.Now().UnixMilli()
		for range n {
			series++
			if _, err := app.Append(0, tsdb.FromStrings("__name__", "overview_test", "i", strconv.Itoa(series)), ts, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	figure := func() platform.Figure {
		t.Helper()
		panels, err := s.Overview(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(panels) != 1 || panels[0].Section != platform.SectionRates || len(panels[0].Figures) != 1 {
			t.Fatalf("want one rates panel with one figure, got %+v", panels)
		}
		return panels[0].Figures[0]
	}

	if f := figure(); f.Value != "–" || f.Label != "samples ingested (measuring)" {
		t.Fatalf("at start: %+v", f)
	}
	appendSamples(600)
	clock.Set(clocktest.Base.Add(time.Minute))
	if f := figure(); f.Value != "10.0/s" || f.Label != "samples ingested (last 1m0s)" {
		t.Fatalf("600 samples in a minute: %+v", f)
	}
	for minute := 2; minute <= 10; minute++ {
		appendSamples(120)
		clock.Set(clocktest.Base.Add(time.Duration(minute) * time.Minute))
		figure()
	}
	// The first minute's burst has left the window: 120 a minute is 2/s.
	if f := figure(); f.Value != "2.0/s" || f.Label != "samples ingested (last 5m0s)" {
		t.Fatalf("120 samples a minute for nine minutes: %+v", f)
	}
}

func TestRateMeterKeepsAtMostOneReadingASecond(t *testing.T) {
	var m rateMeter
	at := clocktest.Base
	for i := range 10_000 {
		m.observe(at.Add(time.Duration(i)*time.Millisecond), int64(i), time.Minute)
	}
	if len(m.readings) != 10 {
		t.Fatalf("10 s of readings every millisecond kept %d readings, want 10", len(m.readings))
	}
	perSec, span := m.observe(at.Add(10*time.Second), 10_000, time.Minute)
	if perSec != 1000 || span != 10*time.Second {
		t.Fatalf("rate %v over %s, want 1000/s over 10s", perSec, span)
	}
	// A counter that went backwards (a store reopened) starts afresh.
	if _, span := m.observe(at.Add(11*time.Second), 5, time.Minute); span != 0 {
		t.Fatalf("after a reset the span is %s, want 0", span)
	}
}
