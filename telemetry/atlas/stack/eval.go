package stack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Limits bound one evaluation, so that a runaway query fails with a clear
// error instead of taking the server down.
type Limits struct {
	// MaxDatapoints bounds the datapoints per line (Atlas's 1,440): the
	// automatic step grows to respect it, and an explicit step that would
	// exceed it is refused.
	MaxDatapoints int
	// MaxLines bounds the series one :all or the groups one :by returns.
	MaxLines int
	// MaxInputDatapoints bounds the datapoints read from the store.
	MaxInputDatapoints int64
	// MaxValues bounds the values (lines × datapoints) one graph's data
	// expressions hold together; each is bounded by MaxLines, but a
	// program may have many.
	MaxValues int64
	// Budget bounds the time of one evaluation.
	Budget time.Duration
}

// DefaultLimits are Atlas's defaults plus a 30 s time budget.
var DefaultLimits = Limits{MaxDatapoints: 1440, MaxLines: 1024, MaxInputDatapoints: 500_000_000,
	MaxValues: 16_000_000, Budget: 30 * time.Second}

// ErrLimit is wrapped by every error of a query over a limit.
var ErrLimit = errors.New("query limit exceeded")

// Request is what to evaluate.
type Request struct {
	// Query is the program.
	Query string
	// Start and End bound the graph.
	Start, End time.Time
	// Step, when non-zero, is the step asked for; otherwise it is chosen
	// from the width as Atlas does (one datapoint per pixel at most).
	Step time.Duration
	// Width is the graph's width in pixels (700 by default).
	Width int
	// Zone is the time zone of :time-span and :time (UTC by default).
	Zone *time.Location
}

// Result is an evaluated graph.
type Result struct {
	// Start, End and Step of the datapoints: Lines[i].Values[j] is at
	// Start + j*Step, for times before End.
	Start, End, Step int64
	Exprs            []ExprResult
	Warnings         []string
}

// ExprResult is one expression of the program and its lines, ordered and
// limited by its style.
type ExprResult struct {
	Style *StyleExpr
	Lines []*TimeSeries
}

// Evaluator evaluates programs over a Source.
type Evaluator struct {
	Source Source
	Limits Limits
	// PrimaryStep is the store's natural step (1 minute, as Atlas).
	PrimaryStep time.Duration
}

// allowedSteps are Atlas's step sizes; beyond a day, whole days.
var allowedSteps = func() []int64 {
	var out []int64
	for _, ms := range []int64{1, 5, 10, 50, 100, 500} {
		out = append(out, ms)
	}
	for _, m := range []int64{1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30} {
		out = append(out, m*1000)
	}
	for _, m := range []int64{1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30} {
		out = append(out, m*60_000)
	}
	for _, h := range []int64{1, 2, 3, 4, 6, 8, 12} {
		out = append(out, h*3_600_000)
	}
	return out
}()

// roundStep is the smallest allowed step ≥ s that is compatible with the
// primary step.
func roundStep(primary, s int64) int64 {
	s = max(s, 1)
	for _, a := range allowedSteps {
		compatible := (a <= primary && primary%a == 0) || (a > primary && a%primary == 0)
		if a >= s && compatible {
			return a
		}
	}
	const day = 86_400_000
	if s%day == 0 {
		return s
	}
	return s/day*day + day
}

// Steps resolves a request's step and its aligned range as Atlas's graph
// API does: start and end rounded down to the step, the end's step
// included.
func (ev *Evaluator) Steps(r Request) (start, end, step int64, err error) {
	lim := ev.limits()
	primary := ev.primary()
	s, e := r.Start.UnixMilli(), r.End.UnixMilli()
	if e < s {
		return 0, 0, 0, fmt.Errorf("start %s is after end %s", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	}
	width := r.Width
	if width <= 0 {
		width = 700
	}
	width = min(width, lim.MaxDatapoints)
	if r.Step > 0 {
		ms := r.Step.Milliseconds()
		if ms < primary {
			primary = roundStep(ms, ms)
		}
		step = roundStep(primary, ms)
		if n := (e-s)/step + 1; n > int64(lim.MaxDatapoints) {
			need := roundStep(primary, (e-s)/int64(lim.MaxDatapoints)+1)
			return 0, 0, 0, fmt.Errorf("%w: step %s over %s gives %d datapoints per line, more than the limit of %d; use a step of at least %s or a shorter range",
				ErrLimit, formatDuration(r.Step), formatDuration(time.Duration(e-s)*time.Millisecond), n, lim.MaxDatapoints,
				formatDuration(time.Duration(need)*time.Millisecond))
		}
	} else {
		dp := (e - s) / primary
		per := dp / int64(width)
		if dp%int64(width) != 0 {
			per++
		}
		step = roundStep(primary, max(1, per)*primary)
	}
	// As Atlas's graph API: the datapoints shown are those after the
	// rounded start up to and including the rounded end, each labelled
	// with the end of its interval.
	rs, re := floorTo(s, step), floorTo(e, step)
	if rs == re {
		rs -= step
	}
	return rs + step, re + step, step, nil
}

func floorTo(t, step int64) int64 {
	q := t / step
	if t%step != 0 && t < 0 {
		q--
	}
	return q * step
}

func (ev *Evaluator) limits() Limits {
	l := ev.Limits
	d := DefaultLimits
	if l.MaxDatapoints <= 0 {
		l.MaxDatapoints = d.MaxDatapoints
	}
	if l.MaxLines <= 0 {
		l.MaxLines = d.MaxLines
	}
	if l.MaxInputDatapoints <= 0 {
		l.MaxInputDatapoints = d.MaxInputDatapoints
	}
	if l.MaxValues <= 0 {
		l.MaxValues = d.MaxValues
	}
	if l.Budget <= 0 {
		l.Budget = d.Budget
	}
	return l
}

func (ev *Evaluator) primary() int64 {
	if ev.PrimaryStep > 0 {
		return ev.PrimaryStep.Milliseconds()
	}
	return 60_000
}

// Parse runs a program and returns its expressions, each as a
// *StyleExpr; anything else left on the stack is an error.
func Parse(program string, zone *time.Location) ([]*StyleExpr, error) {
	st, err := Interpret(program, nil, zone)
	if err != nil {
		return nil, err
	}
	out := make([]*StyleExpr, 0, len(st))
	for i, v := range st {
		s, ok := tStyle.extract(v)
		if !ok {
			return nil, &Error{Pos: len(program), Msg: fmt.Sprintf("item %d left on the stack is %s, not an expression", i+1, describe(v))}
		}
		out = append(out, s.(*StyleExpr))
	}
	return out, nil
}

// Evaluate parses and evaluates a request.
func (ev *Evaluator) Evaluate(ctx context.Context, r Request) (*Result, error) {
	exprs, err := Parse(r.Query, r.Zone)
	if err != nil {
		return nil, err
	}
	start, end, step, err := ev.Steps(r)
	if err != nil {
		return nil, err
	}
	return ev.EvaluateExprs(ctx, exprs, start, end, step, r.Zone)
}

// EvaluateExprs evaluates parsed expressions over an aligned range.
func (ev *Evaluator) EvaluateExprs(ctx context.Context, exprs []*StyleExpr, start, end, step int64, zone *time.Location) (*Result, error) {
	lim := ev.limits()
	ctx, cancel := context.WithTimeout(ctx, lim.Budget)
	defer cancel()
	// The :offset style setting draws the expression once per offset.
	var expanded []*StyleExpr
	for _, e := range exprs {
		offs, ok := e.Settings["offset"]
		if !ok {
			expanded = append(expanded, e)
			continue
		}
		for _, o := range strings.Split(strings.Trim(offs, "(,)"), ",") {
			d, err := ParseDuration(strings.TrimSpace(o))
			if err != nil {
				continue
			}
			s := e.Settings.clone()
			delete(s, "offset")
			expanded = append(expanded, &StyleExpr{Expr: withOffset(e.Expr, d), Settings: s})
		}
	}
	ectx := &EvalContext{Start: start, End: end, Step: step, Zone: zone}
	data := DataMap{}
	f := &fetcher{ev: ev, lim: lim, ectx: ectx}
	var held int64 // values in data
	for _, e := range expanded {
		for _, de := range e.Expr.DataExprs() {
			k := exprString(de)
			if _, done := data[k]; done {
				continue
			}
			lines, err := f.fetch(ctx, de)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return nil, fmt.Errorf("%w: the query took longer than its time budget of %s", ErrLimit, lim.Budget)
				}
				return nil, err
			}
			data[k] = lines
			if held += int64(len(lines)) * int64(ectx.Len()); held > lim.MaxValues {
				return nil, fmt.Errorf("%w: the graph's data holds more than %d values (lines × datapoints); draw fewer lines or use a larger step",
					ErrLimit, lim.MaxValues)
			}
		}
	}
	res := &Result{Start: start, End: end, Step: step}
	for _, e := range expanded {
		lines, err := e.Expr.Eval(ectx, data)
		if err != nil {
			return nil, &Error{Word: "", Pos: 0, Msg: err.Error()}
		}
		lines, err = e.Order(lines)
		if err != nil {
			return nil, err
		}
		res.Exprs = append(res.Exprs, ExprResult{Style: e, Lines: lines})
	}
	res.Warnings = ectx.Warnings
	return res, nil
}

// fetcher reads the data expressions of one evaluation.
type fetcher struct {
	ev    *Evaluator
	lim   Limits
	ectx  *EvalContext
	input int64
}

// group accumulates the series of one aggregate.
type group struct {
	tags   map[string]string
	values []float64
	count  int
}

func (f *fetcher) fetch(ctx context.Context, de DataExpr) ([]*TimeSeries, error) {
	ec := f.ectx
	step, primary := ec.Step, f.ev.primary()
	fetchStep := step
	if step > primary && step%primary == 0 && step/primary <= 60 {
		fetchStep = primary
	}
	m := int(step / fetchStep)
	n := ec.Len()
	off := de.Offset().Milliseconds()
	// Step j covers the fetched steps ending at its own time, as Atlas
	// consolidates (t-step, t].
	fs := ec.Start - off - int64(m-1)*fetchStep
	fe := fs + int64(n*m)*fetchStep
	q := de.Query()
	var agg *Aggregate
	var keys []string
	switch x := de.(type) {
	case *Aggregate:
		agg = x
	case *GroupBy:
		agg, keys = x.AF, x.Keys
	}
	groups := map[string]*group{}
	var single *group // the one group of an ungrouped aggregate
	var all []*TimeSeries
	err := f.ev.Source.Fetch(ctx, q, fs, fe, fetchStep, func(tags map[string]string, vs []float64) error {
		f.input += int64(len(vs))
		if f.input > f.lim.MaxInputDatapoints {
			return fmt.Errorf("%w: the query reads more than %d datapoints", ErrLimit, f.lim.MaxInputDatapoints)
		}
		if agg == nil {
			if len(all) >= f.lim.MaxLines {
				return fmt.Errorf("%w: %s matches more than %d series; narrow the query or aggregate it", ErrLimit, q, f.lim.MaxLines)
			}
			all = append(all, &TimeSeries{Tags: copyTags(tags), Label: toLabel(tags),
				Values: consolidate(vs, n, m, CFSum)})
			return nil
		}
		if keys == nil && single != nil {
			single.count++
			accumulate(agg.Kind, single.values, vs)
			return nil
		}
		k := ""
		if keys != nil {
			var ok bool
			if k, ok = keyString(keys, tags); !ok {
				return nil
			}
		}
		g := groups[k]
		if g == nil {
			if len(groups) >= f.lim.MaxLines {
				return fmt.Errorf("%w: %s has more than %d groups", ErrLimit, exprString(de), f.lim.MaxLines)
			}
			g = &group{tags: tags, values: nans(len(vs))}
			g.tags = copyTags(tags)
			groups[k] = g
			if keys == nil {
				single = g
			}
		}
		g.count++
		accumulate(agg.Kind, g.values, vs)
		return nil
	})
	if err != nil {
		return nil, err
	}
	suffix := ""
	if off != 0 {
		suffix = " (offset=" + formatDuration(de.Offset()) + ")"
	}
	if agg == nil {
		for _, t := range all {
			t.Label += suffix
		}
		return all, nil
	}
	exact := exactKeys(q)
	if keys == nil {
		g := groups[""]
		if g == nil {
			t := noData(ec, queryTags(q))
			return []*TimeSeries{t}, nil
		}
		tags := filterTags(g.tags, func(k string) bool { return exact[k] })
		if len(tags) == 0 {
			tags = map[string]string{"name": "unknown"}
		}
		return []*TimeSeries{{Tags: tags, Label: agg.labelString() + suffix, Values: consolidate(g.values, n, m, agg.CF)}}, nil
	}
	order := make([]string, 0, len(groups))
	for k := range groups {
		order = append(order, k)
	}
	sort.Strings(order)
	out := make([]*TimeSeries, 0, len(order))
	for _, k := range order {
		g := groups[k]
		tags := filterTags(g.tags, func(x string) bool {
			if exact[x] {
				return true
			}
			for _, kk := range keys {
				if kk == x {
					return true
				}
			}
			return false
		})
		out = append(out, &TimeSeries{Tags: tags, Label: k + suffix, Values: consolidate(g.values, n, m, agg.CF)})
	}
	return out, nil
}

// accumulate folds one series into an aggregate buffer.
func accumulate(k AggKind, acc, vs []float64) {
	switch k {
	case AggSum:
		acc = acc[:len(vs)]
		for i, v := range vs {
			if v == v { // not NaN
				if a := acc[i]; a == a {
					acc[i] = a + v
				} else {
					acc[i] = v
				}
			}
		}
	case AggCount:
		for i, v := range vs {
			if v == v {
				if a := acc[i]; a != a {
					acc[i] = 1
				} else {
					acc[i] = a + 1
				}
			}
		}
	case AggMin:
		for i, v := range vs {
			acc[i] = minNaN(acc[i], v)
		}
	case AggMax:
		for i, v := range vs {
			acc[i] = maxNaN(acc[i], v)
		}
	}
}

// consolidate combines groups of m fetched steps into n steps with cf.
func consolidate(vs []float64, n, m int, cf CF) []float64 {
	out := make([]float64, n)
	if m == 1 {
		copy(out, vs)
		return out
	}
	for j := range out {
		out[j] = consolidateWindow(vs, j*m, m, cf, false)
	}
	return out
}

var _ = math.NaN
