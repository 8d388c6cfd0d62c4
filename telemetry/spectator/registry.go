package spectator

import (
	"strconv"
	"sync"
	"time"
)

// Registry creates meters that write to one Writer, adding common tags to
// every ID. It is safe for concurrent use; meters are cached by ID, so
// fetching a meter in a hot path is cheap, and holding it is cheaper.
type Registry struct {
	w          Writer
	commonTags map[string]string
	mu         sync.Mutex
	meters     map[string]any
}

// NewRegistry returns a registry writing to w, with the environment's
// common tags (CommonTagsFromEnv) plus extra.
func NewRegistry(w Writer, extra map[string]string) *Registry {
	tags := CommonTagsFromEnv()
	for k, v := range extra {
		tags[k] = v
	}
	return &Registry{w: w, commonTags: tags, meters: map[string]any{}}
}

// Writer returns the registry's writer.
func (r *Registry) Writer() Writer { return r.w }

// NewID returns an ID with the registry's common tags.
func (r *Registry) NewID(name string, tags map[string]string) *ID {
	all := make(map[string]string, len(tags)+len(r.commonTags))
	for k, v := range r.commonTags {
		all[k] = v
	}
	for k, v := range tags {
		all[k] = v
	}
	return NewID(name, all)
}

func get[T any](r *Registry, typ, option, name string, tags map[string]string, mk func(meter) *T) *T {
	id := r.NewID(name, tags)
	key := typ + option + ":" + id.line
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.meters[key].(*T); ok {
		return m
	}
	m := mk(newMeter(r.w, typ, option, id))
	r.meters[key] = m
	return m
}

// Counter returns the counter name with tags.
func (r *Registry) Counter(name string, tags map[string]string) *Counter {
	return get(r, typeCounter, "", name, tags, func(m meter) *Counter {
		return &Counter{meter: m, one: append(append([]byte(nil), m.prefix...), '1')}
	})
}

// Gauge returns a gauge; spectatord keeps its value 15 minutes.
func (r *Registry) Gauge(name string, tags map[string]string) *Gauge {
	return get(r, typeGauge, "", name, tags, func(m meter) *Gauge { return &Gauge{m} })
}

// GaugeWithTTL returns a gauge dropped after ttl without updates.
func (r *Registry) GaugeWithTTL(name string, tags map[string]string, ttl time.Duration) *Gauge {
	opt := strconv.FormatInt(int64(ttl.Seconds()), 10)
	return get(r, typeGauge, opt, name, tags, func(m meter) *Gauge { return &Gauge{m} })
}

// MaxGauge returns a max gauge.
func (r *Registry) MaxGauge(name string, tags map[string]string) *MaxGauge {
	return get(r, typeMaxGauge, "", name, tags, func(m meter) *MaxGauge { return &MaxGauge{m} })
}

// AgeGauge returns an age gauge.
func (r *Registry) AgeGauge(name string, tags map[string]string) *AgeGauge {
	return get(r, typeAgeGauge, "", name, tags, func(m meter) *AgeGauge { return &AgeGauge{m} })
}

// MonotonicCounter returns a monotonic counter of float values.
func (r *Registry) MonotonicCounter(name string, tags map[string]string) *MonotonicCounter {
	return get(r, typeMonotonicCounter, "", name, tags, func(m meter) *MonotonicCounter { return &MonotonicCounter{m} })
}

// MonotonicCounterUint returns a monotonic counter of uint64 values.
func (r *Registry) MonotonicCounterUint(name string, tags map[string]string) *MonotonicCounterUint {
	return get(r, typeMonotonicUint, "", name, tags, func(m meter) *MonotonicCounterUint { return &MonotonicCounterUint{m} })
}

// Timer returns a timer.
func (r *Registry) Timer(name string, tags map[string]string) *Timer {
	return get(r, typeTimer, "", name, tags, func(m meter) *Timer { return &Timer{m} })
}

// PercentileTimer returns a timer with percentile buckets.
func (r *Registry) PercentileTimer(name string, tags map[string]string) *PercentileTimer {
	return get(r, typePercentileTimer, "", name, tags, func(m meter) *PercentileTimer { return &PercentileTimer{Timer{m}} })
}

// DistributionSummary returns a distribution summary.
func (r *Registry) DistributionSummary(name string, tags map[string]string) *DistributionSummary {
	return get(r, typeDistSummary, "", name, tags, func(m meter) *DistributionSummary { return &DistributionSummary{m} })
}

// PercentileDistributionSummary returns a distribution summary with
// percentile buckets.
func (r *Registry) PercentileDistributionSummary(name string, tags map[string]string) *PercentileDistributionSummary {
	return get(r, typePercentileDist, "", name, tags, func(m meter) *PercentileDistributionSummary {
		return &PercentileDistributionSummary{DistributionSummary{m}}
	})
}
