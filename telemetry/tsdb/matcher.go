package tsdb

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// MatchType is the kind of a label matcher.
type MatchType int

// Matcher types, as in PromQL: =, !=, =~ and !~.
const (
	MatchEqual MatchType = iota
	MatchNotEqual
	MatchRegexp
	MatchNotRegexp
)

// String returns the PromQL operator.
func (t MatchType) String() string {
	switch t {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegexp:
		return "=~"
	case MatchNotRegexp:
		return "!~"
	}
	return fmt.Sprintf("MatchType(%d)", int(t))
}

// Matcher selects series by one label. A series without the label matches
// as if its value were "". Regular expressions are anchored at both ends,
// as in Prometheus.
type Matcher struct {
	Type  MatchType
	Name  string
	Value string

	re *regexp.Regexp
	// Fast paths found by analysing the regular expression.
	set    []string // the regexp matches exactly these strings
	prefix string   // with hasPrefix: the regexp is prefix.*
	hasPre bool
	any    bool // .*
	anyNE  bool // .+
}

// NewMatcher builds a matcher. For regexp types it compiles value as
// ^(?s:value)$.
func NewMatcher(t MatchType, name, value string) (*Matcher, error) {
	m := &Matcher{Type: t, Name: name, Value: value}
	switch t {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?s:" + value + ")$")
		if err != nil {
			return nil, fmt.Errorf("label matcher %s%s%q: %w", name, t, value, err)
		}
		m.re = re
		m.analyse()
	default:
		return nil, fmt.Errorf("label matcher %s: unknown match type %d", name, int(t))
	}
	return m, nil
}

// MustMatcher is NewMatcher that panics on error, for tests and constants.
func MustMatcher(t MatchType, name, value string) *Matcher {
	m, err := NewMatcher(t, name, value)
	if err != nil {
		panic(err)
	}
	return m
}

// String formats the matcher like PromQL.
func (m *Matcher) String() string {
	return fmt.Sprintf("%s%s%q", m.Name, m.Type, m.Value)
}

// analyse finds literal sets, prefixes and match-all patterns.
func (m *Matcher) analyse() {
	re, err := syntax.Parse(m.Value, syntax.Perl|syntax.DotNL)
	if err != nil {
		return
	}
	re = re.Simplify()
	isAny := func(r *syntax.Regexp) bool { return r.Op == syntax.OpAnyChar }
	literal := func(r *syntax.Regexp) (string, bool) {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 {
			return string(r.Rune), true
		}
		if r.Op == syntax.OpEmptyMatch {
			return "", true
		}
		return "", false
	}
	switch {
	case re.Op == syntax.OpStar && isAny(re.Sub[0]):
		m.any = true
	case re.Op == syntax.OpPlus && isAny(re.Sub[0]):
		m.anyNE = true
	case re.Op == syntax.OpAlternate:
		var set []string
		for _, sub := range re.Sub {
			s, ok := literal(sub)
			if !ok {
				return
			}
			set = append(set, s)
		}
		m.set = set
	case re.Op == syntax.OpConcat && len(re.Sub) == 2 && re.Sub[1].Op == syntax.OpStar && isAny(re.Sub[1].Sub[0]):
		if s, ok := literal(re.Sub[0]); ok {
			m.prefix, m.hasPre = s, true
		}
	default:
		if s, ok := literal(re); ok {
			m.set = []string{s}
		}
	}
}

// Matches reports whether a label value satisfies the matcher.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.matchRegexp(v)
	case MatchNotRegexp:
		return !m.matchRegexp(v)
	}
	return false
}

func (m *Matcher) matchRegexp(v string) bool {
	switch {
	case m.any:
		return true
	case m.anyNE:
		return v != ""
	case m.hasPre:
		return strings.HasPrefix(v, m.prefix)
	case m.set != nil:
		for _, s := range m.set {
			if s == v {
				return true
			}
		}
		return false
	}
	return m.re.MatchString(v)
}

// literalValues returns the values a positive matcher can match when it is a
// finite set, so the index can look them up instead of scanning.
func (m *Matcher) literalValues() ([]string, bool) {
	switch m.Type {
	case MatchEqual:
		return []string{m.Value}, true
	case MatchRegexp:
		if m.set != nil {
			return m.set, true
		}
	}
	return nil, false
}
