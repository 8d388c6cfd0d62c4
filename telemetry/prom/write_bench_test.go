package prom

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync"
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

// BenchmarkHeapAfterBurst reports the live heap the receiver keeps after
// a burst of eight concurrent senders, each a request of 2,000 series of
// one sample (bench/prom's steady shape), once a garbage collection has
// run and the pool has seen no request for two idle checks: what an
// idle server goes on holding for the receiver's buffers.
func BenchmarkHeapAfterBurst(b *testing.B) {
	o := tsdb.DefaultOptions()
	o.CompactInterval = -1
	db, err := tsdb.Open(b.TempDir(), o)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now().Add(-time.Hour).UnixMilli()
	bodies := make([][]byte, 8)
	for s := range bodies {
		series := make([]TimeSeries, 2000)
		for i := range series {
			series[i] = TimeSeries{Labels: tsdb.FromStrings("__name__", "node_cpu_seconds_total", "job", "node",
				"instance", fmt.Sprintf("host-%d.example.com:9100", s*2000+i), "cpu", "0", "mode", "idle"),
				Samples: []Sample{{Value: float64(i), Timestamp: start}}}
		}
		bodies[s] = snappy.Encode(nil, AppendWriteRequest(nil, series))
	}
	// The series are created first, so that the loop measures the
	// receiver and not the store's growth.
	warm := &Receiver{Storage: DBAppendable{DB: db}}
	for _, body := range bodies {
		r := httptest.NewRequest("POST", "/api/v1/write", bytes.NewReader(body))
		if err := warm.ServeWrite(httptest.NewRecorder(), r); err != nil {
			b.Fatal(err)
		}
	}
	var held float64
	for b.Loop() {
		// Every request waits, decoded, for the others, as eight senders'
		// requests do on the network.
		barrier := &barrierAppendable{Appendable: DBAppendable{DB: db}}
		barrier.wg.Add(len(bodies))
		rc := &Receiver{Storage: barrier}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		var wg sync.WaitGroup
		for s := range bodies {
			wg.Go(func() {
				r := httptest.NewRequest("POST", "/api/v1/write", bytes.NewReader(bodies[s]))
				if err := rc.ServeWrite(httptest.NewRecorder(), r); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		// Two idle checks with no request between: as a second or two
		// without requests does.
		rc.pool.idleCheck()
		rc.pool.idleCheck()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		held += float64(int64(ms.HeapAlloc) - int64(before))
		runtime.KeepAlive(rc)
	}
	b.ReportMetric(held/float64(b.N), "heap-B")
}

// barrierAppendable hands out an Appender only once wg is done.
type barrierAppendable struct {
	Appendable
	wg sync.WaitGroup
}

func (a *barrierAppendable) Appender() Appender {
	a.wg.Done()
	a.wg.Wait()
	return a.Appendable.Appender()
}
