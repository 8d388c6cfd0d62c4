package remotewrite

import (
	"fmt"
	"testing"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// BenchmarkQueueAppend measures what --metrics-remote-write adds to each
// committed batch: encoding, compressing and writing 2,000 series of one
// sample each (samples/s is the figure).
func BenchmarkQueueAppend(b *testing.B) {
	q, err := OpenQueue(b.TempDir(), 1<<30, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	batch := make([]prom.TimeSeries, 2000)
	for i := range batch {
		batch[i] = prom.TimeSeries{Labels: tsdb.FromStrings("__name__", fmt.Sprintf("http_requests_total_%d", i%50), "code", "200",
			"instance", fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250), "job", "api-server", "method", "GET"),
			Samples: []prom.Sample{{Timestamp: 1700000000000, Value: float64(i)}}}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range batch {
			batch[i].Samples[0].Timestamp += 15000
		}
		if err := q.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkQueueAppendParallel is BenchmarkQueueAppend from as many
// writers as CPUs, as concurrent remote-write requests commit.
func BenchmarkQueueAppendParallel(b *testing.B) {
	q, err := OpenQueue(b.TempDir(), 1<<30, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]prom.TimeSeries, 2000)
		for i := range batch {
			batch[i] = prom.TimeSeries{Labels: tsdb.FromStrings("__name__", fmt.Sprintf("http_requests_total_%d", i%50), "code", "200",
				"instance", fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250), "job", "api-server", "method", "GET"),
				Samples: []prom.Sample{{Timestamp: 1700000000000, Value: float64(i)}}}
		}
		for pb.Next() {
			if err := q.Append(batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*2000)/b.Elapsed().Seconds(), "samples/s")
}
