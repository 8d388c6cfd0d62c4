package chart

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// scaler maps values to the axis scale (log, pow2, sqrt or linear).
type scaler func(v float64) float64

func scaleFunc(name string) (scaler, scaler) {
	switch name {
	case "log":
		f := func(v float64) float64 { return math.Copysign(math.Log10(1+math.Abs(v)), v) }
		inv := func(v float64) float64 { return math.Copysign(math.Pow(10, math.Abs(v))-1, v) }
		return f, inv
	case "pow2":
		return func(v float64) float64 { return math.Copysign(v*v, v) },
			func(v float64) float64 { return math.Copysign(math.Sqrt(math.Abs(v)), v) }
	case "sqrt":
		return func(v float64) float64 { return math.Copysign(math.Sqrt(math.Abs(v)), v) },
			func(v float64) float64 { return math.Copysign(v*v, v) }
	}
	id := func(v float64) float64 { return v }
	return id, id
}

// niceStep returns a 1, 2 or 5 × 10^k step giving about n ticks over span.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// valueTicks returns tick values in [lo, hi] for a linear axis.
func valueTicks(lo, hi float64, n int) []float64 {
	step := niceStep(hi-lo, n)
	var out []float64
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
		if len(out) > 100 {
			break
		}
	}
	return out
}

var siPrefixes = []struct {
	exp    int
	prefix string
}{{24, "Y"}, {21, "Z"}, {18, "E"}, {15, "P"}, {12, "T"}, {9, "G"}, {6, "M"}, {3, "k"}, {0, ""},
	{-3, "m"}, {-6, "μ"}, {-9, "n"}, {-12, "p"}, {-15, "f"}}

// siPrefix picks the prefix for labels of values up to maxAbs.
func siPrefix(maxAbs float64) (float64, string) {
	if maxAbs == 0 || math.IsNaN(maxAbs) || math.IsInf(maxAbs, 0) {
		return 1, ""
	}
	e := int(math.Floor(math.Log10(maxAbs)))
	for _, p := range siPrefixes {
		if e >= p.exp {
			return math.Pow(10, float64(p.exp)), p.prefix
		}
	}
	return 1e-15, "f"
}

// formatTick formats v with the prefix and enough decimals for step.
func formatTick(v, step float64) string {
	if v == 0 {
		return "0"
	}
	m := math.Max(math.Abs(v), math.Abs(step))
	div, prefix := siPrefix(m)
	decimals := 0
	if s := step / div; s > 0 && s < 1 {
		decimals = int(math.Ceil(-math.Log10(s) - 1e-9))
	}
	s := strconv.FormatFloat(v/div, 'f', min(decimals, 6), 64)
	if s == "-0" {
		s = "0"
	}
	return s + prefix
}

// FormatValue formats a legend statistic with 3 significant digits and an
// SI prefix, as Atlas's legends do.
func FormatValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.IsInf(v, 0) {
		if v > 0 {
			return "∞"
		}
		return "-∞"
	}
	div, prefix := siPrefix(math.Abs(v))
	x := v / div
	d := 2
	switch a := math.Abs(x); {
	case a >= 100:
		d = 0
	case a >= 10:
		d = 1
	}
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + prefix
}

var timeSteps = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
	20 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour,
	8 * time.Hour, 12 * time.Hour, 24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
	30 * 24 * time.Hour, 91 * 24 * time.Hour, 365 * 24 * time.Hour}

// timeTicks returns tick times in [start, end] in zone, at most n of them,
// aligned to the zone's wall clock, and the label format.
func timeTicks(start, end int64, n int, zone *time.Location) ([]time.Time, string) {
	span := time.Duration(end-start) * time.Millisecond
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	layout := "15:04"
	switch {
	case step < time.Minute:
		layout = "15:04:05"
	case step >= 365*24*time.Hour:
		layout = "2006"
	case step >= 91*24*time.Hour:
		layout = "Jan 2006"
	case step >= 24*time.Hour:
		layout = "Jan 02"
	}
	t := time.UnixMilli(start).In(zone)
	var first time.Time
	if step >= 24*time.Hour {
		first = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
	} else {
		_, off := t.Zone()
		ms := t.UnixMilli() + int64(off)*1000
		sm := step.Milliseconds()
		first = time.UnixMilli((ms/sm)*sm - int64(off)*1000).In(zone)
	}
	var out []time.Time
	for tt := first; tt.UnixMilli() <= end; {
		if tt.UnixMilli() >= start {
			out = append(out, tt)
		}
		if step >= 24*time.Hour {
			tt = tt.AddDate(0, 0, int(step/(24*time.Hour)))
		} else {
			tt = tt.Add(step)
		}
		if len(out) > 200 {
			break
		}
	}
	return out, layout
}
