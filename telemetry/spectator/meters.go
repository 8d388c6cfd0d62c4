package spectator

import (
	"strconv"
	"sync"
	"time"
)

// Meter types, by their protocol letter.
const (
	typeCounter          = "c"
	typeDistSummary      = "d"
	typeTimer            = "t"
	typeGauge            = "g"
	typeMaxGauge         = "m"
	typeAgeGauge         = "A"
	typeMonotonicCounter = "C"
	typeMonotonicUint    = "U"
	typePercentileDist   = "D"
	typePercentileTimer  = "T"
)

// meter holds the line prefix "<type>:<id>:" so an update formats only the
// value.
type meter struct {
	id     *ID
	prefix []byte
	w      Writer
}

// linePool holds line buffers, so updates do not allocate.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func newMeter(w Writer, typ, option string, id *ID) meter {
	p := typ
	if option != "" {
		p += "," + option
	}
	return meter{id: id, prefix: []byte(p + ":" + id.line + ":"), w: w}
}

// write formats the prefix and value into a pooled buffer and writes it.
func (m *meter) write(v float64) {
	bp := linePool.Get().(*[]byte)
	b := append((*bp)[:0], m.prefix...)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	m.w.WriteLine(b)
	*bp = b
	linePool.Put(bp)
}

func (m *meter) writeUint(v uint64) {
	b := make([]byte, 0, len(m.prefix)+20)
	b = append(b, m.prefix...)
	m.w.WriteLine(strconv.AppendUint(b, v, 10))
}

// ID returns the meter's identity.
func (m *meter) ID() *ID { return m.id }

// Counter counts events; spectatord reports its rate per second.
type Counter struct {
	meter
	one []byte // the whole line of an increment, formatted once
}

// Increment adds one.
func (c *Counter) Increment() { c.w.WriteLine(c.one) }

// Add adds delta; negative deltas are ignored, as Spectator does.
func (c *Counter) Add(delta float64) {
	if delta > 0 {
		c.write(delta)
	}
}

// Gauge is a value sampled at a time; with a TTL spectatord drops it when
// not updated for that long.
type Gauge struct{ meter }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.write(v) }

// MaxGauge reports the maximum value set during each interval.
type MaxGauge struct{ meter }

// Set records a value.
func (g *MaxGauge) Set(v float64) { g.write(v) }

// AgeGauge reports the time since a timestamp (seconds since the epoch),
// or since the last Now.
type AgeGauge struct{ meter }

// Set records a timestamp in seconds since the epoch.
func (g *AgeGauge) Set(secondsSinceEpoch int64) { g.write(float64(secondsSinceEpoch)) }

// Now records the current time (spectatord's value 0).
func (g *AgeGauge) Now() { g.write(0) }

// MonotonicCounter reports the rate of a cumulative value the caller
// tracks (bytes sent since start, say).
type MonotonicCounter struct{ meter }

// Set records the cumulative value.
func (c *MonotonicCounter) Set(v float64) { c.write(v) }

// MonotonicCounterUint is MonotonicCounter for uint64 values that may wrap.
type MonotonicCounterUint struct{ meter }

// Set records the cumulative value.
func (c *MonotonicCounterUint) Set(v uint64) { c.writeUint(v) }

// Timer records durations; spectatord reports count, total time, total of
// squares and max, in seconds.
type Timer struct{ meter }

// Record records one duration.
func (t *Timer) Record(d time.Duration) {
	if d >= 0 {
		t.write(d.Seconds())
	}
}

// PercentileTimer is a Timer that also counts durations in Spectator's
// percentile buckets.
type PercentileTimer struct{ Timer }

// DistributionSummary records sizes (bytes, items); like Timer but in the
// caller's unit.
type DistributionSummary struct{ meter }

// Record records one amount.
func (d *DistributionSummary) Record(amount float64) {
	if amount >= 0 {
		d.write(amount)
	}
}

// PercentileDistributionSummary is a DistributionSummary with percentile
// buckets.
type PercentileDistributionSummary struct{ DistributionSummary }
