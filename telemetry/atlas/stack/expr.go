package stack

import (
	"strings"
	"time"
)

// DataMap holds the fetched lines of each data expression, by its program
// text.
type DataMap map[string][]*TimeSeries

// TimeSeriesExpr is an expression that evaluates to lines.
type TimeSeriesExpr interface {
	Expr
	// DataExprs lists the data the expression needs fetched.
	DataExprs() []DataExpr
	// IsGrouped reports whether the result is grouped by tag keys.
	IsGrouped() bool
	// FinalGrouping lists the keys of the result's groups.
	FinalGrouping() []string
	// Eval computes the lines from the fetched data.
	Eval(ctx *EvalContext, data DataMap) ([]*TimeSeries, error)
}

// parent is an expression with sub-expressions, for rewriting.
type parent interface {
	mapChildren(f func(Expr) Expr) Expr
}

// rewrite replaces, depth first from the top, every sub-expression for
// which f returns true.
func rewrite(e Expr, f func(Expr) (Expr, bool)) Expr {
	if r, ok := f(e); ok {
		return r
	}
	if p, ok := e.(parent); ok {
		return p.mapChildren(func(x Expr) Expr { return rewrite(x, f) })
	}
	return e
}

func rewriteTS(e TimeSeriesExpr, f func(Expr) (Expr, bool)) TimeSeriesExpr {
	return rewrite(e, f).(TimeSeriesExpr)
}

// withOffset shifts every data expression under e by d.
func withOffset(e TimeSeriesExpr, d time.Duration) TimeSeriesExpr {
	return rewriteTS(e, func(x Expr) (Expr, bool) {
		switch v := x.(type) {
		case *NamedRewrite:
			c := *v
			c.Eval_ = withOffset(v.Eval_, d)
			return &c, true
		case DataExpr:
			return v.withOffset(d), true
		}
		return nil, false
	})
}

// groupByKey is the key a line belongs to in a grouped expression.
func groupByKey(e TimeSeriesExpr, tags map[string]string) (string, bool) {
	if !e.IsGrouped() {
		return "", true
	}
	return keyString(e.FinalGrouping(), tags)
}

// String returns the program for any stack item.
func String(v any) string {
	var b strings.Builder
	appendItem(&b, v)
	return b.String()
}

// maxNodes bounds the size of an expression: :dup and a binary word
// double it, so a short program could otherwise build an expression too
// large to print or evaluate.
const maxNodes = 5000

// nodeCount is the size of an expression as a tree, cheap for trees of
// binary operations (their size is kept) and capped at maxNodes+1.
func nodeCount(e Expr) int {
	switch v := e.(type) {
	case *Binary:
		return v.nodes
	case *Filter:
		return min(nodeCount(v.Expr1)+nodeCount(v.Expr2)+1, maxNodes+1)
	case *NamedRewrite:
		return min(nodeCount(v.Display)+nodeCount(v.Eval_)+1, maxNodes+1)
	case parent:
		n := 1
		v.mapChildren(func(x Expr) Expr {
			n += nodeCount(x)
			return x
		})
		return min(n, maxNodes+1)
	}
	return 1
}
