// Package step carries out the steps of a failover plan against a
// provider, one check at a time: Run acts (once, with absolute targets)
// and then checks whether the step's effect is there yet, returning how
// long to wait before the next check. The caller owns time: an execution
// in simulated time advances its clock by the wait and calls again at
// once; one in wall time sleeps or schedules a job. Progress carries what
// must survive between checks (and restarts), so Run never keeps state.
package step

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// MaxErrors is how many transient errors in a row fail a step.
const MaxErrors = 6

// Progress is a step's state between checks.
type Progress struct {
	// Acted is set once the step's changing call succeeded.
	Acted bool `json:"acted,omitempty"`
	// Started is when the step started (Unix ms of the execution clock).
	Started int64 `json:"started"`
	// HealthySince is when the receiving clusters were last seen turning
	// healthy (0: not healthy).
	HealthySince int64 `json:"healthy_since,omitempty"`
	// Checks counts calls made; Errors counts transient errors in a row.
	Checks int `json:"checks"`
	Errors int `json:"errors,omitempty"`
	// Note describes the last check, for the UI.
	Note string `json:"note,omitempty"`
}

// Outcome is the result of one Run.
type Outcome struct {
	// Done is set when the step is complete.
	Done bool
	// Wait is how long to wait before calling Run again (when neither
	// Done nor Err).
	Wait time.Duration
	// Err fails the step.
	Err error
}

// Env is what a step runs with.
type Env struct {
	Plan     *plan.Plan
	Provider provider.Provider
	// Key identifies the step for the provider (execution/step).
	Key string
	// Now is the execution clock.
	Now time.Time
}

func (e *Env) call(pr *Progress) provider.Call {
	pr.Checks++
	return provider.Call{At: e.Now, Key: fmt.Sprintf("%s#%d", e.Key, pr.Checks)}
}

// Run does the next part of step st.
func Run(ctx context.Context, env *Env, st plan.Step, pr *Progress) Outcome {
	if pr.Started == 0 {
		pr.Started = env.Now.UnixMilli()
	}
	o, err := run(ctx, env, st, pr)
	if err == nil {
		pr.Errors = 0
		return o
	}
	if provider.IsPermanent(err) || ctx.Err() != nil {
		return Outcome{Err: err}
	}
	pr.Errors++
	pr.Note = "error: " + err.Error()
	if pr.Errors >= MaxErrors {
		return Outcome{Err: fmt.Errorf("%d errors in a row, the last: %w", pr.Errors, err)}
	}
	return Outcome{Wait: min(time.Second<<pr.Errors, 30*time.Second)}
}

func run(ctx context.Context, env *Env, st plan.Step, pr *Progress) (Outcome, error) {
	p, prov := env.Plan, env.Provider
	switch st.Kind {
	case plan.StepUngate:
		var targets []provider.GateTarget
		want := map[string]int{}
		for _, c := range p.Clusters {
			if c.Ungate > 0 {
				targets = append(targets, provider.GateTarget{Cluster: c.Cluster, Dark: c.DarkAfter})
				want[c.Cluster] = c.Size + c.Ungate
			}
		}
		if !pr.Acted {
			if err := prov.Ungate(ctx, env.call(pr), targets); err != nil {
				return Outcome{}, err
			}
			pr.Acted = true
		}
		return waitServing(ctx, env, st, pr, want)
	case plan.StepScaleOut:
		var targets []provider.ScaleTarget
		for _, c := range p.Clusters {
			if c.Launch > 0 {
				targets = append(targets, provider.ScaleTarget{Cluster: c.Cluster, Desired: c.Target})
			}
		}
		if err := prov.Scale(ctx, env.call(pr), targets); err != nil {
			return Outcome{}, err
		}
		pr.Acted = true
		return Outcome{Done: true}, nil
	case plan.StepVerify:
		want := map[string]int{}
		for _, c := range p.Clusters {
			if c.Target > c.Size {
				want[c.Cluster] = c.Target
			}
		}
		return waitServing(ctx, env, st, pr, want)
	case plan.StepShift, plan.StepFlip:
		return shift(ctx, env, st, pr)
	case plan.StepRestoreSteering:
		return restoreSteering(ctx, env, st, pr)
	case plan.StepRestoreSize:
		var targets []provider.ScaleTarget
		for _, c := range p.Clusters {
			if c.Changed() {
				targets = append(targets, provider.ScaleTarget{Cluster: c.Cluster, Desired: c.Size})
			}
		}
		return Outcome{Done: true}, prov.Scale(ctx, env.call(pr), targets)
	case plan.StepRestoreDark:
		var targets []provider.GateTarget
		for _, c := range p.Clusters {
			if c.Ungate > 0 {
				targets = append(targets, provider.GateTarget{Cluster: c.Cluster, Dark: c.Dark})
			}
		}
		return Outcome{Done: true}, prov.SizeDark(ctx, env.call(pr), targets)
	}
	return Outcome{}, provider.Permanent(fmt.Errorf("unknown step kind %q", st.Kind))
}

// waitServing waits until each cluster in want serves at least that many
// instances.
func waitServing(ctx context.Context, env *Env, st plan.Step, pr *Progress, want map[string]int) (Outcome, error) {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	status, err := env.Provider.Status(ctx, env.call(pr), names)
	if err != nil {
		return Outcome{}, err
	}
	var short []string
	for _, s := range status {
		if s.InService < want[s.Cluster] {
			short = append(short, fmt.Sprintf("%s %d/%d", s.Cluster, s.InService, want[s.Cluster]))
		}
	}
	if len(short) == 0 {
		pr.Note = fmt.Sprintf("%d clusters serve their targets", len(names))
		return Outcome{Done: true}, nil
	}
	pr.Note = fmt.Sprintf("%d of %d clusters not there yet: %s", len(short), len(names), list(short))
	return timeout(env, st, pr)
}

func timeout(env *Env, st plan.Step, pr *Progress) (Outcome, error) {
	waited := time.Duration(env.Now.UnixMilli()-pr.Started) * time.Millisecond
	if st.Timeout > 0 && waited >= st.Timeout.D() {
		return Outcome{}, provider.Permanent(fmt.Errorf("timed out after %v: %s", st.Timeout, pr.Note))
	}
	return Outcome{Wait: env.Plan.Settings.PollInterval.D()}, nil
}

func list(xs []string) string {
	if len(xs) > 5 {
		return strings.Join(xs[:5], ", ") + fmt.Sprintf(" and %d more", len(xs)-5)
	}
	return strings.Join(xs, ", ")
}
