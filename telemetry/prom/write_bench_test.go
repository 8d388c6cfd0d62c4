package prom

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// BenchmarkServeWrite is a Prometheus sender's request (2,000 samples:
// 500 series of 4 samples) through the whole remote-write handler into
// the store, series already present.
func BenchmarkServeWrite(b *testing.B) {
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	db, err := tsdb.Open(b.TempDir(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rc := &Receiver{Storage: DBAppendable{DB: db}}
	start := time.Now().Add(-time.Hour).UnixMilli()
	series := make([]TimeSeries, 500)
	for i := range series {
		series[i].Labels = tsdb.FromStrings("__name__", "http_requests_total", "job", "api", "instance", fmt.Sprint("host-", i%50), "code", fmt.Sprint(200+i/50))
		series[i].Samples = make([]Sample, 4)
	}
	k := int64(0)
	body := func() []byte {
		for i := range series {
			for j := range series[i].Samples {
				series[i].Samples[j] = Sample{Value: float64(k), Timestamp: start + k}
				k++
			}
		}
		return snappy.Encode(nil, AppendWriteRequest(nil, series))
	}
	bodies := make([][]byte, 256)
	for i := range bodies {
		bodies[i] = body()
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(bodies) {
			b.StopTimer()
			for j := range bodies {
				bodies[j] = body()
			}
			i = 0
			b.StartTimer()
		}
		r := httptest.NewRequest("POST", "/api/v1/write", bytes.NewReader(bodies[i]))
		i++
		w := httptest.NewRecorder()
		if err := rc.ServeWrite(w, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
}
