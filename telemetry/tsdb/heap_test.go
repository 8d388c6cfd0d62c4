package tsdb

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// steadyLabels returns the labels of series i of bench/prom's steady
// workload: instances of 100 series (50 counters, 30 gauges and 20
// histogram buckets with two more labels), every series distinct.
func steadyLabels(i int) Labels {
	kind := i % 10
	inst := fmt.Sprintf("host-%05d:9100", i/100)
	switch {
	case kind < 5:
		return FromStrings(MetricName, fmt.Sprintf("bench_counter_%02d_total", i%100/10*10+kind), "job", "node", "instance", inst)
	case kind < 8:
		return FromStrings(MetricName, fmt.Sprintf("bench_gauge_%02d", i%100), "job", "node", "instance", inst)
	}
	j := i%100/10*2 + kind - 8
	return FromStrings(MetricName, "bench_latency_seconds_bucket", "job", "node", "instance", inst,
		"le", []string{"0.1", "0.5", "1", "+Inf"}[j%4], "handler", fmt.Sprintf("/h%d", j/4))
}

// steadyHeapPerSeries appends rounds samples at 10 s to each of n series
// of the steady workload, in batches of 2,000 by labels (as remote write
// delivers them), and returns the live heap the store gained per series.
func steadyHeapPerSeries(tb testing.TB, n, rounds int) float64 {
	tb.Helper()
	ls := make([]Labels, n)
	for i := range ls {
		ls[i] = steadyLabels(i)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	db := openTest(tb, tb.TempDir(), benchOptions())
	defer db.Close()
	t0 := int64(1_700_000_000_000)
	for r := range rounds {
		a := db.Appender()
		for i := range ls {
			if _, err := a.Append(0, ls[i], t0+int64(r)*10_000, float64(r*i%1000)); err != nil {
				tb.Fatal(err)
			}
			if (i+1)%2000 == 0 || i == n-1 {
				if err := a.Commit(); err != nil {
					tb.Fatal(err)
				}
				a = db.Appender()
			}
		}
		a.Rollback()
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ls)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// BenchmarkHeapPerSeriesSteady reports the live heap per series after
// bench/prom's steady ingest shape: 100,000 series × 30 samples.
func BenchmarkHeapPerSeriesSteady(b *testing.B) {
	for b.Loop() {
		b.ReportMetric(steadyHeapPerSeries(b, 100_000, 30), "heap-bytes/series")
	}
}

// TestHeapPerSeriesSteady bounds the live heap per series after 50,000
// series of bench/prom's steady workload take 30 samples each: 350-370
// bytes (2026-12-07: memSeries 160, packed labels 48-96, the two series
// maps about 50, chunk bytes, the index), 524 before memSeries shrank
// and the labels were packed. The bound leaves about 15% for the
// runtime's and the allocator's variations; a series-layout regression
// of one size class or more fails it.
func TestHeapPerSeriesSteady(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 50,000 series")
	}
	const bound = 420
	if got := steadyHeapPerSeries(t, 50_000, 30); got > bound {
		t.Errorf("%.0f bytes of heap a series, want at most %d", got, bound)
	}
}

// TestMemSeriesSize holds memSeries to the allocator's 160-byte size
// class: every active series in the head has one.
func TestMemSeriesSize(t *testing.T) {
	if n := unsafe.Sizeof(memSeries{}); n > 160 {
		t.Errorf("memSeries is %d bytes, want at most 160", n)
	}
}

// TestLabelLimit refuses a series whose labels take more bytes packed
// than a memSeries can point to, naming the limit.
func TestLabelLimit(t *testing.T) {
	o := testOptions(nil)
	o.Validation = Validation{} // no length limits: the store's own applies
	db := openTest(t, t.TempDir(), o)
	defer db.Close()
	a := db.Appender()
	defer a.Rollback()
	_, err := a.Append(0, FromStrings(MetricName, "m", "big", strings.Repeat("v", maxPackedLabels)), 1000, 1)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "limit of 65535") {
		t.Fatalf("append with labels over %d bytes: %v, want a ValidationError naming the limit", maxPackedLabels, err)
	}
	if _, err := a.Append(0, FromStrings(MetricName, "m", "big", strings.Repeat("v", maxPackedLabels-100)), 1000, 1); err != nil {
		t.Fatalf("append with labels under the limit: %v", err)
	}
}

// TestWALEncoderReleasesSeriesBuffers: the series records of a batch of
// 2,000 new series grow an appender's WAL buffers past what batches of
// samples need; released, it keeps none of them.
func TestWALEncoderReleasesSeriesBuffers(t *testing.T) {
	var e walEncoder
	ss := make([]*memSeries, 2000)
	for i := range ss {
		ss[i] = testSeries(uint32(i+1), steadyLabels(i))
	}
	if recs := e.seriesRecords(ss); len(recs) != 1 {
		t.Fatalf("%d series records, want 1", len(recs))
	}
	if cap(e.raw) <= keptBufferBytes {
		t.Fatalf("raw buffer %d bytes: the batch should have grown it past %d", cap(e.raw), keptBufferBytes)
	}
	e.release()
	if n := cap(e.raw) + cap(e.rec) + cap(e.series.buf) + cap(e.samples.buf); n > keptBufferBytes {
		t.Errorf("after release the encoder keeps %d bytes of buffers, want at most %d", n, keptBufferBytes)
	}
}
