package stack

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Stat replaces each line by one of its summary statistics over the
// window (:stat, and :stat-avg etc. inside :filter).
type Stat struct {
	Expr TimeSeriesExpr
	Name string
	// Str, when set, is how the expression prints (":stat-max" inside a
	// :filter condition).
	Str string
}

func (e *Stat) appendTo(b *strings.Builder) {
	if e.Str != "" {
		b.WriteString(e.Str)
		return
	}
	appendItems(b, e.Expr, e.Name, word(":stat"))
}
func (e *Stat) String() string          { return exprString(e) }
func (e *Stat) DataExprs() []DataExpr   { return e.Expr.DataExprs() }
func (e *Stat) IsGrouped() bool         { return e.Expr.IsGrouped() }
func (e *Stat) FinalGrouping() []string { return e.Expr.FinalGrouping() }
func (e *Stat) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr = f(e.Expr).(TimeSeriesExpr)
	return &c
}
func (e *Stat) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	out := make([]*TimeSeries, len(rs))
	for i, t := range rs {
		v, ok := Summarize(t.Values).Get(e.Name)
		if !ok {
			return nil, fmt.Errorf("unknown statistic: %s", e.Name)
		}
		out[i] = constSeries(ctx, t.Tags, "stat-"+e.Name+"("+t.Label+")", func(int64) float64 { return v })
	}
	return out, nil
}

// StatRef is a placeholder for the statistic of the line being filtered
// (:stat-avg, :stat-max, … used in a :filter condition).
type StatRef struct {
	leaf
	Name string
}

func (e *StatRef) appendTo(b *strings.Builder) { b.WriteString(":stat-" + e.Name) }
func (e *StatRef) String() string              { return exprString(e) }
func (e *StatRef) Eval(*EvalContext, DataMap) ([]*TimeSeries, error) {
	return nil, nil
}

// Filter keeps the lines of Expr1 whose matching line of Expr2 is true at
// some step (:filter).
type Filter struct {
	Expr1, Expr2 TimeSeriesExpr
}

func (e *Filter) appendTo(b *strings.Builder) { appendItems(b, e.Expr1, e.Expr2, word(":filter")) }
func (e *Filter) String() string              { return exprString(e) }
func (e *Filter) DataExprs() []DataExpr {
	return append(append([]DataExpr(nil), e.Expr1.DataExprs()...), e.Expr2.DataExprs()...)
}
func (e *Filter) IsGrouped() bool         { return e.Expr1.IsGrouped() }
func (e *Filter) FinalGrouping() []string { return e.Expr1.FinalGrouping() }
func (e *Filter) mapChildren(f func(Expr) Expr) Expr {
	return &Filter{Expr1: f(e.Expr1).(TimeSeriesExpr), Expr2: f(e.Expr2).(TimeSeriesExpr)}
}

func anyTrue(vs []float64) bool {
	for _, v := range vs {
		if truthy(v) {
			return true
		}
	}
	return false
}

func (e *Filter) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs1, err := e.Expr1.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	rs2, err := e.Expr2.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	var out []*TimeSeries
	switch {
	case !e.Expr2.IsGrouped():
		if len(rs2) != 1 {
			return nil, fmt.Errorf("empty result for filter expression")
		}
		if anyTrue(rs2[0].Values) {
			out = rs1
		}
	case !e.Expr1.IsGrouped():
	default:
		g2 := map[string][]*TimeSeries{}
		for _, t := range rs2 {
			k, _ := groupByKey(e, t.Tags)
			g2[k] = append(g2[k], t)
		}
		for _, t := range rs1 {
			k, _ := groupByKey(e, t.Tags)
			if m := g2[k]; len(m) == 1 && anyTrue(m[0].Values) {
				out = append(out, t)
			}
		}
	}
	ctx.Warnings = append(ctx.Warnings, fmt.Sprintf("%d of %d lines matched filter", len(out), len(rs1)))
	return out, nil
}

// Priority keeps the k lines with the highest (:topk) or lowest (:bottomk)
// statistic; the -others-* variants add one line aggregating the rest.
type Priority struct {
	Op     string // topk, bottomk-others-sum, …
	Expr   TimeSeriesExpr
	Stat   string
	K      int
	top    bool
	others string // "", min, max, sum or avg
}

func newPriority(op string, e TimeSeriesExpr, stat string, k int) (*Priority, error) {
	if k <= 0 {
		return nil, fmt.Errorf("k must be positive (%d <= 0)", k)
	}
	if _, ok := (SummaryStats{}).Get(stat); !ok {
		return nil, fmt.Errorf("unknown statistic: %s", stat)
	}
	p := &Priority{Op: op, Expr: e, Stat: stat, K: k, top: strings.HasPrefix(op, "topk")}
	if _, o, ok := strings.Cut(op, "-others-"); ok {
		p.others = o
	}
	return p, nil
}

func (e *Priority) appendTo(b *strings.Builder) {
	appendItems(b, e.Expr, e.Stat, e.K, word(":"+e.Op))
}
func (e *Priority) String() string          { return exprString(e) }
func (e *Priority) DataExprs() []DataExpr   { return e.Expr.DataExprs() }
func (e *Priority) IsGrouped() bool         { return e.Expr.IsGrouped() }
func (e *Priority) FinalGrouping() []string { return e.Expr.FinalGrouping() }
func (e *Priority) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr = f(e.Expr).(TimeSeriesExpr)
	return &c
}

func (e *Priority) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	type scored struct {
		t *TimeSeries
		v float64
		i int
	}
	ss := make([]scored, len(rs))
	for i, t := range rs {
		v, _ := Summarize(t.Values).Get(e.Stat)
		ss[i] = scored{t, v, i}
	}
	// Java's Double.compare order: NaN is the largest value.
	less := func(a, b float64) bool {
		switch {
		case math.IsNaN(a):
			return false
		case math.IsNaN(b):
			return true
		}
		return a < b
	}
	sort.SliceStable(ss, func(i, j int) bool {
		if e.top {
			return less(ss[j].v, ss[i].v)
		}
		return less(ss[i].v, ss[j].v)
	})
	k := min(e.K, len(ss))
	var out []*TimeSeries
	if e.others != "" && len(ss) > k {
		rest := make([]*TimeSeries, 0, len(ss)-k)
		for _, s := range ss[k:] {
			rest = append(rest, s.t)
		}
		var vs []float64
		switch e.others {
		case "min":
			vs = aggregateLines(AggMin, rest, ctx.Len())
		case "max":
			vs = aggregateLines(AggMax, rest, ctx.Len())
		case "sum":
			vs = aggregateLines(AggSum, rest, ctx.Len())
		case "avg":
			sum, cnt := aggregateLines(AggSum, rest, ctx.Len()), aggregateLines(AggCount, rest, ctx.Len())
			vs = make([]float64, len(sum))
			for i := range vs {
				vs[i] = sum[i] / cnt[i]
			}
		}
		tags := copyTags(rest[0].Tags)
		for _, key := range e.FinalGrouping() {
			tags[key] = "--others--"
		}
		out = append(out, &TimeSeries{Tags: tags, Label: toLabel(tags), Values: vs})
	}
	for _, s := range ss[:k] {
		out = append(out, s.t)
	}
	return out, nil
}

// Consolidate re-consolidates lines to a larger step, keeping the step of
// the graph (:consolidate).
type Consolidate struct {
	Expr TimeSeriesExpr
	CF   CF
	Step time.Duration
}

func (e *Consolidate) appendTo(b *strings.Builder) {
	appendItems(b, e.Expr, e.CF.String(), e.Step, word(":consolidate"))
}
func (e *Consolidate) String() string          { return exprString(e) }
func (e *Consolidate) DataExprs() []DataExpr   { return e.Expr.DataExprs() }
func (e *Consolidate) IsGrouped() bool         { return e.Expr.IsGrouped() }
func (e *Consolidate) FinalGrouping() []string { return e.Expr.FinalGrouping() }
func (e *Consolidate) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr = f(e.Expr).(TimeSeriesExpr)
	return &c
}

func (e *Consolidate) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	step := e.Step.Milliseconds()
	if step >= ctx.Step && step%ctx.Step != 0 {
		step = ctx.Step * (step/ctx.Step + 1)
	}
	if step <= ctx.Step {
		return rs, nil
	}
	m := int(step / ctx.Step)
	out := make([]*TimeSeries, len(rs))
	for i, t := range rs {
		vs := make([]float64, len(t.Values))
		for j := range vs {
			// The consolidated value of the window (e-step, e] holding t.
			ts := ctx.Start + int64(j)*ctx.Step
			end := ts
			if ts%step != 0 {
				end = ts/step*step + step
			}
			first := int((end-ctx.Start)/ctx.Step) - m + 1
			vs[j] = consolidateWindow(t.Values, first, m, e.CF, false)
		}
		out[i] = &TimeSeries{Tags: t.Tags, Label: t.Label, Values: vs}
	}
	return out, nil
}

// consolidateWindow combines vs[first:first+m] (indexes outside vs count
// as NaN) with cf; rate divides averages by m rather than by the values
// present.
func consolidateWindow(vs []float64, first, m int, cf CF, rate bool) float64 {
	acc := math.NaN()
	c := 0
	for i := first; i < first+m; i++ {
		v := math.NaN()
		if i >= 0 && i < len(vs) {
			v = vs[i]
		}
		switch cf {
		case CFMin:
			acc = minNaN(acc, v)
		case CFMax:
			acc = maxNaN(acc, v)
		default:
			acc = addNaN(acc, v)
		}
		if !math.IsNaN(v) {
			c++
		}
	}
	if cf == CFAvg && c > 0 {
		if rate {
			return acc / float64(m)
		}
		return acc / float64(c)
	}
	return acc
}
