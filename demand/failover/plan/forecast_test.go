package plan_test

import (
	"math"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
)

// truth is a daily cycle with a trend, weekends 20% higher.
func truth(t time.Time) float64 {
	h := float64(t.Unix()%86400) / 3600
	days := t.Sub(noon).Hours() / 24
	v := 1000 * (1 + 0.4*math.Sin(2*math.Pi*(h-14)/24)) * (1 + 0.01*days)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		v *= 1.2
	}
	return v
}

func history(from, to time.Time, step time.Duration, f func(time.Time) float64) []plan.Sample {
	var out []plan.Sample
	for t := from; t.Before(to); t = t.Add(step) {
		out = append(out, plan.Sample{T: t, V: f(t)})
	}
	return out
}

func TestFitFollowsProfileTrendAndWeekday(t *testing.T) {
	step := 5 * time.Minute
	samples := history(noon.Add(-21*24*time.Hour), noon, step, truth)
	// An incident in the history: the median ignores it.
	for i := 1000; i < 1010; i++ {
		samples[i].V *= 0.2
	}
	fc, err := plan.Fit(samples, step)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for d := time.Duration(0); d < 48*time.Hour; d += 17 * time.Minute {
		at := noon.Add(d)
		worst = math.Max(worst, math.Abs(fc.At(at)/truth(at)-1))
	}
	if worst > 0.04 {
		t.Errorf("forecast off by up to %.1f%% over the next two days", worst*100)
	}
	if fc.Slope <= 0 {
		t.Errorf("trend %v, want rising", fc.Slope)
	}
	peak := fc.Peak(noon, noon.Add(6*time.Hour))
	if peak < fc.At(noon) || peak < fc.At(noon.Add(2*time.Hour)) {
		t.Errorf("peak %v below a forecast in the window", peak)
	}
}

func TestFitNeedsADay(t *testing.T) {
	if _, err := plan.Fit(history(noon, noon.Add(6*time.Hour), time.Minute, truth), time.Minute); err == nil {
		t.Error("six hours of history accepted")
	}
	if _, err := plan.Fit(nil, 7*time.Minute); err == nil {
		t.Error("a step that does not divide a day accepted")
	}
}

func TestStatic(t *testing.T) {
	hourly := make([]float64, 24)
	for i := range hourly {
		hourly[i] = 1
	}
	hourly[20] = 2
	f := plan.Static(100, hourly)
	if got := f.At(time.Date(2026, 1, 1, 20, 30, 0, 0, time.UTC)); got != 200 {
		t.Errorf("20:30 = %v, want 200", got)
	}
	if got := f.At(time.Date(2026, 1, 1, 3, 30, 0, 0, time.UTC)); got != 100 {
		t.Errorf("03:30 = %v, want 100", got)
	}
	if got := plan.Static(50, nil).Peak(noon, noon.Add(time.Hour)); got != 50 {
		t.Errorf("flat peak = %v", got)
	}
}
