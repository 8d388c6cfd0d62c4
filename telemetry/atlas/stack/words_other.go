package stack

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

func stateful(name string, extra []ptype, mk func(a []any) (func(ctx *EvalContext) online, error)) *wordDef {
	return &wordDef{name: name, pass: true, params: append([]ptype{tTS}, extra...), exec: func(c *Context, a []any) error {
		algo, err := mk(a[1:])
		if err != nil {
			return err
		}
		c.push(&Stateful{Name: name, Params: a[1:], Expr: a[0].(TimeSeriesExpr), algo: algo})
		return nil
	}}
}

// window checks a rolling window size as Atlas does.
func window(n int) error {
	if n <= 0 || n > 86400 {
		return fmt.Errorf("window size must be between 1 and 86400: %d", n)
	}
	return nil
}

func windowWord(name string, mk func(n int) online) *wordDef {
	return stateful(name, []ptype{tInt}, func(a []any) (func(*EvalContext) online, error) {
		n := a[0].(int)
		if err := window(n); err != nil {
			return nil, err
		}
		return func(*EvalContext) online { return mk(n) }, nil
	})
}

func desWord(name string, sliding bool) *wordDef {
	return stateful(name, []ptype{tInt, tDouble, tDouble}, func(a []any) (func(*EvalContext) online, error) {
		n, alpha, beta := a[0].(int), a[1].(float64), a[2].(float64)
		if n < 0 || (sliding && n == 0) {
			return nil, fmt.Errorf("training size must be positive: %d", n)
		}
		if sliding {
			return func(ctx *EvalContext) online { return newSdes(ctx, n, alpha, beta) }, nil
		}
		return func(*EvalContext) online { return newDes(n, alpha, beta) }, nil
	})
}

func statefulWords() {
	define(
		windowWord("delay", delayAlgo),
		windowWord("rolling-count", rollingCount),
		windowWord("rolling-min", func(n int) online { return rollingExtreme(n, minNaN) }),
		windowWord("rolling-max", func(n int) online { return rollingExtreme(n, maxNaN) }),
		stateful("rolling-mean", []ptype{tInt, tInt}, func(a []any) (func(*EvalContext) online, error) {
			n, m := a[0].(int), a[1].(int)
			if err := window(n); err != nil {
				return nil, err
			}
			if m < 1 || m > n {
				return nil, fmt.Errorf("minimum number of values must be between 1 and the window size %d: %d", n, m)
			}
			return func(*EvalContext) online {
				return rollingSumCount(n, func(sum float64, count int) float64 {
					if count >= m {
						return sum / float64(count)
					}
					return math.NaN()
				})
			}, nil
		}),
		windowWord("rolling-sum", func(n int) online {
			return rollingSumCount(n, func(sum float64, count int) float64 {
				if count > 0 {
					return sum
				}
				return math.NaN()
			})
		}),
		desWord("des", false),
		desWord("sdes", true),
		stateful("trend", []ptype{tDuration}, func(a []any) (func(*EvalContext) online, error) {
			d := a[0].(time.Duration)
			if d <= 0 || d > 90*24*time.Hour {
				return nil, fmt.Errorf("trend window must be between 1s and 90d: %s", formatDuration(d))
			}
			return func(ctx *EvalContext) online { return trendAlgo(ctx, d) }, nil
		}),
		stateful("integral", nil, func([]any) (func(*EvalContext) online, error) {
			return func(*EvalContext) online { return integralAlgo() }, nil
		}),
		stateful("cumulative-max", nil, func([]any) (func(*EvalContext) online, error) {
			return func(*EvalContext) online { return cumulativeMaxAlgo() }, nil
		}),
		stateful("derivative", nil, func([]any) (func(*EvalContext) online, error) {
			return func(*EvalContext) online { return derivativeAlgo() }, nil
		}),
	)
	for name, p := range DESPresets {
		word := ":des"
		if p.Sliding {
			word = ":sdes"
		}
		params := fmt.Sprintf("%d,%v,%v,%s", p.Training, p.Alpha, p.Beta, word)
		define(macro(name, []ptype{tTS}, ":dup,"+params+","+name+",:named-rewrite"))
	}
	define(&wordDef{name: "des-epic-signal", sig: "TimeSeriesExpr training alpha beta maxPercent minPercent noise --",
		match: always, macro: strings.Split("noise,:sset,minPercent,:sset,maxPercent,:sset,beta,:sset,alpha,:sset,trainingSize,:sset,line,:sset,"+
			"pred,line,:get,trainingSize,:get,alpha,:get,beta,:get,:des,:set,"+
			"minPredNoiseBound,pred,:get,noise,:get,:sub,:set,"+
			"minPredPercentBound,pred,:get,1.0,:const,minPercent,:get,:const,:fsub,:fmul,:set,"+
			"maxPredNoiseBound,pred,:get,noise,:get,:add,:set,"+
			"maxPredPercentBound,pred,:get,2.0,:const,1.0,:const,maxPercent,:get,:const,:fsub,:fsub,:fmul,:set,"+
			"line,:get,minPredNoiseBound,:get,:lt,line,:get,minPredPercentBound,:get,:lt,:and,"+
			"line,:get,maxPredNoiseBound,:get,:gt,line,:get,maxPredPercentBound,:get,:gt,:and,:or", ",")})
}

func filterWords() {
	define(
		&wordDef{name: "consolidate", pass: true, params: []ptype{tTS, tCF, tDuration}, exec: func(c *Context, a []any) error {
			c.push(&Consolidate{Expr: a[0].(TimeSeriesExpr), CF: a[1].(CF), Step: a[2].(time.Duration)})
			return nil
		}},
		&wordDef{name: "stat", pass: true, params: []ptype{tTS, tString}, exec: func(c *Context, a []any) error {
			s := a[1].(string)
			if _, ok := (SummaryStats{}).Get(s); !ok {
				return fmt.Errorf("unknown statistic: %s", s)
			}
			c.push(&Stat{Expr: a[0].(TimeSeriesExpr), Name: s})
			return nil
		}},
	)
	for _, s := range []string{"avg", "max", "min", "last", "count", "total"} {
		s := s
		define(typed("stat-"+s, nil, func(c *Context, _ []any) error { c.push(&StatRef{Name: s}); return nil }))
	}
	define(
		typed("filter", []ptype{tTS, tTS}, func(c *Context, a []any) error {
			f, err := newFilter(a[0].(TimeSeriesExpr), a[1].(TimeSeriesExpr))
			if err != nil {
				return err
			}
			c.push(f)
			return nil
		}),
		macro("stat-min-mf", []ptype{tTS}, "min,:stat"),
		macro("stat-max-mf", []ptype{tTS}, "max,:stat"),
		macro("stat-avg-mf", []ptype{tTS}, "avg,:stat"),
	)
	for _, op := range []string{"bottomk", "bottomk-others-min", "bottomk-others-max", "bottomk-others-sum", "bottomk-others-avg",
		"topk", "topk-others-min", "topk-others-max", "topk-others-sum", "topk-others-avg"} {
		op := op
		define(&wordDef{name: op, pass: true, params: []ptype{tTS, tString, tInt}, exec: func(c *Context, a []any) error {
			p, err := newPriority(op, a[0].(TimeSeriesExpr), a[1].(string), a[2].(int))
			if err != nil {
				return err
			}
			c.push(p)
			return nil
		}})
	}
}

// newFilter builds :filter, binding :stat-* placeholders in the condition
// to the filtered expression.
func newFilter(t1, t2 TimeSeriesExpr) (*Filter, error) {
	if nodeCount(t1)+nodeCount(t2) > maxNodes {
		return nil, fmt.Errorf("expression is too large: more than %d operations", maxNodes)
	}
	if !t1.IsGrouped() && t2.IsGrouped() {
		return nil, fmt.Errorf("filter grouping must match expr grouping")
	}
	t2 = rewriteTS(t2, func(x Expr) (Expr, bool) {
		if s, ok := x.(*StatRef); ok {
			return &Stat{Expr: t1, Name: s.Name, Str: s.String()}, true
		}
		return nil, false
	})
	return &Filter{Expr1: t1, Expr2: t2}, nil
}

func styleWord(name string) *wordDef {
	return typed(name, []ptype{tStyle, tString}, func(c *Context, a []any) error {
		c.push(a[0].(*StyleExpr).with(name, a[1].(string)))
		return nil
	})
}

func styleWords() {
	define(
		styleWord("legend"),
		typed("decode", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			s := a[0].(*StyleExpr)
			mode := a[1].(string)
			if mode != "hex" && mode != "none" {
				return fmt.Errorf("unknown encoding '%s'", mode)
			}
			tr := escape(mode) + ",:decode"
			if p := s.Settings["sed"]; p != "" {
				tr = p + "," + tr
			}
			c.push(s.with("sed", tr))
			return nil
		}),
		typed("s", []ptype{tStyle, tString, tString}, func(c *Context, a []any) error {
			s := a[0].(*StyleExpr)
			tr := escape(a[1].(string)) + "," + escape(a[2].(string)) + ",:s"
			if p := s.Settings["sed"]; p != "" {
				tr = p + "," + tr
			}
			c.push(s.with("sed", tr))
			return nil
		}),
		typed("axis", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			n, err := strconv.Atoi(a[1].(string))
			if err != nil || n < 0 || n > 4 {
				return fmt.Errorf("axis must be an integer from 0 to 4, not %q", a[1])
			}
			c.push(a[0].(*StyleExpr).with("axis", a[1].(string)))
			return nil
		}),
		typed("offset", []ptype{tStyle, tStringList}, func(c *Context, a []any) error {
			c.push(a[0].(*StyleExpr).with("offset", String(a[1].([]string))))
			return nil
		}),
		&wordDef{name: "filter", sig: "StyleExpr TimeSeriesExpr -- StyleExpr", match: func(s []any) bool {
			if len(s) < 2 {
				return false
			}
			_, isStyle := s[len(s)-2].(*StyleExpr)
			_, ok := toTS(s[len(s)-1])
			return isStyle && ok
		}, run: func(c *Context) error {
			t, _ := toTS(c.stack[len(c.stack)-1])
			se := c.stack[len(c.stack)-2].(*StyleExpr)
			c.stack = c.stack[:len(c.stack)-2]
			f, err := newFilter(se.Expr, t.(TimeSeriesExpr))
			if err != nil {
				return err
			}
			c.push(&StyleExpr{Expr: f, Settings: se.Settings})
			return nil
		}},
		styleWord("sort"),
		typed("order", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			if o := a[1].(string); o != "asc" && o != "desc" {
				return fmt.Errorf("order must be asc or desc, not %q", o)
			}
			c.push(a[0].(*StyleExpr).with("order", a[1].(string)))
			return nil
		}),
		typed("limit", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			if n, err := strconv.Atoi(a[1].(string)); err != nil || n < 0 {
				return fmt.Errorf("limit must be a non-negative integer, not %q", a[1])
			}
			c.push(a[0].(*StyleExpr).with("limit", a[1].(string)))
			return nil
		}),
		macro("head", []ptype{tStyle, tString}, ":limit"),
		typed("alpha", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			s, v := a[0].(*StyleExpr), a[1].(string)
			if len(v) != 2 {
				return fmt.Errorf("alpha should be a 2 digit hex string, not %q", v)
			}
			if _, err := strconv.ParseUint(v, 16, 8); err != nil {
				return fmt.Errorf("alpha should be a 2 digit hex string, not %q", v)
			}
			if col, ok := s.Settings["color"]; ok {
				if rgb, err := ParseColor(col); err == nil {
					c.push(s.with("color", fmt.Sprintf("%s%s", v, rgbHex(rgb)), "alpha"))
					return nil
				}
			}
			c.push(s.with("alpha", v))
			return nil
		}),
		typed("color", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			v := a[1].(string)
			if rgb, err := ParseColor(v); err == nil {
				v = colorString(rgb)
			}
			c.push(a[0].(*StyleExpr).with("color", v, "alpha", "palette"))
			return nil
		}),
		&wordDef{name: "palette", sig: "StyleExpr palette:String|List -- StyleExpr", match: func(s []any) bool {
			if len(s) < 2 {
				return false
			}
			_, isStr := s[len(s)-1].(string)
			_, isList := tStringList.extract(s[len(s)-1])
			_, ok := tStyle.extract(s[len(s)-2])
			return (isStr || isList) && ok
		}, run: func(c *Context) error {
			v := c.stack[len(c.stack)-1]
			st, _ := tStyle.extract(c.stack[len(c.stack)-2])
			c.stack = c.stack[:len(c.stack)-2]
			p, ok := v.(string)
			if !ok {
				l, _ := tStringList.extract(v)
				p = "(," + strings.Join(l.([]string), ",") + ",)"
			}
			c.push(st.(*StyleExpr).with("palette", p, "color", "alpha"))
			return nil
		}},
		typed("ls", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			switch a[1].(string) {
			case "line", "area", "stack", "heatmap", "vspan":
			default:
				return fmt.Errorf("unknown line style %q: want line, area, stack, heatmap or vspan", a[1])
			}
			c.push(a[0].(*StyleExpr).with("ls", a[1].(string)))
			return nil
		}),
		typed("lw", []ptype{tStyle, tString}, func(c *Context, a []any) error {
			if v, err := strconv.ParseFloat(a[1].(string), 64); err != nil || v < 0 || v > 50 {
				return fmt.Errorf("line width must be a number from 0 to 50, not %q", a[1])
			}
			c.push(a[0].(*StyleExpr).with("lw", a[1].(string)))
			return nil
		}),
		macro("area", []ptype{tStyle}, "area,:ls"),
		macro("line", []ptype{tStyle}, "line,:ls"),
		macro("stack", []ptype{tStyle}, "stack,:ls"),
		macro("heatmap", []ptype{tStyle}, "heatmap,:ls"),
		macro("percentiles-heatmap", []ptype{tStyle}, "(,percentile,),:cg,heatmap,:ls"),
		macro("vspan", []ptype{tStyle}, "vspan,:ls"),
		&wordDef{name: "des-epic-viz", sig: "TimeSeriesExpr training alpha beta maxPercent minPercent noise --", match: always,
			macro: strings.Split(":des-epic-signal,:vspan,40,:alpha,triggered,:legend,line,:get,line,:legend,"+
				"minPredNoiseBound,:get,minPredNoiseBound,:legend,minPredPercentBound,:get,minPredPercentBound,:legend,"+
				"maxPredNoiseBound,:get,maxPredNoiseBound,:legend,maxPredPercentBound,:get,maxPredPercentBound,:legend", ",")},
		typed("strip-style", []ptype{tStyle}, func(c *Context, a []any) error { c.push(a[0].(*StyleExpr).Expr); return nil }),
	)
}
