package stack

import (
	"context"
	"math"
	"sort"
	"sync"
)

// Source is where an evaluation reads data.
type Source interface {
	// Fetch calls fn for every series matching q with one value per step
	// for the steps start, start+step, …, before end (NaN where the series
	// has no data). values is reused once fn returns. Tags use Atlas's
	// "name" for the metric name.
	Fetch(ctx context.Context, q Query, start, end, step int64, fn func(tags map[string]string, values []float64) error) error
	// TagKeys lists the tag keys of series matching q with data in
	// [start, end].
	TagKeys(ctx context.Context, q Query, start, end int64) ([]string, error)
	// TagValues lists the values of key among series matching q.
	TagValues(ctx context.Context, key string, q Query, start, end int64) ([]string, error)
}

// MemSource is an in-memory Source of series already normalised to one
// step: Atlas's in-memory tier, and what tests and benchmarks use.
type MemSource struct {
	mu     sync.RWMutex
	step   int64
	series []*memSeries
	byKey  map[string]*memSeries
}

type memSeries struct {
	tags   map[string]string
	start  int64 // time of values[0]
	values []float64
}

// NewMemSource returns an empty source whose values are step
// milliseconds apart.
func NewMemSource(step int64) *MemSource {
	return &MemSource{step: step, byKey: map[string]*memSeries{}}
}

// Add sets the values of the series with tags from start (a multiple of
// the step) on; existing values of that series are replaced.
func (m *MemSource) Add(tags map[string]string, start int64, values []float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := toLabel(tags)
	s := &memSeries{tags: copyTags(tags), start: start, values: append([]float64(nil), values...)}
	if old, ok := m.byKey[k]; ok {
		*old = *s
		return
	}
	m.byKey[k] = s
	m.series = append(m.series, s)
}

// Fetch implements Source. A step that is a multiple of the source's step
// averages its values; others take the value at each step.
func (m *MemSource) Fetch(ctx context.Context, q Query, start, end, step int64, fn func(map[string]string, []float64) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := int((end - start) / step)
	buf := make([]float64, n)
	for i, s := range m.series {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !q.Matches(s.tags) {
			continue
		}
		if step == m.step && start >= s.start && (start-s.start)%step == 0 && int((start-s.start)/step)+n <= len(s.values) {
			off := int((start - s.start) / step)
			if err := fn(s.tags, s.values[off:off+n]); err != nil {
				return err
			}
			continue
		}
		for j := range buf {
			buf[j] = s.at(start+int64(j)*step, step, m.step)
		}
		if err := fn(s.tags, buf); err != nil {
			return err
		}
	}
	return nil
}

// at is the value of the window [t, t+step): the mean of the values in it.
func (s *memSeries) at(t, step, own int64) float64 {
	sum, c := 0.0, 0
	for u := t; u < t+max(step, own); u += own {
		if u < s.start || (u-s.start)%own != 0 {
			continue
		}
		i := int((u - s.start) / own)
		if i >= len(s.values) {
			break
		}
		if v := s.values[i]; !math.IsNaN(v) {
			sum += v
			c++
		}
	}
	if c == 0 {
		return math.NaN()
	}
	return sum / float64(c)
}

// TagKeys implements Source.
func (m *MemSource) TagKeys(_ context.Context, q Query, _, _ int64) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := map[string]bool{}
	for _, s := range m.series {
		if q.Matches(s.tags) {
			for k := range s.tags {
				set[k] = true
			}
		}
	}
	return sortedSet(set), nil
}

// TagValues implements Source.
func (m *MemSource) TagValues(_ context.Context, key string, q Query, _, _ int64) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := map[string]bool{}
	for _, s := range m.series {
		if v, ok := s.tags[key]; ok && q.Matches(s.tags) {
			set[v] = true
		}
	}
	return sortedSet(set), nil
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
