package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// DarkPoolResult is what sizing a fleet's dark pools did.
type DarkPoolResult struct {
	Fleet   string `json:"fleet"`
	Version int    `json:"version"`
	// Changed counts clusters whose dark pool changed size.
	Changed  int            `json:"changed"`
	Dark     int            `json:"dark_instances"`
	Targets  map[string]int `json:"targets"`
	Warnings []string       `json:"warnings,omitempty"`
}

// SizeDarkPools sizes every cluster's dark pool so that any one region
// can be evacuated at the forecast peak of the fleet's dark horizon
// without a cold start, tells the provider, and records the sizes as a new
// version of the fleet.
func (s *Service) SizeDarkPools(ctx context.Context, name, by string) (*DarkPoolResult, error) {
	sf, err := s.Fleet(ctx, name)
	if err != nil {
		return nil, err
	}
	f := sf.Spec.Clone()
	f.Normalize()
	now := s.now()
	fc, warnings := s.forecasts(ctx, f, now)
	targets, more, err := plan.DarkTargets(plan.Input{Fleet: f, Now: now, Demand: fc})
	if err != nil {
		return nil, err
	}
	res := &DarkPoolResult{Fleet: name, Targets: targets, Warnings: append(warnings, more...)}
	var changes []provider.GateTarget
	for i := range f.Services {
		for j := range f.Services[i].Clusters {
			c := &f.Services[i].Clusters[j]
			res.Dark += targets[c.Name]
			if targets[c.Name] != c.Dark {
				changes = append(changes, provider.GateTarget{Cluster: c.Name, Dark: targets[c.Name]})
				c.Dark = targets[c.Name]
			}
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Cluster < changes[j].Cluster })
	res.Changed, res.Version = len(changes), sf.Version
	if len(changes) == 0 {
		return res, nil
	}
	ex := &Execution{world: fleetWorld(name, sf.Version)}
	prov, err := s.engine.provider(ctx, ex, sf.Spec, func(geo string, t time.Time) float64 {
		if fc[geo] != nil {
			return fc[geo].At(t)
		}
		return 0
	})
	if err != nil {
		return nil, err
	}
	defer s.engine.forget(ex.world)
	if err := prov.SizeDark(ctx, provider.Call{At: now, Key: fmt.Sprintf("darkpools/%s/%d", name, sf.Version)}, changes); err != nil {
		return nil, fmt.Errorf("size dark pools of %s: %w", name, err)
	}
	fi, _, err := s.PutFleet(ctx, f, KindFleet, by, fmt.Sprintf("dark pools sized for %d clusters", len(changes)), sf.Version)
	if err != nil {
		return nil, err
	}
	res.Version = fi.Version
	s.publish(ctx, fmt.Sprintf("darkpools/%s/%d", name, fi.Version), EventDarkPoolsSized, name, map[string]any{
		"fleet": name, "version": fi.Version, "changed": res.Changed, "dark_instances": res.Dark})
	return res, nil
}

// darkPoolJob sizes the dark pools of every fleet that asks for it.
func (s *Service) darkPoolJob(ctx context.Context, _ *jobs.Job, _ struct{}) error {
	return s.eachFleet(ctx, func(sf *StoredFleet) {
		if !sf.Spec.Planning.ManageDark {
			return
		}
		if _, err := s.SizeDarkPools(ctx, sf.Name, "darkpool job"); err != nil {
			s.log.Warn("failover: dark pools", "fleet", sf.Name, "error", err)
		}
	})
}

// eachFleet calls fn with every fleet (not the exercises').
func (s *Service) eachFleet(ctx context.Context, fn func(*StoredFleet)) error {
	fleets, err := s.Fleets(ctx, KindFleet)
	if err != nil {
		return err
	}
	for _, fi := range fleets {
		sf, err := s.Fleet(ctx, fi.Name)
		if err != nil {
			return err
		}
		fn(sf)
	}
	return nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
