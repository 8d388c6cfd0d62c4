package step

import (
	"context"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/demand/failover/provider"
)

// shift sets the step's weights on its layer, waits for them to apply,
// then holds until the receiving clusters have stayed healthy for the
// step's hold.
func shift(ctx context.Context, env *Env, st plan.Step, pr *Progress) (Outcome, error) {
	prov := env.Provider
	if !pr.Acted {
		w := env.Plan.After
		if st.Kind == plan.StepShift {
			w = env.Plan.WeightsAt(st.Fraction)
		}
		if err := prov.Steer(ctx, env.call(pr), provider.Steering{Layer: st.Layer, Weights: w}); err != nil {
			return Outcome{}, err
		}
		pr.Acted = true
	}
	ss, err := prov.SteeringStatus(ctx, env.call(pr))
	if err != nil {
		return Outcome{}, err
	}
	if (st.Layer == provider.LayerEdge && !ss.EdgePropagated) || (st.Layer == provider.LayerDNS && !ss.DNSPropagated) {
		pr.Note = fmt.Sprintf("waiting for the %s change to apply", st.Layer)
		return timeout(env, st, pr)
	}
	return hold(ctx, env, st, pr)
}

// hold checks the receiving clusters every health interval until they
// have been healthy for the step's hold.
func hold(ctx context.Context, env *Env, st plan.Step, pr *Progress) (Outcome, error) {
	names := env.Plan.ReceivingClusters()
	status, err := env.Provider.Status(ctx, env.call(pr), names)
	if err != nil {
		return Outcome{}, err
	}
	var sick []string
	for _, s := range status {
		if !s.Healthy {
			sick = append(sick, fmt.Sprintf("%s (%s)", s.Cluster, s.Message))
		}
	}
	now := env.Now.UnixMilli()
	interval := env.Plan.Settings.HealthInterval.D()
	if len(sick) > 0 {
		pr.HealthySince = 0
		pr.Note = fmt.Sprintf("%d of %d receiving clusters unhealthy: %s", len(sick), len(names), list(sick))
		o, err := timeout(env, st, pr)
		if err == nil {
			o.Wait = interval
		}
		return o, err
	}
	if pr.HealthySince == 0 {
		pr.HealthySince = now
	}
	held := time.Duration(now-pr.HealthySince) * time.Millisecond
	pr.Note = fmt.Sprintf("%d receiving clusters healthy for %v", len(names), held)
	if held >= st.Hold.D() {
		return Outcome{Done: true}, nil
	}
	return Outcome{Wait: min(interval, st.Hold.D()-held)}, nil
}

// restoreSteering puts the weights from before the plan back on both
// layers and waits for the edge to apply them.
func restoreSteering(ctx context.Context, env *Env, st plan.Step, pr *Progress) (Outcome, error) {
	prov := env.Provider
	if !pr.Acted {
		for _, layer := range []string{provider.LayerEdge, provider.LayerDNS} {
			if err := prov.Steer(ctx, env.call(pr), provider.Steering{Layer: layer, Weights: env.Plan.Before}); err != nil {
				return Outcome{}, err
			}
		}
		pr.Acted = true
	}
	ss, err := prov.SteeringStatus(ctx, env.call(pr))
	if err != nil {
		return Outcome{}, err
	}
	if !ss.EdgePropagated {
		pr.Note = "waiting for the edge to route as before"
		return timeout(env, st, pr)
	}
	pr.Note = "steering restored"
	return Outcome{Done: true}, nil
}
