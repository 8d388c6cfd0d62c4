// Package clocktest gives tests fixed clocks and sweeps of the time of
// day, so that a test's result cannot depend on the hour it runs at.
package clocktest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Base is the fixed time tests start from unless they need another:
// a Monday, three minutes after midnight UTC.
var Base = time.Date(2026, 12, 7, 0, 3, 0, 0, time.UTC)

// Fixed returns a clock that always reads t.
func Fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// Manual is a clock that moves only when told to; it is safe for
// concurrent use.
type Manual struct {
	mu sync.Mutex
	t  time.Time
}

// NewManual returns a Manual clock reading t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now reads the clock.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.t = t
	m.mu.Unlock()
}

// Day returns times across a whole day from start, every step. A step
// that does not divide an hour (7 minutes, say) meets every alignment
// with hour and two-hour boundaries in turn.
func Day(start time.Time, step time.Duration) []time.Time {
	var out []time.Time
	for d := time.Duration(0); d < 24*time.Hour; d += step {
		out = append(out, start.Add(d))
	}
	return out
}

// Across returns times every step from before to after a boundary: b
// minus span to b plus span.
func Across(b time.Time, span, step time.Duration) []time.Time {
	var out []time.Time
	for t := b.Add(-span); !t.After(b.Add(span)); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

// DaySweep is the standard sweep: every 7 minutes over the day of Base,
// and every minute across the two-hour boundary at 02:00; with -short,
// every 47 minutes and every 7 minutes across the boundary.
func DaySweep() []time.Time {
	b := time.Date(Base.Year(), Base.Month(), Base.Day(), 2, 0, 0, 0, time.UTC)
	if testing.Short() {
		return append(Day(Base, 47*time.Minute), Across(b, 21*time.Minute, 7*time.Minute)...)
	}
	return append(Day(Base, 7*time.Minute), Across(b, 10*time.Minute, time.Minute)...)
}

// Sweep runs fn as a parallel subtest at each time, named by the time of
// day (so -run 'Test/08h20' repeats one point). After the first failing
// time the subtests not yet started are skipped, so that one bug does not
// print hundreds of failures.
func Sweep(t *testing.T, times []time.Time, fn func(t *testing.T, now time.Time)) {
	t.Helper()
	var failed atomic.Bool
	for _, now := range times {
		t.Run(now.UTC().Format("15h04"), func(t *testing.T) {
			t.Parallel()
			if failed.Load() {
				t.Skip("an earlier time failed")
			}
			defer func() {
				if t.Failed() {
					failed.Store(true)
				}
			}()
			fn(t, now)
		})
	}
}
