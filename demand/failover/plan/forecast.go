package plan

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Sample is one observation of demand.
type Sample struct {
	T time.Time
	V float64
}

// Forecast is a time-of-day demand forecast: a seasonal profile of the
// day (median over the days of history, robust to incidents), day-of-week
// factors when there are two weeks or more, and a linear trend of the
// daily mean.
type Forecast struct {
	// Step is the width of a profile slot.
	Step time.Duration `json:"step"`
	// Profile holds one multiplier per slot of the day (UTC), mean 1.
	Profile []float64 `json:"profile"`
	// Weekly holds a multiplier per weekday (Sunday first), mean 1.
	Weekly [7]float64 `json:"weekly"`
	// Level is the daily mean at Origin, changing by Slope per day.
	Level  float64   `json:"level"`
	Slope  float64   `json:"slope"`
	Origin time.Time `json:"origin"`
	// Days is how many days of history went in; 0 for a static forecast.
	Days int `json:"days"`
}

const day = 24 * time.Hour

// Static returns a forecast of a constant demand, multiplied at each hour
// (UTC) by the optional 24-value profile.
func Static(demand float64, hourly []float64) *Forecast {
	f := &Forecast{Step: time.Hour, Profile: make([]float64, 24), Level: demand}
	for i := range f.Profile {
		f.Profile[i] = 1
		if len(hourly) == 24 {
			f.Profile[i] = hourly[i]
		}
	}
	for i := range f.Weekly {
		f.Weekly[i] = 1
	}
	return f
}

// Fit builds a forecast from samples (any order) at the given slot width.
// It needs at least one full day of history.
func Fit(samples []Sample, step time.Duration) (*Forecast, error) {
	if step <= 0 || day%step != 0 {
		return nil, fmt.Errorf("forecast: step %v must divide a day", step)
	}
	slots := int(day / step)
	byDay := map[int64][]float64{} // day number → slot values (NaN: missing)
	for _, s := range samples {
		if math.IsNaN(s.V) || math.IsInf(s.V, 0) || s.V < 0 {
			continue
		}
		d := floorDiv(s.T.Unix(), 86400)
		row := byDay[d]
		if row == nil {
			row = make([]float64, slots)
			for i := range row {
				row[i] = math.NaN()
			}
			byDay[d] = row
		}
		row[slotOf(s.T, step)] = s.V
	}
	// Days at least half covered shape the profile; the trend and the
	// weekdays come from nearly complete days only, as the mean of half a
	// day says more about the hour than about the day.
	var days, full []int64
	for d, row := range byDay {
		c := coverage(row)
		if c >= 0.5 {
			days = append(days, d)
		}
		if c >= 0.9 {
			full = append(full, d)
		}
	}
	if len(days) == 0 {
		return nil, fmt.Errorf("forecast: need at least one day with half its %v slots, got %d samples", step, len(samples))
	}
	if len(full) == 0 {
		full = days
	}
	slices.Sort(days)
	slices.Sort(full)
	f := &Forecast{Step: step, Profile: make([]float64, slots), Origin: time.Unix(full[0]*86400, 0).UTC(), Days: len(days)}
	means := make([]float64, len(full))
	for i, d := range full {
		means[i] = nanMean(byDay[d])
	}
	// Trend and weekdays are fitted in turn: the trend of the daily means
	// with the weekday effect taken out, then the weekday effect of the
	// detrended days.
	for i := range f.Weekly {
		f.Weekly[i] = 1
	}
	var norm map[int64][]float64
	for pass := 0; pass < 2; pass++ {
		adj := make([]float64, len(means))
		for i, d := range full {
			adj[i] = means[i] / f.Weekly[weekday(d)]
		}
		f.Level, f.Slope = trend(full, adj)
		norm = map[int64][]float64{}
		for _, d := range days {
			lv := f.levelAtDay(d)
			row := make([]float64, slots)
			for i, v := range byDay[d] {
				row[i] = v / lv
			}
			norm[d] = row
		}
		f.weekly(full, norm)
	}
	for i := range f.Profile {
		var vals []float64
		for _, d := range days {
			if v := norm[d][i]; !math.IsNaN(v) {
				vals = append(vals, v/f.Weekly[weekday(d)])
			}
		}
		f.Profile[i] = median(vals)
	}
	fillGaps(f.Profile)
	normalise(f.Profile)
	return f, nil
}

func (f *Forecast) weekly(days []int64, norm map[int64][]float64) {
	for i := range f.Weekly {
		f.Weekly[i] = 1
	}
	if days[len(days)-1]-days[0] < 13 {
		return
	}
	var sum [7]float64
	var n [7]int
	for _, d := range days {
		sum[weekday(d)] += nanMean(norm[d])
		n[weekday(d)]++
	}
	for i := range f.Weekly {
		if n[i] > 0 {
			f.Weekly[i] = sum[i] / float64(n[i])
		}
	}
	normalise(f.Weekly[:])
}

// At returns the forecast demand at t.
func (f *Forecast) At(t time.Time) float64 {
	d := floorDiv(t.Unix(), 86400)
	lv := f.levelAtDay(d)
	// Interpolate between slot centres.
	pos := float64(t.Unix()-d*86400)/f.Step.Seconds() - 0.5
	i := int(math.Floor(pos))
	frac := pos - float64(i)
	n := len(f.Profile)
	a, b := f.Profile[(i%n+n)%n], f.Profile[((i+1)%n+n)%n]
	return math.Max(0, lv*f.Weekly[weekday(d)]*(a+(b-a)*frac))
}

// Peak returns the highest forecast between from and to, checked every
// slot and at both ends.
func (f *Forecast) Peak(from, to time.Time) float64 {
	peak := f.At(from)
	for t := from.Add(f.Step / 2); t.Before(to); t = t.Add(f.Step / 2) {
		peak = math.Max(peak, f.At(t))
	}
	return math.Max(peak, f.At(to))
}

func (f *Forecast) levelAtDay(d int64) float64 {
	if f.Days == 0 {
		return f.Level
	}
	days := float64(d - floorDiv(f.Origin.Unix(), 86400))
	lv := f.Level + f.Slope*days
	// A trend never takes the level below a fifth of where it started.
	return math.Max(lv, f.Level*0.2)
}

// trend fits mean = level + slope*(day - first day) by least squares.
func trend(days []int64, means []float64) (level, slope float64) {
	if len(days) < 3 {
		return nanMean(means), 0
	}
	var sx, sy, sxx, sxy float64
	for i, d := range days {
		x := float64(d - days[0])
		sx += x
		sy += means[i]
		sxx += x * x
		sxy += x * means[i]
	}
	n := float64(len(days))
	den := n*sxx - sx*sx
	if den == 0 {
		return sy / n, 0
	}
	slope = (n*sxy - sx*sy) / den
	level = (sy - slope*sx) / n
	if level <= 0 {
		return sy / n, 0
	}
	return level, slope
}

func slotOf(t time.Time, step time.Duration) int {
	sec := t.Unix() - floorDiv(t.Unix(), 86400)*86400
	return int(sec / int64(step/time.Second))
}

func weekday(d int64) int { return int((d%7 + 7 + 4) % 7) } // 1970-01-01 was a Thursday

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func coverage(row []float64) float64 {
	n := 0
	for _, v := range row {
		if !math.IsNaN(v) {
			n++
		}
	}
	return float64(n) / float64(len(row))
}

func nanMean(xs []float64) float64 {
	s, n := 0.0, 0
	for _, v := range xs {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// fillGaps replaces NaN slots by the nearest known ones, cyclically.
func fillGaps(p []float64) {
	n := len(p)
	for i := range p {
		if !math.IsNaN(p[i]) {
			continue
		}
		for k := 1; k < n; k++ {
			if v := p[(i+k)%n]; !math.IsNaN(v) {
				p[i] = v
				break
			}
			if v := p[((i-k)%n+n)%n]; !math.IsNaN(v) {
				p[i] = v
				break
			}
		}
		if math.IsNaN(p[i]) {
			p[i] = 1
		}
	}
}

func normalise(p []float64) {
	m := nanMean(p)
	if m <= 0 || math.IsNaN(m) {
		for i := range p {
			p[i] = 1
		}
		return
	}
	for i := range p {
		p[i] /= m
	}
}
