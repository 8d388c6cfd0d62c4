package plan

import (
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// Step kinds, forward then rollback.
const (
	StepUngate          = "ungate"
	StepScaleOut        = "scale_out"
	StepVerify          = "verify"
	StepShift           = "shift"
	StepFlip            = "flip"
	StepRestoreSteering = "restore_steering"
	StepRestoreSize     = "restore_size"
	StepRestoreDark     = "restore_dark"
)

// Step is one step of a plan. The clusters and weights it acts on follow
// from the plan's cluster changes and distributions.
type Step struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Fraction is how far a shift step takes traffic (0 to 1].
	Fraction float64 `json:"fraction,omitempty"`
	// Layer is the steering layer of shift and flip steps.
	Layer string `json:"layer,omitempty"`
	// Hold is how long the receiving clusters must stay healthy after a
	// shift; Timeout bounds the step's waiting.
	Hold    fleet.Duration `json:"hold,omitempty"`
	Timeout fleet.Duration `json:"timeout,omitempty"`
	// Clusters and Instances count what the step touches.
	Clusters  int `json:"clusters,omitempty"`
	Instances int `json:"instances,omitempty"`
}

func steps(p *Plan) (forward, back []Step) {
	s := p.Settings
	var ungate, launch, grow, ungated, launched, changed int
	for _, c := range p.Clusters {
		if c.Ungate > 0 {
			ungate++
			ungated += c.Ungate
		}
		if c.Launch > 0 {
			launch++
			launched += c.Launch
		}
		if c.Target > c.Size {
			grow++
		}
		if c.Changed() {
			changed++
		}
	}
	if ungate > 0 {
		forward = append(forward, Step{Kind: StepUngate, Clusters: ungate, Instances: ungated, Timeout: s.ReadyTimeout,
			Name: fmt.Sprintf("Ungate %d dark instances in %d clusters", ungated, ungate)})
	}
	if launch > 0 {
		forward = append(forward, Step{Kind: StepScaleOut, Clusters: launch, Instances: launched,
			Name: fmt.Sprintf("Launch %d instances in %d clusters", launched, launch)})
	}
	if grow > 0 {
		forward = append(forward, Step{Kind: StepVerify, Clusters: grow, Timeout: s.ReadyTimeout,
			Name: fmt.Sprintf("Verify %d clusters serve their targets", grow)})
	}
	hold := s.WarmHold
	if launch > 0 {
		hold = s.ColdHold
	}
	recv := len(p.ReceivingClusters())
	for i := 1; i <= s.Increments; i++ {
		x := float64(i) / float64(s.Increments)
		forward = append(forward, Step{Kind: StepShift, Fraction: x, Layer: provider.LayerEdge, Hold: hold,
			Timeout: s.HealthTimeout, Clusters: recv,
			Name: fmt.Sprintf("Shift %.0f%% at the edge (%d of %d)", x*100, i, s.Increments)})
	}
	forward = append(forward, Step{Kind: StepFlip, Fraction: 1, Layer: provider.LayerDNS, Timeout: s.HealthTimeout,
		Name: "Flip DNS to the new distribution"})
	back = append(back, Step{Kind: StepRestoreSteering, Timeout: s.HealthTimeout, Name: "Restore steering (edge and DNS)"})
	if changed > 0 {
		back = append(back, Step{Kind: StepRestoreSize, Clusters: changed, Name: fmt.Sprintf("Scale %d clusters back", changed)})
	}
	if ungate > 0 {
		back = append(back, Step{Kind: StepRestoreDark, Clusters: ungate, Instances: ungated,
			Name: fmt.Sprintf("Refill the dark pools of %d clusters", ungate)})
	}
	return forward, back
}

// estimate is the plan's expected duration with the fleet's simulator
// timings (their defaults when the fleet runs elsewhere).
func estimate(f *fleet.Fleet, p *Plan) time.Duration {
	var sim fleet.Simulator
	if f.Provider.Simulator != nil {
		sim = *f.Provider.Simulator
	}
	sim = sim.WithDefaults()
	var total time.Duration
	for _, s := range p.Steps {
		switch s.Kind {
		case StepUngate:
			total += sim.UngateMax.D()
		case StepVerify:
			var slowest time.Duration
			for _, c := range p.Clusters {
				if c.Launch > 0 {
					up := min(time.Duration(float64(c.Startup)*(1+sim.StartupJitter)), sim.StartupMax.D())
					slowest = max(slowest, sim.ProvisionMax.D()+up)
				}
			}
			total += slowest
		case StepShift:
			total += sim.EdgePropagation.D() + s.Hold.D()
		case StepFlip:
			total += sim.DNSPropagation.D()
		}
	}
	return total
}
