package spectator

import "testing"

type discard struct{ n int }

func (d *discard) WriteLine(l []byte) { d.n += len(l) }
func (d *discard) Close() error       { return nil }

// BenchmarkCounterIncrement is one Counter.Increment formatting its line
// and handing it to a writer that drops it.
func BenchmarkCounterIncrement(b *testing.B) {
	c := NewRegistry(&discard{}, nil).Counter("server.requests", map[string]string{"status": "2xx", "method": "GET"})
	b.ReportAllocs()
	for b.Loop() {
		c.Increment()
	}
}

// BenchmarkBucketIndex is one BucketIndex over values spread across the
// whole range (b/op is per lookup).
func BenchmarkBucketIndex(b *testing.B) {
	vs := make([]int64, 0, 64)
	for v := int64(3); v > 0 && len(vs) < cap(vs); v = v*2 + v/3 {
		vs = append(vs, v)
	}
	n := 0
	for i := 0; b.Loop(); i++ {
		n += BucketIndex(vs[i%len(vs)])
	}
	if n < 0 {
		b.Fatal(n)
	}
}
