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
