package cpservice

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// parseSelector parses a PromQL series selector without range or offset:
// `name`, `name{k="v", k2=~"re"}` or `{__name__="name", ...}`, with the
// operators =, !=, =~ and !~ and double-, single- or back-quoted values.
// Like Prometheus it refuses selectors that would match every series.
func parseSelector(q string) ([]*tsdb.Matcher, error) {
	p := &selectorParser{s: q}
	var ms []*tsdb.Matcher
	p.space()
	if name := p.ident(true); name != "" {
		ms = append(ms, tsdb.MustMatcher(tsdb.MatchEqual, tsdb.MetricName, name))
	}
	p.space()
	if p.peek() == '{' {
		p.i++
		for {
			p.space()
			if p.peek() == '}' {
				p.i++
				break
			}
			m, err := p.matcher()
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
			p.space()
			switch p.peek() {
			case ',':
				p.i++
			case '}':
			default:
				return nil, p.errorf("expected , or } after a label matcher")
			}
		}
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected %q (only a series selector such as name{label=\"value\"} is supported)", p.s[p.i:])
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("empty selector: give a metric name or label matchers")
	}
	for _, m := range ms {
		if !m.Matches("") {
			return ms, nil
		}
	}
	return nil, fmt.Errorf("selector %s matches every series: it needs a metric name or a matcher that does not match the empty string", q)
}

type selectorParser struct {
	s string
	i int
}

func (p *selectorParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at character %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *selectorParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *selectorParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// ident reads a label name, or a metric name (which may hold colons).
func (p *selectorParser) ident(metric bool) string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(p.i > start && c >= '0' && c <= '9') || (metric && c == ':')
		if !ok {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *selectorParser) matcher() (*tsdb.Matcher, error) {
	name := p.ident(false)
	if name == "" {
		return nil, p.errorf("expected a label name")
	}
	p.space()
	var t tsdb.MatchType
	switch {
	case strings.HasPrefix(p.s[p.i:], "=~"):
		t, p.i = tsdb.MatchRegexp, p.i+2
	case strings.HasPrefix(p.s[p.i:], "!~"):
		t, p.i = tsdb.MatchNotRegexp, p.i+2
	case strings.HasPrefix(p.s[p.i:], "!="):
		t, p.i = tsdb.MatchNotEqual, p.i+2
	case strings.HasPrefix(p.s[p.i:], "="):
		t, p.i = tsdb.MatchEqual, p.i+1
	default:
		return nil, p.errorf("expected =, !=, =~ or !~ after label %s", name)
	}
	p.space()
	value, err := p.quoted()
	if err != nil {
		return nil, err
	}
	m, err := tsdb.NewMatcher(t, name, value)
	if err != nil {
		return nil, p.errorf("%v", err)
	}
	return m, nil
}

// quoted reads a quoted string with Go's escapes (PromQL's rules).
func (p *selectorParser) quoted() (string, error) {
	q := p.peek()
	if q != '"' && q != '\'' && q != '`' {
		return "", p.errorf("expected a quoted label value")
	}
	for j := p.i + 1; j < len(p.s); j++ {
		switch {
		case p.s[j] == '\\' && q != '`':
			j++
		case p.s[j] == q:
			lit := p.s[p.i : j+1]
			if q == '\'' {
				lit = doubleQuote(lit[1 : len(lit)-1])
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				return "", p.errorf("bad label value %s: %v", p.s[p.i:j+1], err)
			}
			p.i = j + 1
			return v, nil
		}
	}
	return "", p.errorf("unterminated label value")
}

// doubleQuote turns the body of a single-quoted string into a
// double-quoted literal with the same escapes (strconv.Unquote reads
// single quotes as one rune).
func doubleQuote(body string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\' && i+1 < len(body):
			if body[i+1] != '\'' {
				b.WriteByte(c)
			}
			b.WriteByte(body[i+1])
			i++
		case c == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
