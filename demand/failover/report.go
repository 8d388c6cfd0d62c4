package failover

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// Goals of exercises: with dark capacity, Nimble's 8 minutes and at most
// a minute of control-plane time; without, the 45–50 minute baseline the
// seed's team started from.
const (
	goalDarkSeconds         = 8 * 60
	goalControlPlaneSeconds = 60
	baselineMinSeconds      = 45 * 60
	baselineMaxSeconds      = 50 * 60
)

// Report is the outcome of an exercise.
type Report struct {
	Exercise   string       `json:"exercise"`
	Parameters ReportParams `json:"parameters"`
	Fleet      FleetSize    `json:"fleet"`
	Plan       ReportPlan   `json:"plan"`
	// Timeline holds each step's start and end, in simulated seconds
	// from the execution's start.
	Timeline  []Phase `json:"timeline"`
	Evacuated bool    `json:"evacuated"`
	// SimulatedSeconds is the evacuation's length in simulated time.
	SimulatedSeconds float64 `json:"simulated_seconds"`
	// PlanSeconds is the wall time of planning (forecasts included).
	PlanSeconds float64 `json:"plan_seconds"`
	// ControlPlaneSeconds is the wall time the control plane added:
	// planning plus the execution's job hand-offs, provider calls and
	// bookkeeping (the simulator itself never waits).
	ControlPlaneSeconds float64 `json:"control_plane_seconds"`
	Goal                Goal    `json:"goal"`
	// Status is the execution's final status.
	Status     string             `json:"status"`
	Error      string             `json:"error,omitempty"`
	Shortfalls []plan.Shortfall   `json:"shortfalls,omitempty"`
	Served     map[string]float64 `json:"served_after,omitempty"`
	Calls      map[string]int     `json:"simulator_calls,omitempty"`
}

// ReportParams are the parameters an exercise ran with, defaults filled.
type ReportParams struct {
	Regions           int             `json:"regions"`
	ClustersPerRegion int             `json:"clusters_per_region"`
	Evacuate          string          `json:"evacuate"`
	Dark              bool            `json:"dark_capacity"`
	Seed              uint64          `json:"seed"`
	Start             time.Time       `json:"start"`
	Provider          string          `json:"provider"`
	Simulator         fleet.Simulator `json:"simulator"`
	Planning          fleet.Planning  `json:"planning"`
}

// FleetSize sums up the generated fleet.
type FleetSize struct {
	Clusters      int `json:"clusters"`
	Instances     int `json:"instances"`
	DarkInstances int `json:"dark_instances"`
}

// ReportPlan sums up the plan.
type ReportPlan struct {
	ID              string      `json:"id"`
	Status          string      `json:"status"`
	Method          string      `json:"method,omitempty"`
	Totals          plan.Totals `json:"totals"`
	EstimateSeconds float64     `json:"estimate_seconds"`
	Steps           int         `json:"steps"`
}

// Phase is one step on the timeline.
type Phase struct {
	Phase  string  `json:"phase"`
	Name   string  `json:"name"`
	Status string  `json:"status"`
	Start  float64 `json:"start"`
	End    float64 `json:"end"`
	// WallSeconds is the step's wall time.
	WallSeconds float64 `json:"wall_seconds"`
}

// Goal is what the exercise was expected to show, and whether it did.
type Goal struct {
	Description            string  `json:"description"`
	SimulatedSecondsMin    float64 `json:"simulated_seconds_min,omitempty"`
	SimulatedSecondsMax    float64 `json:"simulated_seconds_max"`
	ControlPlaneSecondsMax float64 `json:"control_plane_seconds_max"`
	Met                    bool    `json:"met"`
}

func (s *Service) buildReport(ctx context.Context, x *Exercise, rec *PlanRecord, ex *Execution) (*Report, error) {
	p := x.Params
	f, err := s.FleetVersion(ctx, rec.Fleet, rec.FleetVersion)
	if err != nil {
		return nil, err
	}
	r := &Report{Exercise: x.ID, PlanSeconds: x.PlanSeconds, ControlPlaneSeconds: x.PlanSeconds,
		Parameters: ReportParams{Regions: p.Regions, ClustersPerRegion: p.Clusters, Evacuate: p.Evacuate, Dark: p.Dark, Seed: p.Seed,
			Start: p.Start, Provider: "simulator", Simulator: p.Simulator.WithDefaults(), Planning: rec.Settings},
		Plan: ReportPlan{ID: rec.ID, Status: rec.Status, Method: rec.Method, Totals: rec.Totals,
			EstimateSeconds: rec.Estimate.Seconds(), Steps: len(rec.Steps)},
		Shortfalls: rec.Shortfalls, Status: "infeasible", Error: errString(rec.Err())}
	for _, sv := range f.Services {
		for _, c := range sv.Clusters {
			r.Fleet.Clusters++
			r.Fleet.Instances += c.Size
			r.Fleet.DarkInstances += c.Dark
		}
	}
	r.Goal = goal(p.Dark)
	if ex == nil {
		return r, nil
	}
	r.Status, r.Error = ex.Status, ex.Error
	r.SimulatedSeconds = ex.ClockSeconds
	r.ControlPlaneSeconds += ex.WallSeconds
	r.Timeline = phasesOf(ex)
	if ex.Status == ExecSucceeded {
		demand, err := s.demandOf(ctx, ex, rec.Demand)
		if err != nil {
			return nil, err
		}
		prov, err := s.engine.provider(ctx, ex, f, demand)
		if err != nil {
			return nil, err
		}
		ss, err := prov.SteeringStatus(ctx, provider.Call{At: ex.ClockNow, Key: ex.ID + "/report"})
		if err != nil {
			return nil, fmt.Errorf("exercise %s: final steering: %w", x.ID, err)
		}
		s.engine.forget(ex.world)
		r.Served = ss.Served
		r.Evacuated = ss.DNSPropagated && ss.Served[p.Evacuate] < 1e-9
		if c, ok := prov.(interface{ Calls() map[string]int }); ok {
			r.Calls = c.Calls()
		}
	}
	r.SimulatedSeconds = math.Round(r.SimulatedSeconds*1000) / 1000
	r.ControlPlaneSeconds = math.Round(r.ControlPlaneSeconds*1000) / 1000
	r.Goal.Met = r.Evacuated && r.SimulatedSeconds >= r.Goal.SimulatedSecondsMin && r.SimulatedSeconds <= r.Goal.SimulatedSecondsMax &&
		r.ControlPlaneSeconds <= r.Goal.ControlPlaneSecondsMax
	return r, nil
}

func goal(dark bool) Goal {
	if dark {
		return Goal{Description: "with dark capacity: evacuated within 8 simulated minutes, control plane adding at most 60 s",
			SimulatedSecondsMax: goalDarkSeconds, ControlPlaneSecondsMax: goalControlPlaneSeconds}
	}
	return Goal{Description: "without dark capacity: the 45–50 minute baseline of the old process",
		SimulatedSecondsMin: baselineMinSeconds, SimulatedSecondsMax: baselineMaxSeconds, ControlPlaneSecondsMax: goalControlPlaneSeconds}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// summary is the data of the exercise.finished event.
func (r *Report) summary(x *Exercise) map[string]any {
	return map[string]any{"exercise": x.ID, "region": r.Parameters.Evacuate, "evacuated": r.Evacuated,
		"simulated_seconds": r.SimulatedSeconds, "plan_seconds": r.PlanSeconds, "control_plane_seconds": r.ControlPlaneSeconds,
		"goal_met": r.Goal.Met, "dark_capacity": r.Parameters.Dark, "drill": true}
}
