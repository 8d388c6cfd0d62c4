package spectator

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	t.Setenv("NETFLIX_PROCESS_NAME", "")
	t.Setenv("TITUS_CONTAINER_NAME", "")
	m := &MemoryWriter{}
	r := NewRegistry(m, nil)
	tags := map[string]string{"status": "2xx", "bad key!": "v@l"}
	r.Counter("server.requests", tags).Increment()
	r.Counter("server.requests", tags).Add(2.5)
	r.Counter("server.requests", tags).Add(-1)
	r.Gauge("queue.size", nil).Set(7)
	r.GaugeWithTTL("queue.size", nil, 2*time.Minute).Set(8)
	r.MaxGauge("inflight", nil).Set(3)
	r.AgeGauge("last.success", nil).Now()
	r.MonotonicCounter("bytes", nil).Set(1024)
	r.MonotonicCounterUint("packets", nil).Set(math.MaxUint64)
	r.Timer("latency", nil).Record(1500 * time.Millisecond)
	r.PercentileTimer("latency.p", nil).Record(42 * time.Millisecond)
	r.DistributionSummary("size", nil).Record(512)
	r.PercentileDistributionSummary("size.p", nil).Record(3)
	want := []string{
		"c:server.requests,bad_key_=v_l,status=2xx:1",
		"c:server.requests,bad_key_=v_l,status=2xx:2.5",
		"g:queue.size:7",
		"g,120:queue.size:8",
		"m:inflight:3",
		"A:last.success:0",
		"C:bytes:1024",
		"U:packets:18446744073709551615",
		"t:latency:1.5",
		"T:latency.p:0.042",
		"d:size:512",
		"D:size.p:3",
	}
	if got := m.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCommonTags(t *testing.T) {
	t.Setenv("NETFLIX_PROCESS_NAME", "gaffer")
	t.Setenv("TITUS_CONTAINER_NAME", "main")
	m := &MemoryWriter{}
	NewRegistry(m, map[string]string{"nf.app": "x"}).Counter("c", nil).Increment()
	if got := m.Lines()[0]; got != "c:c,nf.app=x,nf.container=main,nf.process=gaffer:1" {
		t.Fatalf("line %q", got)
	}
}

// TestPercentileBuckets checks the layout against Spectator's: 276
// buckets, the first and last bounds, and indexes at bucket edges.
func TestPercentileBuckets(t *testing.T) {
	if BucketCount() != 276 {
		t.Fatalf("%d buckets", BucketCount())
	}
	checks := map[int]int64{0: 1, 1: 2, 2: 3, 3: 4, 13: 14, 14: 16, 15: 21, 275: math.MaxInt64}
	for i, v := range checks {
		if bucketValues[i] != v {
			t.Errorf("bucket %d = %d, want %d", i, bucketValues[i], v)
		}
	}
	// As Spectator's indexOf: bucket i holds [bucket(i-1), bucket(i)).
	for i := 5; i < BucketCount()-1; i++ {
		if BucketIndex(bucketValues[i]-1) > BucketIndex(bucketValues[i]) {
			t.Fatalf("BucketIndex is not monotonic at %d", bucketValues[i])
		}
		if got := BucketIndex(bucketValues[i-1]); got != i {
			t.Fatalf("BucketIndex(%d) = %d, want %d", bucketValues[i-1], got, i)
		}
	}
	counts := make([]float64, BucketCount())
	for v := int64(1); v <= 100_000; v++ {
		counts[BucketIndex(v)]++
	}
	res := make([]float64, 3)
	Percentiles(counts, []float64{50, 90, 99}, res)
	for i, want := range []float64{50_000, 90_000, 99_000} {
		if math.Abs(res[i]-want)/want > 0.1 {
			t.Errorf("p%v = %v, want about %v", []float64{50, 90, 99}[i], res[i], want)
		}
	}
}
