package rank

import (
	"math"
	"slices"

	"github.com/gaffer-sre/gaffer/analysis/changepoint/detect"
)

// climbs finds a change of a sawtooth's slope: a memory leak under
// garbage collections raises the heap by a few percent a minute, which
// the level statistic sees only against a history that goes up and down
// by half the heap at every collection. A sawtooth's steps are a climb
// (allocation) most of the time and, rarely, one large drop (a
// collection); without the drops, the steps are the climb's rate, and a
// leak is a step in that rate at the minute it starts, standing out
// against how steady the climb usually is. It keeps its buffers between
// calls.
type climbs struct {
	d     []float64 // the climb: the steps without the drops
	jumps []int     // where a lone step stood out of its neighbours
	out   []int     // the steps left out: drops, steps next to a gap
	tmp   []float64 // the baseline's deviations; then each step's next
	ch    changes
}

// Shape of a sawtooth's steps, and what a drop is: a series whose
// baseline steps have a skewness beyond sawtoothSkew (a sawtooth of
// period p has about (p-2)/√(p-1)) has its steps on the long tail's side
// beyond dropSpreads robust spreads of their median left out of its
// climb; a sawtooth has at least minDrops of them over its baseline. A
// series whose steps are about symmetric (noise, a random walk, spikes
// that go up and come down), or that stepped once or twice, is left to
// the level statistic. A lone step beyond dropSpreads spreads of its
// neighbours' within jumpNear steps of where the climb changed makes
// the change a jump of the level's, not a slope's.
const (
	sawtoothSkew = 2.0
	dropSpreads  = 4.0
	minDrops     = 5
	jumpNear     = 2
)

// scan returns the largest change of the slope of x (the whole series,
// read over [from-3·width, to), its gaps filled) for t in [lo, hi], with
// its z against the baseline positions whose windows end before base (as
// changes.scan), and false when x's steps over the baseline [from, base)
// are not a sawtooth's or the change is a jump of its level. A step to
// or from a value raw does not have (a gap, a pod that is gone) is left
// out like a drop: a series that stopped did not stop climbing.
func (c *climbs) scan(x, raw []float64, from, to, width, lo, hi, base int) (changeResult, bool) {
	start := max(1, from-trendWidths*width)
	if base-from < 4*width {
		return changeResult{}, false
	}
	// The skewness of the baseline's steps, before anything is written:
	// most series are not sawtooths.
	n := float64(base - from)
	mean := (x[base-1] - x[from-1]) / n
	m2, m3 := 0.0, 0.0
	for i := from; i < base; i++ {
		e := x[i] - x[i-1] - mean
		e2 := e * e
		m2 += e2
		m3 += e2 * e
	}
	m2, m3 = m2/n, m3/n
	if m2 <= 0 || m3*m3 < sawtoothSkew*sawtoothSkew*m2*m2*m2 {
		return changeResult{}, false
	}
	c.d = slices.Grow(c.d[:0], len(x))[:len(x)]
	d := c.d
	for i := start; i < to; i++ {
		d[i] = x[i] - x[i-1]
	}
	d[start-1] = 0
	bs := d[from:base]
	tail := sign(m3) // the side of the drops
	c.tmp = append(c.tmp[:0], bs...)
	med := detect.Median(c.tmp)
	for i, v := range bs {
		c.tmp[i] = math.Abs(v - med)
	}
	scale := 1.4826 * detect.Median(c.tmp)
	if scale <= 0 {
		return changeResult{}, false
	}
	drops := 0
	for _, v := range bs {
		if tail*(v-med) > dropSpreads*scale {
			drops++
		}
	}
	if drops < minDrops {
		return changeResult{}, false // a step or two, not a sawtooth
	}
	// The drops, and the steps to or from a value the series does not
	// have, are not the climb's.
	c.out = c.out[:0]
	for i := start; i < to; i++ {
		if tail*(d[i]-med) > dropSpreads*scale || missingValue(raw[i]) || missingValue(raw[i-1]) {
			d[i] = math.NaN()
			c.out = append(c.out, i)
		}
	}
	// A climb that changed keeps its new rate; a lone step (a one-off
	// jump of the level, a spike) is not one: the median of every step
	// and the steps on either side of it (the drops skipped) keeps the
	// one and drops the other. What is left out is filled with the climb
	// before it.
	next := slices.Grow(c.tmp[:0], to-start)[:to-start]
	c.tmp = next
	after := math.NaN()
	for i := to - 1; i >= start; i-- {
		next[i-start] = after
		if !math.IsNaN(d[i]) {
			after = d[i]
		}
	}
	prev, fill := math.NaN(), med
	c.jumps = c.jumps[:0]
	for i := start; i < to; i++ {
		cur := d[i]
		if math.IsNaN(cur) {
			d[i] = fill
			continue
		}
		if nx := next[i-start]; !math.IsNaN(prev) && !math.IsNaN(nx) {
			d[i] = median3(prev, cur, nx)
		}
		if math.Abs(cur-d[i]) > dropSpreads*scale {
			c.jumps = append(c.jumps, i)
		}
		prev, fill = cur, d[i]
	}
	r := c.ch.scan(d, from, from, to, width, lo, hi, base)
	// A climb that changed where the level jumped is the jump's: a
	// level multiplied (a one-off step) climbs faster or slower too.
	for _, j := range c.jumps {
		if j >= r.at-jumpNear && j <= r.at+jumpNear {
			return changeResult{}, false
		}
	}
	// A sawtooth drops once in several steps; where a third or more of
	// the steps after the change were left out (a pod that is gone, a
	// sawtooth that got so noisy that its steps pass for drops on one
	// side, which raises the mean of those left), what is left is not
	// its climb.
	end, left := min(r.at+width, to), 0
	for _, j := range c.out {
		if j >= r.at && j < end {
			left++
		}
	}
	if 3*left >= end-r.at {
		return changeResult{}, false
	}
	return r, true
}

// missingValue says whether v is no value: NaN or infinite.
func missingValue(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
