package exercise

import (
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
)

// Synthetic is the demand of an exercise's geographies.
type Synthetic struct {
	Seed uint64         `json:"seed"`
	Geos map[string]Geo `json:"geos"`
}

// Geo is one geography's synthetic demand: Base units/s on average, a
// daily sine peaking at Peak (hour, UTC) of relative Amplitude, weekends
// 10% higher, a Trend per day (relative, from the Unix epoch's day of the
// exercise) and uniform noise of relative size Noise per 5 minutes.
type Geo struct {
	Base      float64 `json:"base"`
	Peak      float64 `json:"peak"`
	Amplitude float64 `json:"amplitude"`
	Trend     float64 `json:"trend"`
	Noise     float64 `json:"noise"`
}

// trendOrigin anchors the trend so that demand does not depend on when
// the history starts.
var trendOrigin = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Demand returns geo's demand at t (0 for an unknown geography).
func (s *Synthetic) Demand(geo string, t time.Time) float64 {
	g, ok := s.Geos[geo]
	if !ok {
		return 0
	}
	hour := float64(t.Unix()%86400) / 3600
	daily := 1 + g.Amplitude*math.Cos(2*math.Pi*(hour-g.Peak)/24)
	weekly := 1.0
	if wd := t.UTC().Weekday(); wd == time.Saturday || wd == time.Sunday {
		weekly = 1.1
	}
	days := t.Sub(trendOrigin).Hours() / 24
	trend := math.Max(0.2, 1+g.Trend*days)
	slot := int(t.Unix() / 300)
	noise := 1 + g.Noise*(2*rng{seed: s.Seed}.unit(geo, slot)-1)
	return g.Base * daily * weekly * trend * noise
}

// History returns geo's demand every step in [from, to).
func (s *Synthetic) History(geo string, from, to time.Time, step time.Duration) []plan.Sample {
	var out []plan.Sample
	for t := from; t.Before(to); t = t.Add(step) {
		out = append(out, plan.Sample{T: t, V: s.Demand(geo, t)})
	}
	return out
}

// Forecasts fits each geography's forecast on the two weeks before now.
func (s *Synthetic) Forecasts(now time.Time, step time.Duration) map[string]*plan.Forecast {
	out := map[string]*plan.Forecast{}
	from := now.Add(-14 * 24 * time.Hour).Truncate(step)
	for geo := range s.Geos {
		if f, err := plan.Fit(s.History(geo, from, now, step), step); err == nil {
			out[geo] = f
		}
	}
	return out
}

// rng draws reproducible numbers for named quantities.
type rng struct{ seed uint64 }

func (r rng) unit(key string, n int) float64 { return sim.Draw(r.seed, key, 0, n) }

func (r rng) uniform(lo, hi float64, key string, n int) float64 {
	return lo + (hi-lo)*r.unit(key, n)
}

func (r rng) logUniform(lo, hi float64, key string, n int) float64 {
	return math.Exp(r.uniform(math.Log(lo), math.Log(hi), key, n))
}
