package stack

import (
	"regexp"
	"time"
)

func kv(name string, mk func(k, v string) (Query, error)) *wordDef {
	return typed(name, []ptype{tString, tString}, func(c *Context, a []any) error {
		q, err := mk(a[0].(string), a[1].(string))
		if err != nil {
			return err
		}
		c.push(q)
		return nil
	})
}

// quoteRegex escapes a literal for :contains, :starts and :ends.
func quoteRegex(s string) string { return regexp.QuoteMeta(s) }

func queryWords() {
	define(
		typed("true", nil, func(c *Context, _ []any) error { c.push(True{}); return nil }),
		typed("false", nil, func(c *Context, _ []any) error { c.push(False{}); return nil }),
		typed("has", []ptype{tString}, func(c *Context, a []any) error { c.push(HasKey{a[0].(string)}); return nil }),
		kv("eq", func(k, v string) (Query, error) { return Equal{k, v}, nil }),
		kv("lt", func(k, v string) (Query, error) { return LessThan{k, v}, nil }),
		kv("le", func(k, v string) (Query, error) { return LessThanEqual{k, v}, nil }),
		kv("gt", func(k, v string) (Query, error) { return GreaterThan{k, v}, nil }),
		kv("ge", func(k, v string) (Query, error) { return GreaterThanEqual{k, v}, nil }),
		kv("re", func(k, v string) (Query, error) { return NewRegex(k, v, false) }),
		kv("reic", func(k, v string) (Query, error) { return NewRegex(k, v, true) }),
		kv("contains", func(k, v string) (Query, error) { return NewRegex(k, ".*"+quoteRegex(v), false) }),
		kv("starts", func(k, v string) (Query, error) { return NewRegex(k, quoteRegex(v), false) }),
		kv("ends", func(k, v string) (Query, error) { return NewRegex(k, ".*"+quoteRegex(v)+"$", false) }),
		typed("in", []ptype{tString, tStringList}, func(c *Context, a []any) error {
			k, vs := a[0].(string), a[1].([]string)
			switch len(vs) {
			case 0:
				c.push(False{})
			case 1:
				c.push(Equal{k, vs[0]})
			default:
				c.push(In{k, vs})
			}
			return nil
		}),
		typed("and", []ptype{tQuery, tQuery}, func(c *Context, a []any) error {
			c.push(and(a[0].(Query), a[1].(Query)))
			return nil
		}),
		typed("or", []ptype{tQuery, tQuery}, func(c *Context, a []any) error {
			c.push(or(a[0].(Query), a[1].(Query)))
			return nil
		}),
		typed("not", []ptype{tQuery}, func(c *Context, a []any) error { c.push(not(a[0].(Query))); return nil }),
		typed("cq", []ptype{tAny, tQuery}, func(c *Context, a []any) error {
			q := a[1].(Query)
			e, ok := a[0].(Expr)
			if !ok {
				c.push(a[0])
				return nil
			}
			c.push(rewrite(e, func(x Expr) (Expr, bool) {
				if q1, ok := x.(Query); ok {
					return and(q1, q), true
				}
				return nil, false
			}))
			return nil
		}),
	)
}

func dataWords() {
	agg := func(name string, k AggKind) *wordDef {
		return typed(name, []ptype{tQuery}, func(c *Context, a []any) error {
			c.push(NewAggregate(k, a[0].(Query)))
			return nil
		})
	}
	cf := func(name string, f CF) *wordDef {
		return typed(name, []ptype{tTS}, func(c *Context, a []any) error {
			t := a[0].(TimeSeriesExpr)
			t = rewriteTS(t, func(x Expr) (Expr, bool) {
				if nr, ok := x.(*NamedRewrite); ok {
					return nr.Eval_, true
				}
				return nil, false
			})
			c.push(rewriteTS(t, func(x Expr) (Expr, bool) {
				if af, ok := x.(*Aggregate); ok {
					cp := *af
					cp.CF = f
					return &cp, true
				}
				return nil, false
			}))
			return nil
		})
	}
	define(
		typed("all", []ptype{tQuery}, func(c *Context, a []any) error { c.push(&All{Q: a[0].(Query)}); return nil }),
		agg("sum", AggSum), agg("count", AggCount), agg("min", AggMin), agg("max", AggMax),
		typed("by", []ptype{tAggr, tStringList}, func(c *Context, a []any) error {
			c.push(&GroupBy{AF: a[0].(*Aggregate), Keys: a[1].([]string)})
			return nil
		}),
		&wordDef{name: "offset", pass: true, params: []ptype{tTS, tDuration}, exec: func(c *Context, a []any) error {
			c.push(withOffset(a[0].(TimeSeriesExpr), a[1].(time.Duration)))
			return nil
		}},
		cf("cf-avg", CFAvg), cf("cf-sum", CFSum), cf("cf-min", CFMin), cf("cf-max", CFMax),
	)
}

// groupByExpr applies :by to a math expression, as Atlas's math :by.
func groupByExpr(t TimeSeriesExpr, keys []string) (TimeSeriesExpr, error) {
	if m, ok := t.(*MathAgg); ok && m.Expr.IsGrouped() {
		return newMathGroupBy(m, keys)
	}
	if t.IsGrouped() {
		return newMathGroupBy(&MathAgg{Kind: AggSum, Expr: t}, keys)
	}
	var err error
	out := rewriteTS(t, func(x Expr) (Expr, bool) {
		switch v := x.(type) {
		case *NamedRewrite:
			g, e := v.groupBy(keys)
			if e != nil {
				err = e
			}
			return g, true
		case *Aggregate:
			return &GroupBy{AF: v, Keys: keys}, true
		case *MathAgg:
			if v.Expr.IsGrouped() {
				g, e := newMathGroupBy(v, keys)
				if e != nil {
					err = e
					return v, true
				}
				return g, true
			}
		}
		return nil, false
	})
	return out, err
}

// commonGroupBy is :cg: add keys to every aggregate's grouping.
func commonGroupBy(t TimeSeriesExpr, keys []string) TimeSeriesExpr {
	merge := func(a []string) []string {
		out := append([]string(nil), a...)
		for _, k := range keys {
			found := false
			for _, x := range a {
				found = found || x == k
			}
			if !found {
				out = append(out, k)
			}
		}
		return out
	}
	var add func(e TimeSeriesExpr) TimeSeriesExpr
	add = func(e TimeSeriesExpr) TimeSeriesExpr {
		return rewriteTS(e, func(x Expr) (Expr, bool) {
			switch v := x.(type) {
			case *NamedRewrite:
				if _, isQ := v.Display.(Query); isQ {
					if v.Eval_.IsGrouped() {
						c := *v
						c.Eval_ = add(v.Eval_)
						return &c, true
					}
					g, _ := v.groupBy(keys)
					return g, true
				}
			case *Aggregate:
				return &GroupBy{AF: v, Keys: keys}, true
			case *GroupBy:
				return &GroupBy{AF: v.AF, Keys: merge(v.Keys)}, true
			case *MathGroupBy:
				inner := add(v.AF.Expr)
				return &MathGroupBy{AF: &MathAgg{Kind: v.AF.Kind, Expr: inner}, Keys: merge(v.Keys)}, true
			case *MathAgg:
				inner := add(v.Expr)
				return &MathGroupBy{AF: &MathAgg{Kind: v.Kind, Expr: inner}, Keys: keys}, true
			}
			return nil, false
		})
	}
	return add(t)
}
