package stack

import (
	"strings"
	"time"
)

// CF is a consolidation function: how step values combine when the step
// grows (Atlas's :cf-avg, :cf-sum, :cf-min, :cf-max).
type CF int

// Consolidation functions.
const (
	CFAvg CF = iota
	CFSum
	CFMin
	CFMax
)

func (c CF) String() string { return [...]string{"avg", "sum", "min", "max"}[c] }

// AggKind is the aggregate of a data expression.
type AggKind int

// Aggregates across series.
const (
	AggSum AggKind = iota
	AggCount
	AggMin
	AggMax
)

func (k AggKind) String() string { return [...]string{"sum", "count", "min", "max"}[k] }

// defaultCF is the consolidation that matches each aggregate.
func (k AggKind) defaultCF() CF {
	switch k {
	case AggMin:
		return CFMin
	case AggMax:
		return CFMax
	}
	return CFAvg
}

// DataExpr is an expression that reads the store: :all, an aggregate
// (:sum, :count, :min, :max) or a grouped aggregate (:by).
type DataExpr interface {
	TimeSeriesExpr
	// Query selects the series.
	Query() Query
	// Offset shifts the data back in time.
	Offset() time.Duration
	withOffset(d time.Duration) DataExpr
}

// All returns every matching series unaggregated (:all).
type All struct {
	Q   Query
	Off time.Duration
}

// Aggregate combines every matching series into one line.
type Aggregate struct {
	Kind AggKind
	Q    Query
	CF   CF
	Off  time.Duration
}

// NewAggregate returns an aggregate with its default consolidation.
func NewAggregate(k AggKind, q Query) *Aggregate {
	return &Aggregate{Kind: k, Q: q, CF: k.defaultCF()}
}

// GroupBy aggregates matching series per distinct value of Keys (:by).
type GroupBy struct {
	AF   *Aggregate
	Keys []string
}

func (e *All) Query() Query                { return e.Q }
func (e *Aggregate) Query() Query          { return e.Q }
func (e *GroupBy) Query() Query            { return e.AF.Q }
func (e *All) Offset() time.Duration       { return e.Off }
func (e *Aggregate) Offset() time.Duration { return e.Off }
func (e *GroupBy) Offset() time.Duration   { return e.AF.Off }

func (e *All) withOffset(d time.Duration) DataExpr { c := *e; c.Off = d; return &c }
func (e *Aggregate) withOffset(d time.Duration) DataExpr {
	c := *e
	c.Off = d
	return &c
}
func (e *GroupBy) withOffset(d time.Duration) DataExpr {
	return &GroupBy{AF: e.AF.withOffset(d).(*Aggregate), Keys: e.Keys}
}
func (e *All) withQuery(q Query) DataExpr { c := *e; c.Q = q; return &c }
func (e *Aggregate) withQuery(q Query) DataExpr {
	c := *e
	c.Q = q
	return &c
}

func (e *All) DataExprs() []DataExpr       { return []DataExpr{e} }
func (e *Aggregate) DataExprs() []DataExpr { return []DataExpr{e} }
func (e *GroupBy) DataExprs() []DataExpr   { return []DataExpr{e} }

func (e *All) IsGrouped() bool       { return false }
func (e *Aggregate) IsGrouped() bool { return false }
func (e *GroupBy) IsGrouped() bool   { return true }

func (e *All) FinalGrouping() []string       { return nil }
func (e *Aggregate) FinalGrouping() []string { return nil }
func (e *GroupBy) FinalGrouping() []string   { return e.Keys }

func appendOffset(b *strings.Builder, d time.Duration) {
	if d != 0 {
		b.WriteByte(',')
		b.WriteString(formatDuration(d))
		b.WriteString(",:offset")
	}
}

func (e *All) appendTo(b *strings.Builder) {
	appendItems(b, e.Q, word(":all"))
	appendOffset(b, e.Off)
}

func (e *Aggregate) appendBase(b *strings.Builder) {
	appendItems(b, e.Q, word(":"+e.Kind.String()))
	if e.CF != e.Kind.defaultCF() {
		b.WriteString(",:cf-" + e.CF.String())
	}
}

func (e *Aggregate) appendTo(b *strings.Builder) {
	e.appendBase(b)
	appendOffset(b, e.Off)
}

func (e *GroupBy) appendTo(b *strings.Builder) {
	e.AF.appendBase(b)
	b.WriteByte(',')
	appendItem(b, e.Keys)
	b.WriteString(",:by")
	appendOffset(b, e.AF.Off)
}

func (e *All) String() string       { return exprString(e) }
func (e *Aggregate) String() string { return exprString(e) }
func (e *GroupBy) String() string   { return exprString(e) }

func (e *All) mapChildren(f func(Expr) Expr) Expr { return e.withQuery(f(e.Q).(Query)) }
func (e *Aggregate) mapChildren(f func(Expr) Expr) Expr {
	return e.withQuery(f(e.Q).(Query))
}
func (e *GroupBy) mapChildren(f func(Expr) Expr) Expr {
	af, ok := f(e.AF).(*Aggregate)
	if !ok {
		return e
	}
	return &GroupBy{AF: af, Keys: e.Keys}
}

// Eval of a data expression returns what was fetched for it.
func (e *All) Eval(_ *EvalContext, d DataMap) ([]*TimeSeries, error) {
	return d[e.String()], nil
}
func (e *Aggregate) Eval(_ *EvalContext, d DataMap) ([]*TimeSeries, error) {
	return d[e.String()], nil
}
func (e *GroupBy) Eval(_ *EvalContext, d DataMap) ([]*TimeSeries, error) {
	return d[e.String()], nil
}

// labelString is the default legend of an aggregate: sum(name=sps).
func (e *Aggregate) labelString() string {
	return e.Kind.String() + "(" + e.Q.labelString() + ")"
}
