package ingest

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Registry aggregates spectatord updates per meter between publishes,
// with spectatord's semantics:
//
//   - c counter: the sum of increments (negative ones ignored), published
//     as a rate per second (statistic=count);
//   - g gauge: the last value, published every step until its TTL (15
//     minutes, or g,<seconds>, at least 5 s) passes without an update
//     (statistic=gauge);
//   - m max gauge: the largest value of the step (statistic=max);
//   - A age gauge: seconds since the time set (0 = now), published every
//     step for as long as the process runs (statistic=gauge);
//   - C and U monotonic counters, X monotonic counters sampled at a time:
//     the increase between successive values (a decrease is a reset and
//     counts nothing), as a rate per second (statistic=count);
//   - t timer (seconds) and d distribution summary: count and total as
//     rates (statistic=count, totalTime or totalAmount), the total of
//     squares as a rate (totalOfSquares) and the maximum (max);
//   - T and D: as t and d, plus Spectator's 276 percentile buckets as
//     rates (statistic=percentile, percentile=T00XX or D00XX).
//
// Meters other than gauges not updated for MeterTTL are dropped.
type Registry struct {
	// Common tags are added to every meter (e.g. nf.app).
	Common map[string]string
	// MeterTTL drops idle meters; default 15 minutes.
	MeterTTL time.Duration

	mu        sync.Mutex
	byID      [128]map[string]*meter // by type, by ID as sent
	canonical [128]map[string]*meter // by type, by sorted labels

	// Lines and Errors count parsed and refused lines.
	Lines, Errors atomic.Int64
}

type meter struct {
	typ    MeterType
	labels tsdb.Labels // name, tags and common tags, without statistic

	count, total, totalSq, max float64
	buckets                    map[int]float64
	value                      float64 // gauge value, age gauge time (ms)
	prev                       float64 // monotonic: last value seen
	prevT                      int64   // X: last sample time
	hasPrev                    bool
	updated                    bool
	last                       time.Time // last update
	ttl                        time.Duration

	statLabels map[string]tsdb.Labels
}

// Update applies one line at time now.
func (r *Registry) Update(l Line, now time.Time) {
	r.mu.Lock()
	r.update(l, now)
	r.mu.Unlock()
}

// HandleDatagram applies every newline-separated line of b, counting the
// ones that do not parse. b is modified (invalid characters replaced).
func (r *Registry) HandleDatagram(b []byte, now time.Time) {
	r.HandleDatagrams([][]byte{b}, now)
}

// HandleDatagrams is HandleDatagram for a batch, under one lock.
func (r *Registry) HandleDatagrams(bs [][]byte, now time.Time) {
	var lines, errs int64
	r.mu.Lock()
	for _, b := range bs {
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			var line []byte
			if i < 0 {
				line, b = b, nil
			} else {
				line, b = b[:i], b[i+1:]
			}
			if len(line) == 0 {
				continue
			}
			l, err := ParseLine(line)
			if err != nil {
				errs++
				continue
			}
			lines++
			r.update(l, now)
		}
	}
	r.mu.Unlock()
	r.Lines.Add(lines)
	r.Errors.Add(errs)
}

func (r *Registry) meterFor(l Line) *meter {
	t := l.Type & 0x7f
	if m, ok := r.byID[t][unsafe.String(unsafe.SliceData(l.ID), len(l.ID))]; ok {
		return m
	}
	labels := r.labelsOf(l.ID)
	key := labels.String()
	if r.byID[t] == nil {
		r.byID[t] = map[string]*meter{}
		r.canonical[t] = map[string]*meter{}
	}
	m, ok := r.canonical[t][key]
	if !ok {
		m = &meter{typ: l.Type, labels: labels, max: math.NaN(), statLabels: map[string]tsdb.Labels{}}
		r.canonical[t][key] = m
	}
	r.byID[t][string(l.ID)] = m
	return m
}

// labelsOf turns "name,k=v,..." into sorted labels with the common tags
// (a meter's own tags win).
func (r *Registry) labelsOf(id []byte) tsdb.Labels {
	m := make(map[string]string, len(r.Common)+4)
	for k, v := range r.Common {
		m[k] = v
	}
	parts := bytes.Split(id, []byte{','})
	m[tsdb.MetricName] = string(parts[0])
	for _, p := range parts[1:] {
		k, v, _ := bytes.Cut(p, []byte{'='})
		m[string(k)] = string(v)
	}
	return tsdb.FromMap(m)
}

func (r *Registry) update(l Line, now time.Time) {
	m := r.meterFor(l)
	m.last = now
	v := l.Value
	switch l.Type {
	case Counter:
		if v > 0 {
			m.count += v
		}
	case Gauge:
		m.value = v
		ttl := time.Duration(defaultGaugeTTLSeconds) * time.Second
		if len(l.Option) > 0 {
			secs, _ := strconv.ParseInt(string(l.Option), 10, 64)
			if secs < minGaugeTTLSeconds {
				secs = minGaugeTTLSeconds
			}
			ttl = time.Duration(secs) * time.Second
		}
		m.ttl = ttl
	case MaxGauge:
		if math.IsNaN(m.max) || v > m.max {
			m.max = v
		}
	case AgeGauge:
		if v == 0 {
			m.value = float64(now.UnixMilli())
		} else {
			m.value = v * 1000
		}
	case MonotonicCounter, MonotonicCounterUint, MonotonicSampled:
		if l.Type == MonotonicSampled {
			ts, _ := strconv.ParseInt(string(l.Option), 10, 64)
			if m.hasPrev && ts <= m.prevT {
				return
			}
			m.prevT = ts
		}
		if m.hasPrev && v >= m.prev {
			m.count += v - m.prev
		}
		m.prev, m.hasPrev = v, true
	case Timer, PercentileTimer, DistSummary, PercentileDistSummary:
		if v < 0 {
			return
		}
		m.count++
		m.total += v
		m.totalSq += v * v
		if math.IsNaN(m.max) || v > m.max {
			m.max = v
		}
		switch l.Type {
		case PercentileTimer:
			m.bucket(spectator.BucketIndex(int64(v * 1e9)))
		case PercentileDistSummary:
			m.bucket(spectator.BucketIndex(int64(v)))
		}
	}
	m.updated = true
}

func (m *meter) bucket(i int) {
	if m.buckets == nil {
		m.buckets = map[int]float64{}
	}
	m.buckets[i]++
}

const (
	defaultGaugeTTLSeconds = 15 * 60
	minGaugeTTLSeconds     = 5
)

func (m *meter) withStat(stat string) tsdb.Labels {
	if ls, ok := m.statLabels[stat]; ok {
		return ls
	}
	ls := append(m.labels.Copy(), tsdb.Label{Name: "statistic", Value: stat})
	sort.Sort(ls)
	m.statLabels[stat] = ls
	return ls
}

// percentileTagValue names bucket i as Spectator does: T0042 for timers,
// D0042 for distribution summaries.
func percentileTagValue(prefix byte, i int) string {
	return fmt.Sprintf("%c%04X", prefix, i)
}

func (m *meter) withPercentile(i int) tsdb.Labels {
	prefix := byte('T')
	if m.typ == PercentileDistSummary {
		prefix = 'D'
	}
	key := percentileTagValue(prefix, i)
	if ls, ok := m.statLabels[key]; ok {
		return ls
	}
	ls := append(m.labels.Copy(), tsdb.Label{Name: "statistic", Value: "percentile"}, tsdb.Label{Name: "percentile", Value: key})
	sort.Sort(ls)
	m.statLabels[key] = ls
	return ls
}

// Measure publishes the step that ends at now, lasting step: one sample
// per meter and statistic, timestamped now. It resets the step's
// aggregates and drops expired meters.
func (r *Registry) Measure(now time.Time, step time.Duration) []prom.TimeSeries {
	secs := step.Seconds()
	ts := now.UnixMilli()
	ttl := r.MeterTTL
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	var out []prom.TimeSeries
	emit := func(ls tsdb.Labels, v float64) {
		out = append(out, prom.TimeSeries{Labels: ls, Samples: []prom.Sample{{Value: v, Timestamp: ts}}})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for t := range r.canonical {
		for key, m := range r.canonical[t] {
			switch m.typ {
			case Gauge:
				if now.Sub(m.last) > m.ttl {
					r.drop(MeterType(t), key, m)
					continue
				}
				emit(m.withStat("gauge"), m.value)
			case AgeGauge:
				emit(m.withStat("gauge"), float64(ts-int64(m.value))/1000)
			default:
				if !m.updated {
					if now.Sub(m.last) > ttl {
						r.drop(MeterType(t), key, m)
					}
					continue
				}
				m.emit(emit, secs)
			}
			m.reset()
		}
	}
	return out
}

func (m *meter) emit(emit func(tsdb.Labels, float64), secs float64) {
	switch m.typ {
	case Counter, MonotonicCounter, MonotonicCounterUint, MonotonicSampled:
		emit(m.withStat("count"), m.count/secs)
	case MaxGauge:
		if !math.IsNaN(m.max) {
			emit(m.withStat("max"), m.max)
		}
	case Timer, PercentileTimer, DistSummary, PercentileDistSummary:
		total := "totalTime"
		if m.typ == DistSummary || m.typ == PercentileDistSummary {
			total = "totalAmount"
		}
		emit(m.withStat("count"), m.count/secs)
		emit(m.withStat(total), m.total/secs)
		emit(m.withStat("totalOfSquares"), m.totalSq/secs)
		emit(m.withStat("max"), m.max)
		for i, n := range m.buckets {
			emit(m.withPercentile(i), n/secs)
		}
	}
}

func (m *meter) reset() {
	m.count, m.total, m.totalSq, m.max = 0, 0, 0, math.NaN()
	for i := range m.buckets {
		delete(m.buckets, i)
	}
	m.updated = false
}

func (r *Registry) drop(t MeterType, key string, m *meter) {
	delete(r.canonical[t], key)
	for id, mm := range r.byID[t] {
		if mm == m {
			delete(r.byID[t], id)
		}
	}
}

// Meters returns how many meters are live.
func (r *Registry) Meters() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.canonical {
		n += len(c)
	}
	return n
}
