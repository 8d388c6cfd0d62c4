// Package promtest holds test data shared by the tests of the systems
// that read metrics: series to write to a store and to a peer alike.
package promtest

import (
	"fmt"
	"math"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// AlertData is 50 minutes of request counters and latency gauges at 30 s,
// in time order (Prometheus refuses samples an hour behind its newest),
// in batches of 5 minutes: some series cross the rules' thresholds, some
// never do.
func AlertData(end time.Time) [][]prom.TimeSeries {
	const steps = 100
	var batches [][]prom.TimeSeries
	for from := 0; from < steps; from += 10 {
		var batch []prom.TimeSeries
		for i := 0; i < 6; i++ {
			inst := fmt.Sprintf("i%d", i)
			errs := prom.TimeSeries{Labels: tsdb.FromStrings("__name__", "rq_requests_total", "code", "500", "job", fmt.Sprintf("job%d", i%2), "instance", inst)}
			lat := prom.TimeSeries{Labels: tsdb.FromStrings("__name__", "rq_latency_seconds", "job", fmt.Sprintf("job%d", i%2), "instance", inst)}
			for k := from; k < from+10; k++ {
				ts := end.Add(time.Duration(k-steps+1) * 30 * time.Second).UnixMilli()
				// Instance i errs at i/4 per second, doubled in the middle third.
				rate := float64(i) / 4
				if k > steps/3 && k < 2*steps/3 {
					rate *= 2
				}
				errs.Samples = append(errs.Samples, prom.Sample{Timestamp: ts, Value: float64(k) * 30 * rate})
				lat.Samples = append(lat.Samples, prom.Sample{Timestamp: ts, Value: 0.1 + 0.1*float64(i)*(1+math.Sin(float64(k)/7))})
			}
			batch = append(batch, errs, lat)
		}
		batches = append(batches, batch)
	}
	return batches
}
