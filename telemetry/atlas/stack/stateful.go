package stack

import (
	"math"
	"strings"
	"time"
)

// online is a step-by-step algorithm over one line.
type online interface{ next(v float64) float64 }

// Stateful applies an online algorithm along each line: :delay, :rolling-*,
// :des, :sdes, :trend, :integral, :derivative, :cumulative-max.
type Stateful struct {
	Name   string
	Params []any
	Expr   TimeSeriesExpr
	algo   func(ctx *EvalContext) online
}

func (e *Stateful) appendTo(b *strings.Builder) {
	items := append([]any{e.Expr}, e.Params...)
	appendItems(b, append(items, word(":"+e.Name))...)
}
func (e *Stateful) String() string          { return exprString(e) }
func (e *Stateful) DataExprs() []DataExpr   { return e.Expr.DataExprs() }
func (e *Stateful) IsGrouped() bool         { return e.Expr.IsGrouped() }
func (e *Stateful) FinalGrouping() []string { return e.Expr.FinalGrouping() }
func (e *Stateful) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr = f(e.Expr).(TimeSeriesExpr)
	return &c
}

func (e *Stateful) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	out := make([]*TimeSeries, len(rs))
	for i, t := range rs {
		a := e.algo(ctx)
		if m, ok := a.(seriesAware); ok {
			m.measure(t.Tags)
		}
		vs := make([]float64, len(t.Values))
		for j, v := range t.Values {
			vs[j] = a.next(v)
		}
		out[i] = &TimeSeries{Tags: t.Tags, Label: e.Name + "(" + t.Label + ")", Values: vs}
	}
	return out, nil
}

// rolling is a window of the last n values.
type rolling struct {
	vs  []float64
	pos int
}

func newRolling(n int) *rolling { return &rolling{vs: nans(n)} }

func (r *rolling) add(v float64) float64 {
	old := r.vs[r.pos]
	r.vs[r.pos] = v
	r.pos = (r.pos + 1) % len(r.vs)
	return old
}

type funcAlgo func(v float64) float64

func (f funcAlgo) next(v float64) float64 { return f(v) }

func delayAlgo(n int) online {
	r := newRolling(n)
	return funcAlgo(r.add)
}

func rollingCount(n int) online {
	r := newRolling(n)
	count := 0.0
	return funcAlgo(func(v float64) float64 {
		old := r.add(v)
		count += b2f(truthy(v)) - b2f(truthy(old))
		return count
	})
}

func rollingExtreme(n int, pick func(a, b float64) float64) online {
	r := newRolling(n)
	return funcAlgo(func(v float64) float64 {
		r.add(v)
		m := math.NaN()
		for _, x := range r.vs {
			m = pick(m, x)
		}
		return m
	})
}

// rollingSumCount keeps a window's sum and count of non-NaN values.
func rollingSumCount(n int, out func(sum float64, count int) float64) online {
	r := newRolling(n)
	return funcAlgo(func(v float64) float64 {
		r.add(v)
		sum, count := 0.0, 0
		for _, x := range r.vs {
			if !math.IsNaN(x) {
				sum += x
				count++
			}
		}
		return out(sum, count)
	})
}

// des is double exponential smoothing (Holt's linear method) as Atlas's
// OnlineDes: the prediction is NaN until training samples were seen.
type des struct {
	training    int
	alpha, beta float64
	current     int
	sp, bp      float64
}

func newDes(training int, alpha, beta float64) *des {
	return &des{training: training, alpha: alpha, beta: beta, sp: math.NaN(), bp: math.NaN()}
}

func (d *des) reset() { d.current, d.sp, d.bp = 0, math.NaN(), math.NaN() }

func (d *des) next(v float64) float64 {
	ret := math.NaN()
	if d.current >= d.training {
		ret = d.sp
	}
	if !math.IsNaN(v) {
		if d.current == 0 {
			d.sp, d.bp = v, 0
		} else {
			sn := d.alpha*v + (1-d.alpha)*(d.sp+d.bp)
			bn := d.beta*(sn-d.sp) + (1-d.beta)*d.bp
			d.sp, d.bp = sn, bn
		}
		d.current++
	}
	return ret
}

// sdes alternates two DES, each reset every training samples, so the
// prediction never depends on data older than two training windows.
type sdes struct {
	training int
	d1, d2   *des
	useOne   bool
	current  int
	ignore   int
}

func (s *sdes) next(v float64) float64 {
	if s.ignore > 0 {
		s.ignore--
		return math.NaN()
	}
	s.current++
	v1, v2 := s.d1.next(v), s.d2.next(v)
	ret := v2
	if s.useOne {
		ret = v1
	}
	if s.current%s.training == 0 {
		if s.useOne {
			s.d1.reset()
		} else {
			s.d2.reset()
		}
		s.useOne = !s.useOne
	}
	return ret
}

func newSdes(ctx *EvalContext, training int, alpha, beta float64) online {
	s := &sdes{training: training, d1: newDes(training, alpha, beta), d2: newDes(training, alpha, beta), useOne: true}
	trainingStep := ctx.Step * int64(training)
	aligned := ctx.Start
	if ctx.Start%trainingStep != 0 {
		aligned = ctx.Start/trainingStep*trainingStep + trainingStep
	}
	s.ignore = int((aligned - ctx.Start) / ctx.Step)
	return s
}

func trendAlgo(ctx *EvalContext, window time.Duration) online {
	period := int(window.Milliseconds() / ctx.Step)
	period = min(period, 86400)
	if period <= 1 {
		return funcAlgo(func(v float64) float64 { return v })
	}
	r := newRolling(period)
	sum, nanCount, current := 0.0, period, 0
	return funcAlgo(func(v float64) float64 {
		current++
		old := r.add(v)
		if math.IsNaN(old) {
			nanCount--
		} else {
			sum -= old
		}
		if math.IsNaN(v) {
			nanCount++
		} else {
			sum += v
		}
		if current < period || nanCount == period {
			return math.NaN()
		}
		return sum / float64(period)
	})
}

func integralAlgo() online {
	acc := math.NaN()
	return funcAlgo(func(v float64) float64 { acc = addNaN(acc, v); return acc })
}

// seriesAware is an online algorithm whose result depends on what the
// line measures: Stateful gives it the line's tags before its first value.
type seriesAware interface{ measure(tags map[string]string) }

// derivative is Atlas's :derivative, "the opposite of :integral": the
// change per step. Atlas's own counters arrive as rates, but Gaffer stores
// Prometheus-style cumulative counters, which drop to zero when their
// process restarts. So on a counter (see IsCounterName) a decrease is a
// reset, handled as a rate handles it: the counter restarted from zero,
// and the step's change is its new value, never negative. Any other line
// keeps Atlas's semantics, negative changes included.
type derivative struct {
	prev    float64
	counter bool
}

func derivativeAlgo() online { return &derivative{prev: math.NaN()} }

func (d *derivative) measure(tags map[string]string) { d.counter = IsCounterName(tags["name"]) }

func (d *derivative) next(v float64) float64 {
	change := v - d.prev
	if d.counter && change < 0 {
		change = v
	}
	d.prev = v
	return change
}

// IsCounterName reports whether a metric name is a cumulative counter's
// by the Prometheus and OpenMetrics conventions: a counter's samples end
// in _total, and a summary's or histogram's cumulative parts in _count,
// _sum and _bucket.
func IsCounterName(name string) bool {
	for _, suffix := range []string{"_total", "_count", "_sum", "_bucket"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

func cumulativeMaxAlgo() online {
	acc := math.NaN()
	return funcAlgo(func(v float64) float64 { acc = maxNaN(acc, v); return acc })
}
