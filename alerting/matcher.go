package alerting

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Matcher selects alerts by one label, as Alertmanager's matchers do:
// name="value", name!="value", name=~"regexp" or name!~"regexp" (the
// regular expression anchored at both ends; a missing label is "").
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"is_regex"`
	IsEqual bool   `json:"is_equal"`
	re      *regexp.Regexp
}

// maxMatcherLength bounds one matcher.
const maxMatcherLength = 4 << 10

// Matches reports whether labels ls satisfy m.
func (m *Matcher) Matches(ls map[string]string) bool {
	v := ls[m.Name]
	ok := v == m.Value
	if m.IsRegex {
		ok = m.re.MatchString(v)
	}
	return ok == m.IsEqual
}

// String formats m as it is written.
func (m *Matcher) String() string {
	op := map[[2]bool]string{{false, true}: "=", {false, false}: "!=", {true, true}: "=~", {true, false}: "!~"}[[2]bool{m.IsRegex, m.IsEqual}]
	return m.Name + op + strconv.Quote(m.Value)
}

// Matchers is a conjunction of matchers.
type Matchers []*Matcher

// Matches reports whether every matcher matches ls.
func (ms Matchers) Matches(ls map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(ls) {
			return false
		}
	}
	return true
}

// Strings formats the matchers.
func (ms Matchers) Strings() []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// ParseMatchers reads matchers as amtool takes them: each string is one
// matcher or a comma-separated list, optionally in braces
// ({alertname="X", job=~"api|web"}). Values are double-quoted (with Go's
// escapes) or bare.
func ParseMatchers(ss ...string) (Matchers, error) {
	var out Matchers
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "{") {
			if !strings.HasSuffix(s, "}") {
				return nil, fmt.Errorf("matchers %q: missing closing brace", s)
			}
			s = s[1 : len(s)-1]
		}
		for s = strings.TrimSpace(s); s != ""; {
			m, rest, err := parseMatcher(s)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			rest = strings.TrimSpace(rest)
			if rest != "" {
				if rest[0] != ',' {
					return nil, fmt.Errorf("matcher %s: want a comma before %q", m, rest)
				}
				rest = strings.TrimSpace(rest[1:])
				if rest == "" {
					return nil, fmt.Errorf("matchers %q: nothing after the last comma", ss)
				}
			}
			s = rest
		}
	}
	return out, nil
}

// parseMatcher reads one matcher from the start of s.
func parseMatcher(s string) (*Matcher, string, error) {
	if len(s) > maxMatcherLength {
		return nil, "", fmt.Errorf("matcher longer than %d bytes", maxMatcherLength)
	}
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r))
	})
	if i <= 0 {
		return nil, "", fmt.Errorf("matcher %q: want a label name, then =, !=, =~ or !~", s)
	}
	m := &Matcher{Name: s[:i]}
	rest := strings.TrimLeft(s[i:], " \t")
	switch {
	case strings.HasPrefix(rest, "=~"):
		m.IsRegex, m.IsEqual, rest = true, true, rest[2:]
	case strings.HasPrefix(rest, "!~"):
		m.IsRegex, rest = true, rest[2:]
	case strings.HasPrefix(rest, "!="):
		rest = rest[2:]
	case strings.HasPrefix(rest, "="):
		m.IsEqual, rest = true, rest[1:]
	default:
		return nil, "", fmt.Errorf("matcher %q: want =, !=, =~ or !~ after %q", s, m.Name)
	}
	rest = strings.TrimLeft(rest, " \t")
	if strings.HasPrefix(rest, `"`) {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, "", fmt.Errorf("matcher %q: unterminated or malformed quoted value", s)
		}
		if m.Value, err = strconv.Unquote(q); err != nil {
			return nil, "", fmt.Errorf("matcher %q: %w", s, err)
		}
		rest = rest[len(q):]
	} else {
		j := strings.IndexAny(rest, ",}")
		if j < 0 {
			j = len(rest)
		}
		m.Value, rest = strings.TrimSpace(rest[:j]), rest[j:]
		if strings.ContainsAny(m.Value, `"{`) {
			return nil, "", fmt.Errorf("matcher %q: quote a value with special characters", s)
		}
	}
	if !utf8.ValidString(m.Value) {
		return nil, "", fmt.Errorf("matcher %q: value is not valid UTF-8", s)
	}
	if m.IsRegex {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return nil, "", fmt.Errorf("matcher %s: %w", m, err)
		}
		m.re = re
	}
	return m, rest, nil
}
