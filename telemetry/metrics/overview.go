package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
)

// ingestWindow is the span over which the overview averages the ingest
// rate.
const ingestWindow = 5 * time.Minute

// Overview reports the store's ingest rate: samples per second taken over
// the last five minutes (or since the server started, when that is
// shorter), from the store's own count of samples appended.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	if s.db == nil {
		return nil, ErrNotOpen
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	perSec, span := s.ingest.observe(s.now(), s.db.SamplesAppended(), ingestWindow)
	rate := platform.Figure{Label: "samples ingested (measuring)", Value: "–"}
	if span > 0 {
		rate = platform.Figure{Label: "samples ingested (last " + roundSpan(span).String() + ")", Value: platform.FormatRate(perSec)}
	}
	return []platform.Panel{{Section: platform.SectionRates, Title: "Metrics ingest", Link: "/metrics/explore",
		Rows: []platform.Row{}, Figures: []platform.Figure{rate}}}, nil
}

// roundSpan rounds a measuring span for its label.
func roundSpan(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

// rateMeter turns readings of a counter into its rate over a window. It
// keeps the readings inside the window and the last one before it, at
// most one a second, so its memory is bounded however often it is read.
type rateMeter struct {
	mu       sync.Mutex
	readings []reading // oldest first
}

type reading struct {
	at time.Time
	n  int64
}

// observe records that the counter read n at at and returns its rate per
// second since the oldest reading kept, and that reading's age (0 when
// there is no earlier reading). A counter or clock that went backwards
// starts the meter afresh.
func (m *rateMeter) observe(at time.Time, n int64, window time.Duration) (perSec float64, span time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k := len(m.readings); k > 0 && (at.Before(m.readings[k-1].at) || n < m.readings[k-1].n) {
		m.readings = m.readings[:0]
	}
	if k := len(m.readings); k == 0 || at.Sub(m.readings[k-1].at) >= time.Second {
		m.readings = append(m.readings, reading{at: at, n: n})
	}
	cut := 0
	for cut+1 < len(m.readings) && !m.readings[cut+1].at.After(at.Add(-window)) {
		cut++
	}
	m.readings = m.readings[cut:]
	first := m.readings[0]
	span = at.Sub(first.at)
	if span <= 0 {
		return 0, 0
	}
	return float64(n-first.n) / span.Seconds(), span
}
