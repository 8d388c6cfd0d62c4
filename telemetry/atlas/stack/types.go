package stack

import (
	"strconv"
	"strings"
	"time"
)

// ptype is a parameter type: it recognises and coerces a stack item.
type ptype struct {
	name    string
	isTS    bool
	extract func(v any) (any, bool)
}

func parseDouble(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case "nan":
		if s != "NaN" {
			return 0, false
		}
	case "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity":
		if !strings.Contains(s, "Infinity") {
			return 0, false
		}
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") || strings.Contains(s, "_") {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

var (
	tAny    = ptype{name: "Any", extract: func(v any) (any, bool) { return v, true }}
	tString = ptype{name: "String", extract: func(v any) (any, bool) {
		s, ok := v.(string)
		return s, ok
	}}
	tInt = ptype{name: "Int", extract: func(v any) (any, bool) {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(s, 10, 32)
		return int(n), err == nil
	}}
	tDouble = ptype{name: "Double", extract: func(v any) (any, bool) {
		switch x := v.(type) {
		case string:
			return parseDouble(x)
		case *Constant:
			return x.V, true
		}
		return nil, false
	}}
	tList       = ptype{name: "List", extract: func(v any) (any, bool) { l, ok := v.(List); return l, ok }}
	tStringList = ptype{name: "List[String]", extract: func(v any) (any, bool) {
		l, ok := v.(List)
		if !ok {
			return nil, false
		}
		out := make([]string, len(l))
		for i, it := range l {
			s, ok := it.(string)
			if !ok {
				return nil, false
			}
			out[i] = unescape(s)
		}
		return out, true
	}}
	tDoubleList = ptype{name: "List[Double]", extract: func(v any) (any, bool) {
		l, ok := v.(List)
		if !ok {
			return nil, false
		}
		out := make([]float64, len(l))
		for i, it := range l {
			s, ok := it.(string)
			if !ok {
				return nil, false
			}
			d, ok := parseDouble(s)
			if !ok {
				return nil, false
			}
			out[i] = d
		}
		return out, true
	}}
	tQuery = ptype{name: "Query", extract: func(v any) (any, bool) { q, ok := v.(Query); return q, ok }}
	// tAggr accepts an aggregate, or a query as its :sum.
	tAggr = ptype{name: "AggregateFunction", extract: func(v any) (any, bool) {
		switch x := v.(type) {
		case Query:
			return NewAggregate(AggSum, x), true
		case *Aggregate:
			return x, true
		}
		return nil, false
	}}
	tDataExpr = ptype{name: "DataExpr", extract: func(v any) (any, bool) {
		switch x := v.(type) {
		case Query:
			return NewAggregate(AggSum, x), true
		case DataExpr:
			return x, true
		}
		return nil, false
	}}
	// tTS accepts an expression, a query (as its :sum) or a number (as a
	// constant line).
	tTS = ptype{name: "TimeSeriesExpr", isTS: true, extract: toTS}
	// tStyle accepts what tTS does, or a styled expression.
	tStyle = ptype{name: "StyleExpr", extract: func(v any) (any, bool) {
		if s, ok := v.(*StyleExpr); ok {
			return s, true
		}
		t, ok := toTS(v)
		if !ok {
			return nil, false
		}
		return &StyleExpr{Expr: t.(TimeSeriesExpr), Settings: Settings{}}, true
	}}
	tDuration = ptype{name: "Duration", extract: func(v any) (any, bool) {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		d, err := ParseDuration(s)
		return d, err == nil
	}}
	tCF = ptype{name: "ConsolidationFunction", extract: func(v any) (any, bool) {
		switch v {
		case "avg":
			return CFAvg, true
		case "sum":
			return CFSum, true
		case "min":
			return CFMin, true
		case "max":
			return CFMax, true
		}
		return nil, false
	}}
)

func toTS(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		d, ok := parseDouble(x)
		if !ok {
			return nil, false
		}
		return &Constant{V: d}, true
	case Query:
		return NewAggregate(AggSum, x), true
	case TimeSeriesExpr:
		return x, true
	}
	return nil, false
}

var _ = time.Second
