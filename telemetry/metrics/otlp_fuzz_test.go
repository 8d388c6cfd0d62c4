package metrics

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// FuzzConvertOTLP: whatever decodes as an OTLP request converts without
// panicking into series that each have a metric name and sorted,
// distinct label names.
func FuzzConvertOTLP(f *testing.F) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "svc")
	rm.Resource().Attributes().PutStr("host.name", "h")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("a.b")
	m.SetUnit("s")
	dp := m.SetEmptyHistogram().DataPoints().AppendEmpty()
	dp.SetCount(3)
	dp.ExplicitBounds().FromRaw([]float64{1})
	dp.BucketCounts().FromRaw([]uint64{1, 2})
	dp.Attributes().PutStr("x.y", "z")
	seed, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	f.Add(seed, false)
	js, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
	f.Add(js, true)
	f.Fuzz(func(t *testing.T, b []byte, isJSON bool) {
		req := pmetricotlp.NewExportRequest()
		var err error
		if isJSON {
			err = req.UnmarshalJSON(b)
		} else {
			err = req.UnmarshalProto(b)
		}
		if err != nil {
			return
		}
		for _, ts := range convertOTLP(req.Metrics()).Series {
			if ts.Labels.Get(tsdb.MetricName) == "" {
				t.Fatalf("series without a name: %v", ts.Labels)
			}
			for i := 1; i < len(ts.Labels); i++ {
				if ts.Labels[i-1].Name >= ts.Labels[i].Name {
					t.Fatalf("labels not sorted or repeated: %v", ts.Labels)
				}
			}
		}
	})
}
