package failover

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"

	"github.com/gaffer-sre/gaffer/demand/failover/fleet"
	"github.com/gaffer-sre/gaffer/demand/failover/plan"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// Querier is what failover needs of the metrics system (or of any
// Prometheus-compatible API, such as a *prom.Client).
type Querier interface {
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (prom.Result, error)
}

// errNoMetrics is returned when the metrics system is not running here.
var errNoMetrics = errors.New("the metrics system does not run in this process")

func (s *Service) querier() (Querier, error) {
	if s.deps == nil {
		return nil, errNoMetrics
	}
	if _, ok := s.deps.Lookup(metricsapi.Name); !ok {
		return nil, errNoMetrics
	}
	return metricsapi.From(s.deps)
}

// seriesBy runs a range query and returns its samples by the value of
// label (series without it are skipped).
func seriesBy(ctx context.Context, q Querier, expr, label string, start, end time.Time, step time.Duration) (map[string][]plan.Sample, error) {
	res, err := q.QueryRange(ctx, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	out := map[string][]plan.Sample{}
	for _, ser := range res.Series {
		key := ser.Labels.Get(label)
		if key == "" {
			continue
		}
		for _, p := range ser.Points {
			if !math.IsNaN(p.V) {
				out[key] = append(out[key], plan.Sample{T: time.UnixMilli(p.T), V: p.V})
			}
		}
	}
	return out, nil
}

// forecasts fits each geography's forecast from the fleet's demand
// metric. Geographies without history use their static demand; the
// warnings say which and why.
func (s *Service) forecasts(ctx context.Context, f *fleet.Fleet, now time.Time) (map[string]*plan.Forecast, []string) {
	d := f.Demand.WithDefaults()
	if d.GeoMetric == "" {
		return nil, nil
	}
	q, err := s.querier()
	if err != nil {
		return nil, []string{fmt.Sprintf("demand: %v; static demand used", err)}
	}
	step := d.Step.D()
	hist, err := seriesBy(ctx, q, d.GeoMetric, d.GeoLabel, now.Add(-d.History.D()), now, step)
	if err != nil {
		return nil, []string{fmt.Sprintf("demand: query %s: %v; static demand used", d.GeoMetric, err)}
	}
	out := map[string]*plan.Forecast{}
	var warnings []string
	for _, g := range f.Geographies {
		fc, err := plan.Fit(hist[g.Name], step)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("geography %s: %v; static demand used", g.Name, err))
			continue
		}
		out[g.Name] = fc
	}
	return out, warnings
}
