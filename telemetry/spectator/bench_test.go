package spectator

import (
	"testing"
	"time"
)

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

// BenchmarkBufferedWriter is lines per second through a BufferedWriter.
func BenchmarkBufferedWriter(b *testing.B) {
	w := NewBufferedWriter(&discard{}, 60<<10, time.Second)
	defer w.Close()
	t := NewRegistry(w, nil).Timer("server.latency", map[string]string{"status": "2xx"})
	b.ReportAllocs()
	for b.Loop() {
		t.Record(1500 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkCounterIncrementBuffered is Counter.Increment through a
// BufferedWriter: the line copied into the batch under its lock.
func BenchmarkCounterIncrementBuffered(b *testing.B) {
	w := NewBufferedWriter(&discard{}, 60<<10, time.Second)
	defer w.Close()
	c := NewRegistry(w, nil).Counter("server.requests", map[string]string{"status": "2xx", "method": "GET"})
	b.ReportAllocs()
	for b.Loop() {
		c.Increment()
	}
}
