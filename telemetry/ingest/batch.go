package ingest

import (
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// Batcher groups samples by series into remote-write batches.
type Batcher struct {
	max    int
	series []prom.TimeSeries
	index  map[string]int
	n      int
}

// NewBatcher returns a batcher of up to max samples per batch.
func NewBatcher(max int) *Batcher {
	return &Batcher{max: max, index: map[string]int{}}
}

// Add adds a sample and reports whether the batch is full.
func (b *Batcher) Add(s ImportSample) bool {
	key := s.Labels.String()
	i, ok := b.index[key]
	if !ok {
		i = len(b.series)
		b.index[key] = i
		b.series = append(b.series, prom.TimeSeries{Labels: s.Labels})
	}
	b.series[i].Samples = append(b.series[i].Samples, prom.Sample{Value: s.V, Timestamp: s.T})
	b.n++
	return b.n >= b.max
}

// Len is the number of samples batched.
func (b *Batcher) Len() int { return b.n }

// Take returns the batch and starts a new one.
func (b *Batcher) Take() []prom.TimeSeries {
	out := b.series
	b.series, b.n = nil, 0
	clear(b.index)
	return out
}
