package alerting

import (
	"context"
	"fmt"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
)

// PromQuerier runs PromQL: the metrics system's Go API, or a *prom.Client
// over any Prometheus-compatible HTTP API.
type PromQuerier = query.PromQuerier

// Data is where rules read: PromQL for promql rules, an Atlas source for
// atlas rules.
type Data = query.Source

// errNoMetrics is returned while no metrics store is reachable.
var errNoMetrics = query.ErrNoMetrics

// fetch evaluates expr over g with the rule's engine.
func fetch(ctx context.Context, d Data, r *Rule, expr string, g query.Grid) ([]series, error) {
	ss, err := d.Fetch(ctx, r.engine, expr, g, true)
	if err != nil {
		return nil, err
	}
	out := make([]series, len(ss))
	for i, s := range ss {
		out[i] = series{Labels: s.Labels, Values: s.Values}
	}
	return out, nil
}

// fetchError wraps a query failure with the rule's expression.
func fetchError(r *Rule, err error) error {
	return fmt.Errorf("evaluate %s %q: %w", r.engine, r.valueOf, err)
}
