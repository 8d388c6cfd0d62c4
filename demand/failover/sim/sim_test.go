package sim_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/demand/failover/sim"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// twoRegions: one service, 10 instances of capacity 10 in each region,
// 5 dark in west; 80 units/s of demand from each region's geography.
func twoRegions(params fleet.Simulator) *fleet.Fleet {
	return &fleet.Fleet{Name: "t", Regions: []fleet.Region{{Name: "east"}, {Name: "west"}},
		Geographies: []fleet.Geography{{Name: "ge", Demand: 80, Steering: map[string]float64{"east": 1}},
			{Name: "gw", Demand: 80, Steering: map[string]float64{"west": 1}}},
		Services: []fleet.Service{{Name: "s", Startup: fleet.Duration(10 * time.Minute), Clusters: []fleet.Cluster{
			{Name: "e", Region: "east", CapacityPerInstance: 10, Size: 10, Max: 100},
			{Name: "w", Region: "west", CapacityPerInstance: 10, Size: 10, Max: 100, Dark: 5}}}},
		Provider: fleet.Provider{Simulator: &params}}
}

func open(t *testing.T, params fleet.Simulator) (*sim.Simulator, *sim.MemStore) {
	t.Helper()
	st := &sim.MemStore{}
	s, err := sim.Open(context.Background(), st, "k", twoRegions(params), func(string, time.Time) float64 { return 80 })
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func at(d time.Duration) provider.Call { return provider.Call{At: t0.Add(d), Key: "k" + d.String()} }

func status(t *testing.T, s *sim.Simulator, d time.Duration, name string) provider.ClusterStatus {
	t.Helper()
	st, err := s.Status(context.Background(), at(d), []string{name})
	if err != nil {
		t.Fatal(err)
	}
	return st[0]
}

func TestScaleOutTakesProvisioningAndStartup(t *testing.T) {
	s, _ := open(t, fleet.Simulator{})
	ctx := context.Background()
	if err := s.Scale(ctx, at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 30}}); err != nil {
		t.Fatal(err)
	}
	// Provisioning takes 3–5 minutes, start-up 9–11: nobody serves before
	// 12 minutes, everybody by 16.
	if st := status(t, s, 12*time.Minute-time.Second, "e"); st.InService != 10 || st.Pending != 20 || st.Desired != 30 {
		t.Errorf("before 12m: %+v", st)
	}
	if st := status(t, s, 16*time.Minute, "e"); st.InService != 30 || st.Pending != 0 {
		t.Errorf("after 16m: %+v", st)
	}
	// Scaling to the same size again launches nothing more.
	if err := s.Scale(ctx, at(time.Minute), []provider.ScaleTarget{{Cluster: "e", Desired: 30}}); err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, 16*time.Minute, "e"); st.InService+st.Pending != 30 {
		t.Errorf("repeated scale changed the cluster: %+v", st)
	}
	// Scaling in removes the cold instances.
	if err := s.Scale(ctx, at(20*time.Minute), []provider.ScaleTarget{{Cluster: "e", Desired: 10}}); err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, 20*time.Minute, "e"); st.InService != 10 {
		t.Errorf("after scale-in: %+v", st)
	}
}

func TestUngateAndDarkPools(t *testing.T) {
	s, _ := open(t, fleet.Simulator{})
	ctx := context.Background()
	if st := status(t, s, 0, "w"); st.Dark != 5 || st.InService != 10 {
		t.Fatalf("start: %+v", st)
	}
	if err := s.Ungate(ctx, at(0), []provider.GateTarget{{Cluster: "w", Dark: 1}}); err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, 9*time.Second, "w"); st.InService != 10 || st.Pending != 4 || st.Dark != 1 {
		t.Errorf("within the ungate delay: %+v", st)
	}
	if st := status(t, s, 30*time.Second, "w"); st.InService != 14 || st.Desired != 14 {
		t.Errorf("after 30s: %+v", st)
	}
	// Refill the pool: new dark instances start cold, then wait behind the gate.
	if err := s.SizeDark(ctx, at(time.Minute), []provider.GateTarget{{Cluster: "w", Dark: 6}}); err != nil {
		t.Fatal(err)
	}
	if st := status(t, s, 2*time.Minute, "w"); st.Dark != 1 {
		t.Errorf("dark instances ready before starting: %+v", st)
	}
	if st := status(t, s, 20*time.Minute, "w"); st.Dark != 6 {
		t.Errorf("dark pool not refilled: %+v", st)
	}
}

func TestRegionInstanceLimit(t *testing.T) {
	s, _ := open(t, fleet.Simulator{RegionInstanceLimit: 25})
	err := s.Scale(context.Background(), at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 40}})
	if !errors.Is(err, provider.ErrCapacity) || !provider.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent capacity error", err)
	}
	if st := status(t, s, time.Hour, "e"); st.InService != 25 {
		t.Errorf("launched up to the limit: %+v", st)
	}
}

func TestInjectedFaults(t *testing.T) {
	s, _ := open(t, fleet.Simulator{CallErrorRate: 1})
	err := s.Scale(context.Background(), at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 20}})
	if !errors.Is(err, sim.ErrTransient) || provider.IsPermanent(err) {
		t.Fatalf("err = %v, want a transient error", err)
	}
	// Slow calls take effect a minute late.
	slow, _ := open(t, fleet.Simulator{SlowCallRate: 1})
	fast, _ := open(t, fleet.Simulator{})
	for _, p := range []*sim.Simulator{slow, fast} {
		if err := p.Scale(context.Background(), at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 20}}); err != nil {
			t.Fatal(err)
		}
	}
	for d := time.Duration(0); d < 20*time.Minute; d += 10 * time.Second {
		a, b := status(t, slow, d+time.Minute, "e"), status(t, fast, d, "e")
		if a.InService != b.InService {
			t.Fatalf("at %v: slow %d, fast %d a minute earlier", d, a.InService, b.InService)
		}
	}
	// Failed starts are replaced, so they finish later.
	failing, _ := open(t, fleet.Simulator{LaunchFailureRate: 0.5})
	if err := failing.Scale(context.Background(), at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 30}}); err != nil {
		t.Fatal(err)
	}
	if a, b := status(t, failing, 16*time.Minute, "e"), status(t, fast, 16*time.Minute, "e"); a.InService >= b.InService+10 || a.InService == 30 {
		t.Errorf("with failures %d serve at 16m, without %d", a.InService, b.InService)
	}
}

func TestSteeringPropagatesAndColdInstancesWarmUp(t *testing.T) {
	s, _ := open(t, fleet.Simulator{})
	ctx := context.Background()
	if err := s.Scale(ctx, at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 20}}); err != nil {
		t.Fatal(err)
	}
	move := provider.Steering{Layer: provider.LayerEdge, Weights: provider.Weights{"ge": {"east": 1}, "gw": {"east": 1}}}
	if err := s.Steer(ctx, at(20*time.Minute), move); err != nil {
		t.Fatal(err)
	}
	ss, err := s.SteeringStatus(ctx, at(20*time.Minute+5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if ss.EdgePropagated || math.Abs(ss.Served["east"]-0.75) > 1e-9 {
		t.Errorf("half way through the edge propagation: %+v", ss)
	}
	// 160/s on 10 warm instances and 10 cold ones, at half capacity
	// rising over 150s of load: 153.3 after 10s.
	st := status(t, s, 20*time.Minute+10*time.Second, "e")
	if st.Healthy || math.Abs(st.Load-160) > 1e-9 || math.Abs(st.Capacity-460.0/3) > 1e-9 {
		t.Errorf("cold: %+v", st)
	}
	// After the warm-up under load, 200.
	st = status(t, s, 20*time.Minute+3*time.Minute, "e")
	if !st.Healthy || math.Abs(st.Capacity-200) > 1e-9 {
		t.Errorf("warm: %+v", st)
	}
	if err := s.Steer(ctx, at(25*time.Minute), move); err != nil {
		t.Fatal(err)
	}
	if s.Calls()["steer_edge"] != 1 {
		t.Errorf("repeating a steering change was a new change: %v", s.Calls())
	}
	dns, _ := s.SteeringStatus(ctx, at(30*time.Minute))
	if !dns.DNSPropagated || !dns.EdgePropagated {
		t.Errorf("nothing pending: %+v", dns)
	}
}

// TestReopen checks a world survives its process: reopened from the
// store, it answers as before.
func TestReopen(t *testing.T) {
	s, st := open(t, fleet.Simulator{Seed: 3})
	ctx := context.Background()
	if err := s.Scale(ctx, at(0), []provider.ScaleTarget{{Cluster: "e", Desired: 50}}); err != nil {
		t.Fatal(err)
	}
	again, err := sim.Open(ctx, st, "k", twoRegions(fleet.Simulator{Seed: 99}), func(string, time.Time) float64 { return 80 })
	if err != nil {
		t.Fatal(err)
	}
	for d := time.Duration(0); d < 20*time.Minute; d += 7 * time.Second {
		if a, b := status(t, s, d, "e"), status(t, again, d, "e"); a != b {
			t.Fatalf("at %v: %+v, reopened %+v", d, a, b)
		}
	}
	if again.Params().Seed != 3 {
		t.Errorf("reopened world has seed %d", again.Params().Seed)
	}
}
