package stack

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

var noDataTags = map[string]string{"name": "NO_DATA"}

func noData(ctx *EvalContext, tags map[string]string) *TimeSeries {
	if len(tags) == 0 {
		tags = noDataTags
	}
	return &TimeSeries{Tags: copyTags(tags), Label: "NO DATA", Values: nans(ctx.Len())}
}

// leaf provides the methods of an expression that reads no data.
type leaf struct{}

func (leaf) DataExprs() []DataExpr   { return nil }
func (leaf) IsGrouped() bool         { return false }
func (leaf) FinalGrouping() []string { return nil }

// Constant is a line with one value everywhere (a number, :const, :pi).
type Constant struct {
	leaf
	V float64
}

func (e *Constant) appendTo(b *strings.Builder) { appendItems(b, e.V, word(":const")) }
func (e *Constant) String() string              { return exprString(e) }
func (e *Constant) Eval(ctx *EvalContext, _ DataMap) ([]*TimeSeries, error) {
	s := formatDouble(e.V)
	return []*TimeSeries{constSeries(ctx, map[string]string{"name": s}, s, func(int64) float64 { return e.V })}, nil
}

// Random is :random (Seeded false) or :srandom: a value in [0, 1) derived
// from the timestamp, so a graph is stable across refreshes.
type Random struct {
	leaf
	Seeded bool
	Seed   int
}

func (e *Random) appendTo(b *strings.Builder) {
	if e.Seeded {
		appendItems(b, e.Seed, word(":srandom"))
		return
	}
	b.WriteString(":random")
}
func (e *Random) String() string { return exprString(e) }
func (e *Random) Eval(ctx *EvalContext, _ DataMap) ([]*TimeSeries, error) {
	label := "random"
	if e.Seeded {
		label = fmt.Sprintf("seeded-random(%d)", e.Seed)
	}
	return []*TimeSeries{constSeries(ctx, map[string]string{"name": label}, label, func(t int64) float64 {
		if e.Seeded {
			t ^= int64(e.Seed)
		}
		h := lowbias64(uint64(t))
		return float64(absInt64(int64(h))%1000) / 1000
	})}, nil
}

func absInt64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// lowbias64 is the 64-bit mixer Atlas's :random uses.
func lowbias64(x uint64) uint64 {
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return x
}

// TimeField is :time: a field of each step's timestamp (hourOfDay,
// dayOfWeek, …) or the time since the epoch (seconds, minutes, …).
type TimeField struct {
	leaf
	Mode string
}

func (e *TimeField) appendTo(b *strings.Builder) { appendItems(b, e.Mode, word(":time")) }
func (e *TimeField) String() string              { return exprString(e) }

var timeModes = map[string]func(t time.Time) float64{
	"secondOfMinute": func(t time.Time) float64 { return float64(t.Second()) },
	"secondOfDay":    func(t time.Time) float64 { return float64(t.Hour()*3600 + t.Minute()*60 + t.Second()) },
	"minuteOfHour":   func(t time.Time) float64 { return float64(t.Minute()) },
	"minuteOfDay":    func(t time.Time) float64 { return float64(t.Hour()*60 + t.Minute()) },
	"hourOfDay":      func(t time.Time) float64 { return float64(t.Hour()) },
	"dayOfWeek": func(t time.Time) float64 {
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	},
	"dayOfMonth":    func(t time.Time) float64 { return float64(t.Day()) },
	"dayOfYear":     func(t time.Time) float64 { return float64(t.YearDay()) },
	"monthOfYear":   func(t time.Time) float64 { return float64(t.Month()) },
	"yearOfCentury": func(t time.Time) float64 { return float64(t.Year()) },
	"yearOfEra":     func(t time.Time) float64 { return float64(t.Year()) },
	"seconds":       func(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 },
	"minutes":       func(t time.Time) float64 { return float64(t.UnixMilli()) / 6e4 },
	"hours":         func(t time.Time) float64 { return float64(t.UnixMilli()) / 3.6e6 },
	"days":          func(t time.Time) float64 { return float64(t.UnixMilli()) / 8.64e7 },
	"weeks":         func(t time.Time) float64 { return float64(t.UnixMilli()) / 6.048e8 },
}

// Java's ChronoField names are accepted too.
func init() {
	for k, v := range map[string]string{"SECOND_OF_MINUTE": "secondOfMinute", "SECOND_OF_DAY": "secondOfDay",
		"MINUTE_OF_HOUR": "minuteOfHour", "MINUTE_OF_DAY": "minuteOfDay", "HOUR_OF_DAY": "hourOfDay",
		"DAY_OF_WEEK": "dayOfWeek", "DAY_OF_MONTH": "dayOfMonth", "DAY_OF_YEAR": "dayOfYear",
		"MONTH_OF_YEAR": "monthOfYear", "YEAR": "yearOfCentury", "YEAR_OF_ERA": "yearOfEra"} {
		timeModes[k] = timeModes[v]
	}
}

func (e *TimeField) Eval(ctx *EvalContext, _ DataMap) ([]*TimeSeries, error) {
	f := timeModes[e.Mode]
	return []*TimeSeries{constSeries(ctx, map[string]string{"name": e.Mode}, e.Mode, func(t int64) float64 {
		return f(time.UnixMilli(t).UTC())
	})}, nil
}

// TimeSpan is :time-span: 1 between two times and 0 elsewhere. The times
// use the graph's time syntax and may refer to each other (s, e) or to the
// graph's own start and end (gs, ge).
type TimeSpan struct {
	leaf
	S, E string
	Zone *time.Location
}

func (e *TimeSpan) appendTo(b *strings.Builder) { appendItems(b, e.S, e.E, word(":time-span")) }
func (e *TimeSpan) String() string              { return exprString(e) }
func (e *TimeSpan) Eval(ctx *EvalContext, _ DataMap) ([]*TimeSeries, error) {
	gs, ge := time.UnixMilli(ctx.Start), time.UnixMilli(ctx.End)
	refs := map[string]time.Time{"gs": gs, "ge": ge}
	s, en, err := ParseTimeRangeRefs(e.S, e.E, e.Zone, time.Now(), refs)
	if err != nil {
		return nil, err
	}
	if s.After(en) {
		return nil, fmt.Errorf("start must be <= end")
	}
	sm, em := s.UnixMilli(), en.UnixMilli()
	label := e.S + " to " + e.E
	return []*TimeSeries{constSeries(ctx, map[string]string{"name": label}, label, func(t int64) float64 {
		if sm <= t && t <= em {
			return 1
		}
		return 0
	})}, nil
}

// As renames a tag key (:as).
type As struct {
	Expr                  TimeSeriesExpr
	Original, Replacement string
}

func (e *As) appendTo(b *strings.Builder) {
	appendItems(b, e.Expr, e.Original, e.Replacement, word(":as"))
}
func (e *As) String() string        { return exprString(e) }
func (e *As) DataExprs() []DataExpr { return e.Expr.DataExprs() }
func (e *As) IsGrouped() bool       { return e.Expr.IsGrouped() }
func (e *As) FinalGrouping() []string {
	out := append([]string(nil), e.Expr.FinalGrouping()...)
	for i, k := range out {
		if k == e.Original {
			out[i] = e.Replacement
		}
	}
	return out
}
func (e *As) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr = f(e.Expr).(TimeSeriesExpr)
	return &c
}
func (e *As) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	out := make([]*TimeSeries, len(rs))
	for i, t := range rs {
		c := *t
		if v, ok := t.Tags[e.Original]; ok {
			c.Tags = copyTags(t.Tags)
			delete(c.Tags, e.Original)
			c.Tags[e.Replacement] = v
		}
		out[i] = &c
	}
	return out, nil
}

// Unary applies a function to each value: :abs, :neg, :sqrt, :sin,
// :clamp-min, :clamp-max, :per-step.
type Unary struct {
	Name string
	Args []any // printed between the input and the word
	Expr TimeSeriesExpr
	fn   func(v float64) float64
	// perStep multiplies by the step in seconds (:per-step).
	perStep bool
}

func (e *Unary) appendTo(b *strings.Builder) {
	items := append([]any{e.Expr}, e.Args...)
	appendItems(b, append(items, word(":"+e.Name))...)
}
func (e *Unary) String() string          { return exprString(e) }
func (e *Unary) DataExprs() []DataExpr   { return e.Expr.DataExprs() }
func (e *Unary) IsGrouped() bool         { return e.Expr.IsGrouped() }
func (e *Unary) FinalGrouping() []string { return e.Expr.FinalGrouping() }
func (e *Unary) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr = f(e.Expr).(TimeSeriesExpr)
	return &c
}
func (e *Unary) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	fn := e.fn
	if e.perStep {
		m := float64(ctx.Step) / 1000
		fn = func(v float64) float64 { return v * m }
	}
	out := make([]*TimeSeries, len(rs))
	for i, t := range rs {
		vs := make([]float64, len(t.Values))
		for j, v := range t.Values {
			vs[j] = fn(v)
		}
		out[i] = &TimeSeries{Tags: t.Tags, Label: toLabel(t.Tags), Values: vs}
	}
	return out, nil
}

// Binary combines two expressions step by step, matching groups on their
// common keys: :add, :sub, :mul, :div, :pow, comparisons, :and, :or and the
// strict :fadd family.
type Binary struct {
	Name         string
	Expr1, Expr2 TimeSeriesExpr
	fn           func(a, b float64) float64
	nodes        int
}

func (e *Binary) appendTo(b *strings.Builder) {
	appendItems(b, e.Expr1, e.Expr2, word(":"+e.Name))
}
func (e *Binary) String() string { return exprString(e) }
func (e *Binary) DataExprs() []DataExpr {
	return append(append([]DataExpr(nil), e.Expr1.DataExprs()...), e.Expr2.DataExprs()...)
}
func (e *Binary) IsGrouped() bool { return e.Expr1.IsGrouped() || e.Expr2.IsGrouped() }
func (e *Binary) useLHS() bool    { return subset(e.Expr2.FinalGrouping(), e.Expr1.FinalGrouping()) }
func (e *Binary) FinalGrouping() []string {
	if e.useLHS() {
		return e.Expr1.FinalGrouping()
	}
	return e.Expr2.FinalGrouping()
}
func (e *Binary) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Expr1 = f(e.Expr1).(TimeSeriesExpr)
	c.Expr2 = f(e.Expr2).(TimeSeriesExpr)
	return &c
}

// subset reports whether every key of a is in b.
func subset(a, b []string) bool {
	for _, k := range a {
		found := false
		for _, x := range b {
			if x == k {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// checkGrouping refuses binary operations whose groupings cannot be matched.
func checkGrouping(e1, e2 TimeSeriesExpr) error {
	if e1.IsGrouped() && e2.IsGrouped() {
		g1, g2 := e1.FinalGrouping(), e2.FinalGrouping()
		if !subset(g1, g2) && !subset(g2, g1) {
			return fmt.Errorf("both sides of binary operation must have the same grouping or one side"+
				" must be a subset of the other [%s ⊈ %s]", String(g1), String(g2))
		}
	}
	return nil
}

func (e *Binary) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs1, err := e.Expr1.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	rs2, err := e.Expr2.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	// Index the side whose grouping is the subset; walk the other.
	idxExpr, walk, walkFirst := e.Expr2, rs1, true
	idx := rs2
	if !e.useLHS() {
		idxExpr, walk, idx, walkFirst = e.Expr1, rs2, rs1, false
	}
	index := map[string]*TimeSeries{}
	for _, t := range idx {
		k, ok := groupByKey(idxExpr, t.Tags)
		if !ok {
			continue
		}
		if _, dup := index[k]; dup {
			return nil, fmt.Errorf(":%s: too many values for key %q: both sides have several lines without a common grouping", e.Name, k)
		}
		index[k] = t
	}
	var out []*TimeSeries
	for _, t := range walk {
		k, ok := groupByKey(idxExpr, t.Tags)
		if !ok {
			continue
		}
		o, ok := index[k]
		if !ok {
			continue
		}
		a, b := t, o
		if !walkFirst {
			a, b = o, t
		}
		vs := make([]float64, len(a.Values))
		for i := range vs {
			vs[i] = e.fn(a.Values[i], b.Values[i])
		}
		out = append(out, &TimeSeries{Tags: t.Tags, Label: toLabel(t.Tags), Values: vs})
	}
	return out, nil
}

// binaryOps are the step functions of the binary words.
var binaryOps = map[string]func(a, b float64) float64{
	"add": addNaN,
	"sub": subNaN,
	"mul": func(a, b float64) float64 { return a * b },
	"div": func(a, b float64) float64 {
		if b == 0 {
			if a == 0 {
				return 0
			}
			return math.NaN()
		}
		return a / b
	},
	"pow":  math.Pow,
	"gt":   func(a, b float64) float64 { return b2f(a > b) },
	"ge":   func(a, b float64) float64 { return b2f(a >= b) },
	"lt":   func(a, b float64) float64 { return b2f(a < b) },
	"le":   func(a, b float64) float64 { return b2f(a <= b) },
	"fadd": func(a, b float64) float64 { return a + b },
	"fsub": func(a, b float64) float64 { return a - b },
	"fmul": func(a, b float64) float64 { return a * b },
	"fdiv": func(a, b float64) float64 { return a / b },
	"and":  func(a, b float64) float64 { return b2f(truthy(a) && truthy(b)) },
	"or":   func(a, b float64) float64 { return b2f(truthy(a) || truthy(b)) },
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// MathAgg aggregates the lines of an expression into one (:sum, :count,
// :min, :max applied to a TimeSeriesExpr).
type MathAgg struct {
	Kind AggKind
	Expr TimeSeriesExpr
}

func (e *MathAgg) appendTo(b *strings.Builder) {
	appendItems(b, e.Expr, word(":"+e.Kind.String()))
}
func (e *MathAgg) String() string          { return exprString(e) }
func (e *MathAgg) DataExprs() []DataExpr   { return e.Expr.DataExprs() }
func (e *MathAgg) IsGrouped() bool         { return false }
func (e *MathAgg) FinalGrouping() []string { return nil }
func (e *MathAgg) mapChildren(f func(Expr) Expr) Expr {
	return &MathAgg{Kind: e.Kind, Expr: f(e.Expr).(TimeSeriesExpr)}
}

func (e *MathAgg) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return []*TimeSeries{noData(ctx, nil)}, nil
	}
	tags := rs[0].Tags
	if des := e.Expr.DataExprs(); len(des) > 0 {
		keys := exactKeys(des[0].Query())
		tags = filterTags(tags, func(k string) bool { return keys[k] })
	}
	vs := aggregateLines(e.Kind, rs, ctx.Len())
	return []*TimeSeries{{Tags: tags, Label: e.Kind.String() + "(" + toLabel(tags) + ")", Values: vs}}, nil
}

func filterTags(t map[string]string, keep func(string) bool) map[string]string {
	out := map[string]string{}
	for k, v := range t {
		if keep(k) {
			out[k] = v
		}
	}
	return out
}

// aggregateLines combines lines step by step.
func aggregateLines(k AggKind, rs []*TimeSeries, n int) []float64 {
	out := nans(n)
	for _, t := range rs {
		for i, v := range t.Values[:min(n, len(t.Values))] {
			switch k {
			case AggSum:
				out[i] = addNaN(out[i], v)
			case AggCount:
				if !math.IsNaN(v) {
					out[i] = addNaN(out[i], 1)
				}
			case AggMin:
				out[i] = minNaN(out[i], v)
			case AggMax:
				out[i] = maxNaN(out[i], v)
			}
		}
	}
	return out
}

// MathGroupBy regroups an aggregate of grouped lines by fewer keys.
type MathGroupBy struct {
	AF   *MathAgg
	Keys []string
}

func (e *MathGroupBy) appendTo(b *strings.Builder) {
	appendItems(b, e.AF, e.Keys, word(":by"))
}
func (e *MathGroupBy) String() string          { return exprString(e) }
func (e *MathGroupBy) DataExprs() []DataExpr   { return e.AF.DataExprs() }
func (e *MathGroupBy) IsGrouped() bool         { return true }
func (e *MathGroupBy) FinalGrouping() []string { return e.Keys }
func (e *MathGroupBy) mapChildren(f func(Expr) Expr) Expr {
	af, ok := f(e.AF).(*MathAgg)
	if !ok {
		return e
	}
	return &MathGroupBy{AF: af, Keys: e.Keys}
}

func newMathGroupBy(af *MathAgg, keys []string) (*MathGroupBy, error) {
	if !af.Expr.IsGrouped() {
		return nil, fmt.Errorf("input expression must already be grouped with :by")
	}
	if !subset(keys, af.Expr.FinalGrouping()) {
		return nil, fmt.Errorf("%s is not a subset of %s", String(keys), String(af.Expr.FinalGrouping()))
	}
	return &MathGroupBy{AF: af, Keys: keys}, nil
}

func (e *MathGroupBy) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	rs, err := e.AF.Expr.Eval(ctx, d)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for i, de := range e.DataExprs() {
		ks := exactKeys(de.Query())
		if i == 0 {
			keep = ks
			continue
		}
		for k := range keep {
			if !ks[k] {
				delete(keep, k)
			}
		}
	}
	for _, k := range e.Keys {
		keep[k] = true
	}
	groups := map[string][]*TimeSeries{}
	var order []string
	for _, t := range rs {
		k, ok := keyString(e.Keys, t.Tags)
		if !ok {
			continue
		}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t)
	}
	sort.Strings(order)
	out := make([]*TimeSeries, 0, len(order))
	for _, k := range order {
		ts := groups[k]
		tags := filterTags(ts[0].Tags, func(x string) bool { return keep[x] })
		out = append(out, &TimeSeries{Tags: tags, Label: k, Values: aggregateLines(e.AF.Kind, ts, ctx.Len())})
	}
	return out, nil
}

// NamedRewrite is a macro's result: it prints as the macro call (Display
// and the word) and evaluates the expansion (Eval_).
type NamedRewrite struct {
	Name    string
	Display Expr
	Params  []any
	Eval_   TimeSeriesExpr
}

func (e *NamedRewrite) op() string {
	if len(e.Params) == 0 {
		return ":" + e.Name
	}
	var b strings.Builder
	appendItems(&b, e.Params...)
	return b.String() + ",:" + e.Name
}

func (e *NamedRewrite) appendTo(b *strings.Builder) {
	grouping := e.Eval_.FinalGrouping()
	switch d := e.Display.(type) {
	case Query:
		appendItems(b, d)
		b.WriteString("," + e.op())
		if off := singleOffset(e.Eval_); off != 0 {
			appendOffset(b, off)
		}
		if len(grouping) > 0 {
			b.WriteByte(',')
			appendItem(b, grouping)
			b.WriteString(",:by")
		}
	case TimeSeriesExpr:
		if equalKeys(d.FinalGrouping(), grouping) {
			appendItems(b, d)
			b.WriteString("," + e.op())
			return
		}
		appendItems(b, d)
		b.WriteString("," + e.op())
		if len(grouping) > 0 {
			b.WriteByte(',')
			appendItem(b, grouping)
			b.WriteString(",:by")
		}
	}
}

func equalKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func singleOffset(e TimeSeriesExpr) time.Duration {
	var off time.Duration
	for i, de := range e.DataExprs() {
		if i > 0 && de.Offset() != off {
			return 0
		}
		off = de.Offset()
	}
	return off
}

func (e *NamedRewrite) String() string          { return exprString(e) }
func (e *NamedRewrite) DataExprs() []DataExpr   { return e.Eval_.DataExprs() }
func (e *NamedRewrite) IsGrouped() bool         { return e.Eval_.IsGrouped() }
func (e *NamedRewrite) FinalGrouping() []string { return e.Eval_.FinalGrouping() }
func (e *NamedRewrite) Eval(ctx *EvalContext, d DataMap) ([]*TimeSeries, error) {
	return e.Eval_.Eval(ctx, d)
}
func (e *NamedRewrite) mapChildren(f func(Expr) Expr) Expr {
	c := *e
	c.Display = f(e.Display)
	c.Eval_ = f(e.Eval_).(TimeSeriesExpr)
	return &c
}

// groupBy applies :by to the macro: the display keeps its form, the
// expansion groups each aggregate.
func (e *NamedRewrite) groupBy(keys []string) (*NamedRewrite, error) {
	apply := func(x Expr) (Expr, bool) {
		switch v := x.(type) {
		case *Aggregate:
			return &GroupBy{AF: v, Keys: keys}, true
		case *MathAgg:
			g, err := newMathGroupBy(v, keys)
			if err != nil {
				return v, true
			}
			return g, true
		}
		return nil, false
	}
	c := *e
	if t, ok := e.Display.(TimeSeriesExpr); !ok || !t.IsGrouped() {
		if _, isQuery := e.Display.(Query); !isQuery {
			c.Display = rewrite(e.Display, apply)
		}
	}
	c.Eval_ = rewriteTS(e.Eval_, apply)
	return &c, nil
}
