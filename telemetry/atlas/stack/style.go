package stack

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings are an expression's presentation settings by word name:
// legend, color, alpha, palette, ls, lw, axis, sort, order, limit, sed.
type Settings map[string]string

func (s Settings) clone() Settings {
	out := Settings{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// StyleExpr is an expression with presentation settings: what a graph
// draws for each expression left on the stack.
type StyleExpr struct {
	Expr     TimeSeriesExpr
	Settings Settings
}

func (e *StyleExpr) appendTo(b *strings.Builder) {
	appendItems(b, e.Expr)
	keys := make([]string, 0, len(e.Settings))
	for k := range e.Settings {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	for _, k := range keys {
		v := e.Settings[k]
		b.WriteByte(',')
		switch k {
		case "sed":
			b.WriteString(v)
		case "ls":
			b.WriteString(":" + v)
		case "offset":
			b.WriteString(v + ",:offset")
		default:
			b.WriteString(escape(v) + ",:" + k)
		}
	}
}

func (e *StyleExpr) String() string { return exprString(e) }

// with returns a copy with one setting changed and others removed.
func (e *StyleExpr) with(k, v string, drop ...string) *StyleExpr {
	s := e.Settings.clone()
	s[k] = v
	for _, d := range drop {
		delete(s, d)
	}
	return &StyleExpr{Expr: e.Expr, Settings: s}
}

// Offset is the smallest data offset of the expression.
func (e *StyleExpr) Offset() time.Duration {
	des := e.Expr.DataExprs()
	if len(des) == 0 {
		return 0
	}
	m := des[0].Offset()
	for _, d := range des[1:] {
		m = min(m, d.Offset())
	}
	return m
}

// Legend is the legend of a line: the :legend setting with $tag
// substitutions, or the line's label, then :s and :decode transforms.
func (e *StyleExpr) Legend(t *TimeSeries) string {
	fmtStr, ok := e.Settings["legend"]
	if !ok {
		fmtStr = t.Label
		if off := e.Offset(); off > 0 {
			fmtStr += " (offset=" + formatDuration(off) + ")"
		}
	}
	s := substitute(fmtStr, func(k string) string {
		if v, ok := t.Tags[k]; ok {
			return v
		}
		return k
	})
	return e.sed(s, t.Tags)
}

func (e *StyleExpr) sed(s string, tags map[string]string) string {
	cmds := strings.Split(e.Settings["sed"], ",")
	if e.Settings["sed"] == "" {
		return s
	}
	for i := 0; i < len(cmds); i++ {
		switch {
		case i+1 < len(cmds) && cmds[i+1] == ":decode":
			if cmds[i] == "hex" {
				s = hexDecode(s, '_')
			}
			i++
		case i+2 < len(cmds) && cmds[i+2] == ":s":
			s = searchReplace(s, unescape(cmds[i]), unescape(cmds[i+1]), tags)
			i += 2
		}
	}
	return s
}

// substitute replaces $key and $(key) with vars(key); a lone $ stays.
func substitute(s string, vars func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i == len(s)-1 {
			b.WriteByte(c)
			continue
		}
		var key string
		if s[i+1] == '(' {
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			key = s[i+2 : i+2+end]
			i = i + 2 + end
		} else {
			j := i + 1
			for j < len(s) && isVarChar(s[j]) {
				j++
			}
			key = s[i+1 : j]
			i = j - 1
		}
		if key == "" {
			b.WriteByte('$')
			continue
		}
		b.WriteString(vars(key))
	}
	return b.String()
}

func isVarChar(c byte) bool {
	return c == '.' || c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var numberRE = regexp.MustCompile(`^\d+$`)

// searchReplace is :s: a regular expression replacement whose replacement
// may use $1 or $name for groups and $tag for tags.
func searchReplace(s, search, repl string, tags map[string]string) string {
	re, err := regexp.Compile(search)
	if err != nil {
		return s
	}
	names := re.SubexpNames()
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatch(m)
		return substitute(repl, func(k string) string {
			if numberRE.MatchString(k) {
				if i, _ := strconv.Atoi(k); i < len(sub) {
					return sub[i]
				}
			}
			for i, n := range names {
				if n == k && i < len(sub) {
					return sub[i]
				}
			}
			if v, ok := tags[k]; ok {
				return v
			}
			return k
		})
	})
}

// hexDecode decodes esc followed by two hex digits.
func hexDecode(s string, esc byte) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == esc && i+2 < len(s)+0 && i+2 <= len(s)-1 {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Axis is the y axis the lines use (0 by default).
func (e *StyleExpr) Axis() int {
	n, _ := strconv.Atoi(e.Settings["axis"])
	return n
}

// LineStyle is line, area, stack, heatmap or vspan.
func (e *StyleExpr) LineStyle() string {
	if ls := e.Settings["ls"]; ls != "" {
		return ls
	}
	return "line"
}

// LineWidth is the :lw setting, 1 by default.
func (e *StyleExpr) LineWidth() float64 {
	if v, err := strconv.ParseFloat(e.Settings["lw"], 64); err == nil && v > 0 {
		return v
	}
	return 1
}

// Limit is the :limit setting, or -1.
func (e *StyleExpr) Limit() int {
	if v, err := strconv.Atoi(e.Settings["limit"]); err == nil {
		return v
	}
	return -1
}

// Order applies :sort, :order and :limit to an expression's lines.
func (e *StyleExpr) Order(lines []*TimeSeries) ([]*TimeSeries, error) {
	out := append([]*TimeSeries(nil), lines...)
	desc := e.Settings["order"] == "desc"
	switch key := e.Settings["sort"]; key {
	case "", "legend":
		legends := make(map[*TimeSeries]string, len(out))
		for _, t := range out {
			legends[t] = e.Legend(t)
		}
		sort.SliceStable(out, func(i, j int) bool {
			if desc {
				return legends[out[i]] > legends[out[j]]
			}
			return legends[out[i]] < legends[out[j]]
		})
	default:
		if _, ok := (SummaryStats{}).Get(key); !ok {
			return nil, fmt.Errorf(":sort: unknown statistic %q", key)
		}
		stats := make(map[*TimeSeries]float64, len(out))
		for _, t := range out {
			stats[t], _ = Summarize(t.Values).Get(key)
		}
		sort.SliceStable(out, func(i, j int) bool {
			a, b := stats[out[i]], stats[out[j]]
			if desc {
				return a > b || (a == a && b != b)
			}
			return a < b || (a == a && b != b)
		})
	}
	if n := e.Limit(); n >= 0 && n < len(out) {
		out = out[:n]
	}
	return out, nil
}
