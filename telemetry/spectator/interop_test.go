// The interoperability test: lines from this client parse with Gaffer's
// spectatord line ingest (telemetry/ingest).
package spectator_test

import (
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/ingest"
)

// TestLinesParseWithIngest checks every line this client writes parses
// with Gaffer's line ingest into the same meter type, ID and value.
func TestLinesParseWithIngest(t *testing.T) {
	m := &spectator.MemoryWriter{}
	r := spectator.NewRegistry(m, map[string]string{"nf.app": "gaffer"})
	r.Counter("server.requests", map[string]string{"status": "2xx", "bad key": "x"}).Add(3)
	r.GaugeWithTTL("queue", nil, time.Minute).Set(4)
	r.MaxGauge("inflight", nil).Set(5)
	r.AgeGauge("age", nil).Now()
	r.MonotonicCounter("bytes", nil).Set(10)
	r.MonotonicCounterUint("packets", nil).Set(11)
	r.Timer("lat", nil).Record(2 * time.Second)
	r.PercentileTimer("lat.p", nil).Record(time.Second)
	r.DistributionSummary("size", nil).Record(7)
	r.PercentileDistributionSummary("size.p", nil).Record(8)
	types := []ingest.MeterType{ingest.Counter, ingest.Gauge, ingest.MaxGauge, ingest.AgeGauge, ingest.MonotonicCounter,
		ingest.MonotonicCounterUint, ingest.Timer, ingest.PercentileTimer, ingest.DistSummary, ingest.PercentileDistSummary}
	values := []float64{3, 4, 5, 0, 10, 11, 2, 1, 7, 8}
	for i, line := range m.Lines() {
		l, err := ingest.ParseLine([]byte(line))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if l.Type != types[i] || l.Value != values[i] {
			t.Errorf("%q parsed as type %c value %v", line, l.Type, l.Value)
		}
	}
	if l, _ := ingest.ParseLine([]byte(m.Lines()[0])); string(l.ID) != "server.requests,bad_key=x,nf.app=gaffer,status=2xx" {
		t.Errorf("id %q", l.ID)
	}
}
