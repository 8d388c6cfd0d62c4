package stack

import (
	"fmt"
	"regexp"
	"strings"
)

// Query selects series by their tags. A key-value query never matches a
// series that lacks the key (Atlas's rule); :not inverts that.
type Query interface {
	Expr
	// Matches reports whether a series with these tags is selected.
	Matches(tags map[string]string) bool
	labelString() string
}

// Query types, one per query word.
type (
	// True matches every series (:true).
	True struct{}
	// False matches nothing (:false).
	False struct{}
	// HasKey matches series that have the key (:has).
	HasKey struct{ K string }
	// Equal is :eq.
	Equal struct{ K, V string }
	// LessThan is :lt, comparing strings.
	LessThan struct{ K, V string }
	// LessThanEqual is :le.
	LessThanEqual struct{ K, V string }
	// GreaterThan is :gt.
	GreaterThan struct{ K, V string }
	// GreaterThanEqual is :ge.
	GreaterThanEqual struct{ K, V string }
	// In is :in, a set of values.
	In struct {
		K  string
		Vs []string
	}
	// And, Or and Not combine queries.
	And struct{ Q1, Q2 Query }
	// Or matches either query.
	Or struct{ Q1, Q2 Query }
	// Not inverts a query.
	Not struct{ Q Query }
)

// Regex is :re (and :reic with IgnoreCase): the pattern is anchored at
// the start of the value only, as in Atlas.
type Regex struct {
	K, V       string
	IgnoreCase bool
	re         *regexp.Regexp
}

// NewRegex compiles an Atlas regular-expression query.
func NewRegex(k, v string, ignoreCase bool) (*Regex, error) {
	p := "^(?:" + v + ")"
	if ignoreCase {
		p = "(?i)" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %w", v, err)
	}
	return &Regex{K: k, V: v, IgnoreCase: ignoreCase, re: re}, nil
}

func (True) Matches(map[string]string) bool  { return true }
func (False) Matches(map[string]string) bool { return false }
func (q HasKey) Matches(t map[string]string) bool {
	_, ok := t[q.K]
	return ok
}
func (q Equal) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	return ok && v == q.V
}
func (q LessThan) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	return ok && v < q.V
}
func (q LessThanEqual) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	return ok && v <= q.V
}
func (q GreaterThan) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	return ok && v > q.V
}
func (q GreaterThanEqual) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	return ok && v >= q.V
}
func (q *Regex) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	return ok && q.re.MatchString(v)
}
func (q In) Matches(t map[string]string) bool {
	v, ok := t[q.K]
	if !ok {
		return false
	}
	for _, x := range q.Vs {
		if x == v {
			return true
		}
	}
	return false
}
func (q And) Matches(t map[string]string) bool { return q.Q1.Matches(t) && q.Q2.Matches(t) }
func (q Or) Matches(t map[string]string) bool  { return q.Q1.Matches(t) || q.Q2.Matches(t) }
func (q Not) Matches(t map[string]string) bool { return !q.Q.Matches(t) }

func (True) labelString() string               { return "true" }
func (False) labelString() string              { return "false" }
func (q HasKey) labelString() string           { return "has(" + q.K + ")" }
func (q Equal) labelString() string            { return q.K + "=" + q.V }
func (q LessThan) labelString() string         { return q.K + "<" + q.V }
func (q LessThanEqual) labelString() string    { return q.K + "<=" + q.V }
func (q GreaterThan) labelString() string      { return q.K + ">" + q.V }
func (q GreaterThanEqual) labelString() string { return q.K + ">=" + q.V }
func (q *Regex) labelString() string {
	if q.IgnoreCase {
		return q.K + "~/^" + q.V + "/i"
	}
	return q.K + "~/^" + q.V + "/"
}
func (q In) labelString() string { return q.K + " in (" + strings.Join(q.Vs, ",") + ")" }
func (q And) labelString() string {
	return "(" + q.Q1.labelString() + ") and (" + q.Q2.labelString() + ")"
}
func (q Or) labelString() string {
	return "(" + q.Q1.labelString() + ") or (" + q.Q2.labelString() + ")"
}
func (q Not) labelString() string { return "not(" + q.Q.labelString() + ")" }

func (True) appendTo(b *strings.Builder)               { b.WriteString(":true") }
func (False) appendTo(b *strings.Builder)              { b.WriteString(":false") }
func (q HasKey) appendTo(b *strings.Builder)           { appendItems(b, q.K, word(":has")) }
func (q Equal) appendTo(b *strings.Builder)            { appendItems(b, q.K, q.V, word(":eq")) }
func (q LessThan) appendTo(b *strings.Builder)         { appendItems(b, q.K, q.V, word(":lt")) }
func (q LessThanEqual) appendTo(b *strings.Builder)    { appendItems(b, q.K, q.V, word(":le")) }
func (q GreaterThan) appendTo(b *strings.Builder)      { appendItems(b, q.K, q.V, word(":gt")) }
func (q GreaterThanEqual) appendTo(b *strings.Builder) { appendItems(b, q.K, q.V, word(":ge")) }
func (q *Regex) appendTo(b *strings.Builder) {
	w := ":re"
	if q.IgnoreCase {
		w = ":reic"
	}
	appendItems(b, q.K, q.V, word(w))
}
func (q In) appendTo(b *strings.Builder)  { appendItems(b, q.K, q.Vs, word(":in")) }
func (q And) appendTo(b *strings.Builder) { appendItems(b, q.Q1, q.Q2, word(":and")) }
func (q Or) appendTo(b *strings.Builder)  { appendItems(b, q.Q1, q.Q2, word(":or")) }
func (q Not) appendTo(b *strings.Builder) { appendItems(b, q.Q, word(":not")) }

// String methods print the query as a program.
func (q True) String() string             { return exprString(q) }
func (q False) String() string            { return exprString(q) }
func (q HasKey) String() string           { return exprString(q) }
func (q Equal) String() string            { return exprString(q) }
func (q LessThan) String() string         { return exprString(q) }
func (q LessThanEqual) String() string    { return exprString(q) }
func (q GreaterThan) String() string      { return exprString(q) }
func (q GreaterThanEqual) String() string { return exprString(q) }
func (q *Regex) String() string           { return exprString(q) }
func (q In) String() string               { return exprString(q) }
func (q And) String() string              { return exprString(q) }
func (q Or) String() string               { return exprString(q) }
func (q Not) String() string              { return exprString(q) }

// and combines queries, simplifying :true and :false as Atlas does.
func and(q1, q2 Query) Query {
	switch {
	case isTrue(q1):
		return q2
	case isFalse(q1):
		return False{}
	case isTrue(q2):
		return q1
	case isFalse(q2):
		return False{}
	}
	return And{q1, q2}
}

func or(q1, q2 Query) Query {
	switch {
	case isTrue(q1):
		return True{}
	case isFalse(q1):
		return q2
	case isTrue(q2):
		return True{}
	case isFalse(q2):
		return q1
	}
	return Or{q1, q2}
}

func not(q Query) Query {
	switch {
	case isTrue(q):
		return False{}
	case isFalse(q):
		return True{}
	}
	return Not{q}
}

func isTrue(q Query) bool  { _, ok := q.(True); return ok }
func isFalse(q Query) bool { _, ok := q.(False); return ok }

// exactKeys are the keys a query pins to one value (Equal under And):
// aggregates keep those tags.
func exactKeys(q Query) map[string]bool {
	out := map[string]bool{}
	var walk func(Query)
	walk = func(q Query) {
		switch x := q.(type) {
		case And:
			walk(x.Q1)
			walk(x.Q2)
		case Equal:
			out[x.K] = true
		}
	}
	walk(q)
	return out
}

// queryTags are the key=value pairs a query pins (for NO DATA lines).
func queryTags(q Query) map[string]string {
	out := map[string]string{}
	var walk func(Query)
	walk = func(q Query) {
		switch x := q.(type) {
		case And:
			walk(x.Q1)
			walk(x.Q2)
		case Equal:
			out[x.K] = x.V
		}
	}
	walk(q)
	return out
}

func (q And) mapChildren(f func(Expr) Expr) Expr {
	return and(f(q.Q1).(Query), f(q.Q2).(Query))
}
func (q Or) mapChildren(f func(Expr) Expr) Expr {
	return or(f(q.Q1).(Query), f(q.Q2).(Query))
}
func (q Not) mapChildren(f func(Expr) Expr) Expr { return not(f(q.Q).(Query)) }
