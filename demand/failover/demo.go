package failover

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// The demo: stream starts per second from four client geographies served
// by three regions, with a daily cycle in each geography's time zone,
// weekends 15% busier and 3% noise, written to the metrics system as
// stream_starts_per_second{region, geo} every minute for the last eleven
// days: the latest incident can be three days old, and detection compares
// it with the same minute a week earlier. Every three days us-west-2 loses 70% of its stream starts for 30
// minutes, together with the metrics demo's playback incident there.
const (
	demoFleet     = "demo"
	demoMetric    = "stream_starts_per_second"
	demoDays      = 11
	demoPeriodMin = 3 * 24 * 60
	demoDropFrom  = 2500 // minute of the period (as in the metrics demo)
	demoDropTo    = 2530
	demoDrop      = 0.3
)

type demoGeo struct {
	name     string
	base     float64
	offset   float64 // hours from UTC
	steering map[string]float64
}

var demoGeos = []demoGeo{
	{"na-east", 900, -5, map[string]float64{"us-east-1": 1}},
	{"na-west", 600, -8, map[string]float64{"us-west-2": 1}},
	{"europe", 700, 1, map[string]float64{"eu-west-1": 1}},
	{"latam", 300, -3, map[string]float64{"us-east-1": 0.6, "us-west-2": 0.4}},
}

// demoServices: name, unit, demand factor, capacity per instance,
// start-up time.
var demoServices = []struct {
	name, unit string
	factor     float64
	capacity   float64
	startup    time.Duration
}{
	{"playback", "streams/s", 1, 12, 12 * time.Minute},
	{"api", "requests/s", 40, 900, 4 * time.Minute},
	{"web", "requests/s", 15, 600, 3 * time.Minute},
	{"search", "requests/s", 8, 500, 6 * time.Minute},
	{"license", "requests/s", 1.2, 40, 9 * time.Minute},
	{"drm", "requests/s", 1.1, 35, 20 * time.Minute},
}

func (g demoGeo) demand(t time.Time) float64 {
	local := math.Mod(float64(t.Unix())/3600+g.offset+48, 24)
	daily := 1 + 0.45*math.Cos(2*math.Pi*(local-21)/24)
	weekly := 1.0
	if wd := t.Add(time.Duration(g.offset * float64(time.Hour))).UTC().Weekday(); wd == time.Saturday || wd == time.Sunday {
		weekly = 1.15
	}
	noise := 1 + 0.03*(2*sim.Draw(7, g.name, 'd', int(t.Unix()/60))-1)
	return g.base * daily * weekly * noise
}

// demoValue is what region serves of geography g at minute m.
func demoValue(g demoGeo, region string, m int64) float64 {
	v := g.demand(time.Unix(m*60, 0)) * g.steering[region]
	if phase := m % demoPeriodMin; region == "us-west-2" && phase >= demoDropFrom && phase < demoDropTo {
		v *= demoDrop
	}
	return v
}

// demoSpec is the demo fleet: clusters sized for the busiest hour.
func demoSpec() *fleet.Fleet {
	f := &fleet.Fleet{Name: demoFleet,
		Regions: []fleet.Region{{Name: "us-east-1", MaxShare: 0.6}, {Name: "us-west-2", MaxShare: 0.6}, {Name: "eu-west-1", MaxShare: 0.6}},
		Demand: fleet.Demand{RegionMetric: "sum by (region) (" + demoMetric + ")", GeoMetric: "sum by (geo) (" + demoMetric + ")",
			History: fleet.Duration(7 * 24 * time.Hour)},
		Planning: fleet.Planning{ManageDark: true},
		Provider: fleet.Provider{Type: "simulator", Simulator: &fleet.Simulator{Seed: 42}}}
	peak := map[string]float64{}
	for _, g := range demoGeos {
		f.Geographies = append(f.Geographies, fleet.Geography{Name: g.name, Demand: g.base, Steering: g.steering})
		for r, w := range g.steering {
			peak[r] += g.base * 1.45 * 1.15 * w
		}
	}
	for _, s := range demoServices {
		svc := fleet.Service{Name: s.name, Unit: s.unit, DemandFactor: s.factor, Startup: fleet.Duration(s.startup)}
		for _, r := range f.Regions {
			size := int(math.Ceil(peak[r.Name] * s.factor * 1.1 / (s.capacity * 0.8)))
			svc.Clusters = append(svc.Clusters, fleet.Cluster{Region: r.Name, CapacityPerInstance: s.capacity, Size: size,
				Min: max(2, size/3), Max: size * 3})
		}
		f.Services = append(f.Services, svc)
	}
	return f
}

// LoadDemo implements platform.DemoLoader: the demo fleet and its demand
// history, the recommendation of the latest us-west-2 incident, a plan to
// evacuate us-west-2, and two small exercises (with and without dark
// capacity) whose timelines the UI shows.
func (s *Service) LoadDemo(ctx context.Context) error {
	fi, _, err := s.PutFleet(ctx, demoSpec(), KindFleet, "demo", "demo fleet", 0)
	if err != nil {
		return fmt.Errorf("failover demo: %w", err)
	}
	if m, ok := s.appender(); ok {
		now := s.now().Unix() / 60
		if err := s.appendDemo(ctx, m, now-demoDays*24*60, now); err != nil {
			return fmt.Errorf("failover demo: %w", err)
		}
		s.wg.Add(1)
		go s.demoLoop(m, now)
		if err := s.demoRecommendation(ctx, now); err != nil {
			s.log.Warn("failover demo: detection", "error", err)
		}
	}
	if fi.Version == 1 {
		if _, err := s.SizeDarkPools(ctx, demoFleet, "demo"); err != nil {
			s.log.Warn("failover demo: dark pools", "error", err)
		}
	}
	if ps, _, err := s.Plans(ctx, demoFleet, 0, 1); err == nil && len(ps) == 0 {
		if _, err := s.CreatePlan(ctx, PlanRequest{Fleet: demoFleet, Request: plan.Request{Evacuate: "us-west-2"}}, "demo"); err != nil {
			return fmt.Errorf("failover demo plan: %w", err)
		}
	}
	if xs, err := s.Exercises(ctx, 1); err == nil && len(xs) == 0 {
		for _, dark := range []bool{true, false} {
			if _, err := s.StartExercise(ctx, ExerciseRequest{Regions: 3, Clusters: 40, Dark: &dark, Seed: 7}, "demo"); err != nil {
				return fmt.Errorf("failover demo exercise: %w", err)
			}
		}
	}
	return nil
}

func (s *Service) appender() (metricsapi.Appender, bool) {
	a, err := metricsapi.From(s.deps)
	return a, err == nil
}

// appendDemo writes minutes [from, to] of demand, an hour per batch;
// samples the store refuses (older than it accepts, or there already)
// are skipped.
func (s *Service) appendDemo(ctx context.Context, m metricsapi.Appender, from, to int64) error {
	for start := from; start <= to; start += 60 {
		end := min(start+59, to)
		var batch []prom.TimeSeries
		for _, g := range demoGeos {
			for r := range g.steering {
				ts := prom.TimeSeries{Labels: tsdb.FromStrings(tsdb.MetricName, demoMetric, "geo", g.name, "region", r)}
				for minute := start; minute <= end; minute++ {
					ts.Samples = append(ts.Samples, prom.Sample{Timestamp: minute * 60_000, Value: demoValue(g, r, minute)})
				}
				batch = append(batch, ts)
			}
		}
		if _, err := m.Append(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) demoLoop(m metricsapi.Appender, last int64) {
	defer s.wg.Done()
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		now := s.now().Unix() / 60
		if now <= last {
			continue
		}
		if err := s.appendDemo(context.Background(), m, last+1, now); err != nil {
			s.log.Warn("failover demo: append", "error", err)
		}
		last = now
	}
}

// demoRecommendation runs detection ten minutes into the latest incident
// in the history, recording its recommendation (once).
func (s *Service) demoRecommendation(ctx context.Context, now int64) error {
	_, err := s.Detect(ctx, demoFleet, time.Unix(demoDetectAt(now)*60, 0), true)
	return err
}

// demoDetectAt is the minute, ten minutes into the latest demo incident
// that is at least ten minutes old at minute now, at which the demo runs
// detection.
func demoDetectAt(now int64) int64 {
	onset := now - ((now-demoDropFrom)%demoPeriodMin+demoPeriodMin)%demoPeriodMin
	if onset+10 > now {
		onset -= demoPeriodMin
	}
	return onset + 10
}
