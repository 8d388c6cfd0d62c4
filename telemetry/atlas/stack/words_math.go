package stack

import (
	"fmt"
	"math"
)

func unary(name string, fn func(float64) float64) *wordDef {
	return &wordDef{name: name, pass: true, params: []ptype{tTS}, exec: func(c *Context, a []any) error {
		t := a[0].(TimeSeriesExpr)
		if k, ok := t.(*Constant); ok {
			c.push(&Constant{V: fn(k.V)})
			return nil
		}
		c.push(&Unary{Name: name, Expr: t, fn: fn})
		return nil
	}}
}

func binary(name string) *wordDef {
	fn := binaryOps[name]
	return &wordDef{name: name, pass: true, params: []ptype{tTS, tTS}, exec: func(c *Context, a []any) error {
		t1, t2 := a[0].(TimeSeriesExpr), a[1].(TimeSeriesExpr)
		k1, ok1 := t1.(*Constant)
		k2, ok2 := t2.(*Constant)
		if ok1 && ok2 {
			c.push(&Constant{V: fn(k1.V, k2.V)})
			return nil
		}
		n := nodeCount(t1) + nodeCount(t2) + 1
		if n > maxNodes {
			return fmt.Errorf("expression is too large: more than %d operations", maxNodes)
		}
		if err := checkGrouping(t1, t2); err != nil {
			return err
		}
		c.push(&Binary{Name: name, Expr1: t1, Expr2: t2, fn: fn, nodes: n})
		return nil
	}}
}

func mathAgg(name string, k AggKind) *wordDef {
	return &wordDef{name: name, pass: true, params: []ptype{tTS}, exec: func(c *Context, a []any) error {
		t := a[0].(TimeSeriesExpr)
		if af, ok := t.(*Aggregate); ok && k != AggCount {
			c.push(af)
			return nil
		}
		c.push(&MathAgg{Kind: k, Expr: t})
		return nil
	}}
}

func clamp(name string, fn func(v, lim float64) float64) *wordDef {
	return &wordDef{name: name, pass: true, params: []ptype{tTS, tDouble}, exec: func(c *Context, a []any) error {
		lim := a[1].(float64)
		c.push(&Unary{Name: name, Args: []any{lim}, Expr: a[0].(TimeSeriesExpr), fn: func(v float64) float64 { return fn(v, lim) }})
		return nil
	}}
}

func mathWords() {
	define(
		typed("as", []ptype{tTS, tString, tString}, func(c *Context, a []any) error {
			c.push(&As{Expr: a[0].(TimeSeriesExpr), Original: a[1].(string), Replacement: a[2].(string)})
			return nil
		}),
		typed("by", []ptype{tTS, tStringList}, func(c *Context, a []any) error {
			t, err := groupByExpr(a[0].(TimeSeriesExpr), a[1].([]string))
			if err != nil {
				return err
			}
			c.push(t)
			return nil
		}),
		typed("const", []ptype{tDouble}, func(c *Context, a []any) error { c.push(&Constant{V: a[0].(float64)}); return nil }),
		typed("pi", nil, func(c *Context, _ []any) error { c.push(&Constant{V: math.Pi}); return nil }),
		typed("random", nil, func(c *Context, _ []any) error { c.push(&Random{}); return nil }),
		typed("srandom", []ptype{tInt}, func(c *Context, a []any) error {
			c.push(&Random{Seeded: true, Seed: a[0].(int)})
			return nil
		}),
		typed("time", []ptype{tString}, func(c *Context, a []any) error {
			mode := a[0].(string)
			if _, ok := timeModes[mode]; !ok {
				return fmt.Errorf("unknown time mode %q: want e.g. hourOfDay, dayOfWeek, minuteOfHour, seconds", mode)
			}
			c.push(&TimeField{Mode: mode})
			return nil
		}),
		typed("time-span", []ptype{tString, tString}, func(c *Context, a []any) error {
			c.push(&TimeSpan{S: a[0].(string), E: a[1].(string), Zone: c.zone})
			return nil
		}),
		&wordDef{name: "cg", sig: "Expr keys:List -- Expr", match: func(s []any) bool {
			if len(s) < 2 {
				return false
			}
			if _, ok := tStringList.extract(s[len(s)-1]); !ok {
				return false
			}
			_, ok := tStyle.extract(s[len(s)-2])
			return ok
		}, run: func(c *Context) error {
			keys, _ := tStringList.extract(c.stack[len(c.stack)-1])
			v := c.stack[len(c.stack)-2]
			c.stack = c.stack[:len(c.stack)-2]
			if s, ok := v.(*StyleExpr); ok {
				c.push(&StyleExpr{Expr: commonGroupBy(s.Expr, keys.([]string)), Settings: s.Settings})
				return nil
			}
			t, _ := toTS(v)
			c.push(commonGroupBy(t.(TimeSeriesExpr), keys.([]string)))
			return nil
		}},
		namedRewriteWord(),
		clamp("clamp-min", func(v, l float64) float64 {
			if v < l {
				return l
			}
			return v
		}),
		clamp("clamp-max", func(v, l float64) float64 {
			if v > l {
				return l
			}
			return v
		}),
		unary("abs", math.Abs),
		unary("neg", func(v float64) float64 { return -v }),
		unary("sin", math.Sin),
		unary("sqrt", math.Sqrt),
		&wordDef{name: "per-step", pass: true, params: []ptype{tTS}, exec: func(c *Context, a []any) error {
			c.push(&Unary{Name: "per-step", Expr: a[0].(TimeSeriesExpr), perStep: true})
			return nil
		}},
	)
	for _, n := range []string{"add", "sub", "mul", "div", "pow", "gt", "ge", "lt", "le", "fadd", "fsub", "fmul", "fdiv", "and", "or"} {
		define(binary(n))
	}
	define(
		mathAgg("sum", AggSum), mathAgg("count", AggCount), mathAgg("min", AggMin), mathAgg("max", AggMax),
		typed("percentiles", []ptype{tDataExpr, tDoubleList}, func(c *Context, a []any) error {
			if _, isAll := a[0].(*All); isAll {
				return fmt.Errorf(":percentiles can only be used with :sum and :by")
			}
			p, err := newPercentiles(a[0].(DataExpr), a[1].([]float64))
			if err != nil {
				return err
			}
			c.push(p)
			return nil
		}),
		typed("sample-count", []ptype{tQuery, tDouble, tDouble}, func(c *Context, a []any) error {
			q, lo, hi := a[0].(Query), a[1].(float64), a[2].(float64)
			if !(lo < hi) {
				return fmt.Errorf("min >= max (min=%s, max=%s)", formatDouble(lo), formatDouble(hi))
			}
			if lo < 0 {
				return fmt.Errorf("min < 0 (min=%s)", formatDouble(lo))
			}
			rq := and(q, or(bucketRange("D", lo, hi), bucketRange("T", lo*1e9, hi*1e9)))
			c.push(&NamedRewrite{Name: "sample-count", Display: q, Params: []any{lo, hi}, Eval_: NewAggregate(AggSum, rq)})
			return nil
		}),
		macro("sample-count", []ptype{tQuery}, ":dup,0,Infinity,:sample-count,sample-count,:named-rewrite"),
		macro("avg", []ptype{tTS}, ":dup,:dup,:sum,:swap,:count,:div,avg,:named-rewrite"),
		macro("stddev", []ptype{tTS}, ":dup,0,:fadd,:dup,:count,:over,:dup,:mul,:sum,:mul,:over,:sum,:dup,:mul,:sub,"+
			":swap,:count,:dup,:mul,:div,:sqrt,stddev,:named-rewrite"),
		macro("pct", []ptype{tTS}, ":dup,:dup,:sum,:div,100,:mul,pct,:named-rewrite"),
		macro("dist-avg", []ptype{tQuery}, ":dup,statistic,(,totalTime,totalAmount,),:in,:sum,statistic,count,:eq,:sum,:div,:swap,:cq,dist-avg,:named-rewrite"),
		macro("dist-max", []ptype{tQuery}, ":dup,statistic,max,:eq,:max,:swap,:cq,dist-max,:named-rewrite"),
		macro("dist-stddev", []ptype{tQuery}, ":dup,statistic,count,:eq,:sum,statistic,totalOfSquares,:eq,:sum,:mul,"+
			"statistic,(,totalAmount,totalTime,),:in,:sum,:dup,:mul,:sub,statistic,count,:eq,:sum,:dup,:mul,:div,:sqrt,"+
			":swap,:cq,dist-stddev,:named-rewrite"),
		macro("median", []ptype{tTS}, "(,50,),:percentiles"),
		macro("cos", []ptype{tTS}, ":pi,2,:div,:swap,:sub,:sin"),
		macro("tan", []ptype{tTS}, ":dup,:sin,:swap,:cos,:div"),
		macro("cot", []ptype{tTS}, ":dup,:cos,:swap,:sin,:div"),
		macro("sec", []ptype{tTS}, "1,:swap,:cos,:div"),
		macro("csc", []ptype{tTS}, "1,:swap,:sin,:div"),
	)
}

// bucketRange selects the percentile buckets holding values in [lo, hi].
func bucketRange(prefix string, lo, hi float64) Query {
	label := func(v float64) string {
		idx := bucketIndex(v)
		return fmt.Sprintf("%s%04X", prefix, idx)
	}
	return and(GreaterThanEqual{PercentileKey, label(lo)}, LessThanEqual{PercentileKey, label(hi)})
}

func namedRewriteWord() *wordDef {
	return &wordDef{name: "named-rewrite", sig: "original rewritten name:String -- TimeSeriesExpr", match: func(s []any) bool {
		if len(s) < 3 {
			return false
		}
		if _, ok := s[len(s)-1].(string); !ok {
			return false
		}
		_, rwStyle := s[len(s)-2].(*StyleExpr)
		_, rwTS := toTS(s[len(s)-2])
		_, origStyle := s[len(s)-3].(*StyleExpr)
		_, origTS := toTS(s[len(s)-3])
		return (rwTS || rwStyle) && (origTS || origStyle)
	}, run: func(c *Context) error {
		n := c.stack[len(c.stack)-1].(string)
		rwV, origV := c.stack[len(c.stack)-2], c.stack[len(c.stack)-3]
		c.stack = c.stack[:len(c.stack)-3]
		var rw TimeSeriesExpr
		if s, ok := rwV.(*StyleExpr); ok {
			rw = s.Expr
		} else {
			t, _ := toTS(rwV)
			rw = t.(TimeSeriesExpr)
		}
		switch o := origV.(type) {
		case *StyleExpr:
			c.push(&StyleExpr{Expr: &NamedRewrite{Name: n, Display: o.Expr, Eval_: rw}, Settings: o.Settings})
		case Query:
			c.push(&NamedRewrite{Name: n, Display: o, Eval_: rw})
		default:
			t, _ := toTS(o)
			c.push(&NamedRewrite{Name: n, Display: t.(TimeSeriesExpr), Eval_: rw})
		}
		return nil
	}}
}
