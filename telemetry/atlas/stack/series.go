package stack

import (
	"math"
	"sort"
	"strings"
	"time"
)

// TimeSeries is one line of a result: its tags, its label and one value
// per step from the evaluation's start (NaN where there is no data).
type TimeSeries struct {
	Tags   map[string]string
	Label  string
	Values []float64
}

// EvalContext is the time range and step of an evaluation, in Unix
// milliseconds: Values[i] of a result is the datapoint at Start+i*Step,
// for Start ≤ t < End.
type EvalContext struct {
	Start, End, Step int64
	// Zone is the time zone of :time (UTC when nil).
	Zone *time.Location
	// Warnings collects notes such as "3 of 10 lines matched filter".
	Warnings []string
}

// Len is the number of datapoints per line.
func (c *EvalContext) Len() int { return int((c.End - c.Start) / c.Step) }

// nans returns a slice of n NaN values.
func nans(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

func constSeries(ctx *EvalContext, tags map[string]string, label string, f func(t int64) float64) *TimeSeries {
	vs := make([]float64, ctx.Len())
	for i := range vs {
		vs[i] = f(ctx.Start + int64(i)*ctx.Step)
	}
	return &TimeSeries{Tags: tags, Label: label, Values: vs}
}

// toLabel formats tags as "k1=v1, k2=v2", keys sorted, as Atlas does.
func toLabel(tags map[string]string) string {
	if len(tags) == 0 {
		return "NO TAGS"
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
	}
	return b.String()
}

// keyString is the group key "(k1=v1 k2=v2)" of tags for keys, and false
// when a key is missing (the series belongs to no group).
func keyString(keys []string, tags map[string]string) (string, bool) {
	var b strings.Builder
	b.WriteByte('(')
	for i, k := range keys {
		v, ok := tags[k]
		if !ok {
			return "", false
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	b.WriteByte(')')
	return b.String(), true
}

func copyTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// NaN-aware arithmetic, as Atlas's Math.addNaN and friends: NaN counts as
// missing unless both sides are missing.
func addNaN(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return a + b
}

func subNaN(a, b float64) float64 {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return math.NaN()
	case math.IsNaN(a):
		return -b
	case math.IsNaN(b):
		return a
	}
	return a - b
}

func minNaN(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return math.Min(a, b)
}

func maxNaN(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return math.Max(a, b)
}

// truthy is Atlas's Math.toBoolean: neither NaN nor zero.
func truthy(v float64) bool { return !math.IsNaN(v) && v != 0 }

// SummaryStats are a line's statistics over the graph window, as in the
// legend and :stat.
type SummaryStats struct {
	Count                      int
	Min, Max, Last, Total, Avg float64
}

// Summarize computes a line's statistics, ignoring NaN.
func Summarize(vs []float64) SummaryStats {
	s := SummaryStats{Min: math.Inf(1), Max: math.Inf(-1), Last: math.NaN()}
	for _, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		s.Count++
		s.Total += v
		s.Min = math.Min(s.Min, v)
		s.Max = math.Max(s.Max, v)
		s.Last = v
	}
	if s.Count == 0 {
		n := math.NaN()
		return SummaryStats{Min: n, Max: n, Last: n, Total: n, Avg: n}
	}
	s.Avg = s.Total / float64(s.Count)
	return s
}

// Get returns a statistic by Atlas's name: avg, max, min, last, total or
// count.
func (s SummaryStats) Get(stat string) (float64, bool) {
	switch stat {
	case "avg":
		return s.Avg, true
	case "max":
		return s.Max, true
	case "min":
		return s.Min, true
	case "last":
		return s.Last, true
	case "total":
		return s.Total, true
	case "count":
		return float64(s.Count), true
	}
	return math.NaN(), false
}
