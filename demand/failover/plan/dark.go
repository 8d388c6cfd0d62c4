package plan

import (
	"fmt"
	"sort"
)

// DarkTargets returns the dark pool size of every cluster such that any
// one region can be evacuated at the forecast peak of the fleet's dark
// horizon without a cold launch: for each cluster, the most instances it
// would add over all single-region evacuations (never past its maximum).
// Evacuations that cannot fit are skipped and named in the warnings.
func DarkTargets(in Input) (map[string]int, []string, error) {
	f := in.Fleet.Clone()
	f.Normalize()
	for i := range f.Services {
		for j := range f.Services[i].Clusters {
			f.Services[i].Clusters[j].Dark = 0
		}
	}
	in.Fleet = f
	in.Horizon = f.Planning.WithDefaults().DarkHorizon.D()
	out := map[string]int{}
	for _, s := range f.Services {
		for _, c := range s.Clusters {
			out[c.Name] = 0
		}
	}
	var warnings []string
	for _, r := range f.Regions {
		p, err := Make(in, Request{Evacuate: r.Name})
		if err != nil {
			return nil, nil, fmt.Errorf("dark pools of %s: %w", f.Name, err)
		}
		if p.Status == Infeasible {
			warnings = append(warnings, fmt.Sprintf("evacuating %s does not fit: %v", r.Name, p.Err()))
			continue
		}
		for _, c := range p.Clusters {
			out[c.Cluster] = max(out[c.Cluster], c.Target-c.Size)
		}
	}
	sort.Strings(warnings)
	return out, warnings, nil
}
