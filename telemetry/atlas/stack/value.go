package stack

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// List is a list on the stack, pushed by "(" … ")" or built by words such
// as :list and :map. Items are strings, lists or expressions.
type List []any

// Expr is a value on the stack that prints itself as the program that
// builds it: a Query, a TimeSeriesExpr or a *StyleExpr.
type Expr interface {
	appendTo(b *strings.Builder)
}

// String formats a stack item the way Atlas prints it in programs.
func exprString(e Expr) string {
	var b strings.Builder
	e.appendTo(&b)
	return b.String()
}

// appendItems writes items separated by commas, as a program.
func appendItems(b *strings.Builder, items ...any) {
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		appendItem(b, it)
	}
}

func appendItem(b *strings.Builder, it any) {
	switch v := it.(type) {
	case string:
		b.WriteString(escape(v))
	case word:
		b.WriteString(string(v))
	case List:
		b.WriteByte('(')
		for _, x := range v {
			b.WriteByte(',')
			appendItem(b, x)
		}
		b.WriteString(",)")
	case []string:
		b.WriteByte('(')
		for _, x := range v {
			b.WriteByte(',')
			b.WriteString(escape(x))
		}
		b.WriteString(",)")
	case []float64:
		b.WriteByte('(')
		for _, x := range v {
			b.WriteByte(',')
			b.WriteString(formatDouble(x))
		}
		b.WriteString(",)")
	case float64:
		b.WriteString(formatDouble(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case time.Duration:
		b.WriteString(formatDuration(v))
	case Expr:
		v.appendTo(b)
	}
}

// word is a literal word token such as ":sum" when printing programs.
type word string

// formatDouble prints v as Java's Double.toString does ("42.0", "1.0E-4"),
// so printed programs match Atlas's.
func formatDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(v)
	if a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'E', -1, 64)
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if exp[0] == '+' {
		exp = exp[1:]
	}
	exp = strings.TrimLeft(exp, "0")
	if strings.HasPrefix(exp, "-") {
		exp = "-" + strings.TrimLeft(exp[1:], "0")
	}
	return mant + "E" + exp
}

// formatDuration prints a duration in Atlas's short form (1w, 3d, 5h, 2m,
// 30s), or ISO-8601 when it is not a whole number of seconds.
func formatDuration(d time.Duration) string {
	ms := d.Milliseconds()
	const sec, min, hour, day, week = 1000, 60 * 1000, 3600 * 1000, 86400 * 1000, 7 * 86400 * 1000
	switch {
	case ms == 0:
		return "0s"
	case ms%week == 0:
		return strconv.FormatInt(ms/week, 10) + "w"
	case ms%day == 0:
		return strconv.FormatInt(ms/day, 10) + "d"
	case ms%hour == 0:
		return strconv.FormatInt(ms/hour, 10) + "h"
	case ms%min == 0:
		return strconv.FormatInt(ms/min, 10) + "m"
	case ms%sec == 0:
		return strconv.FormatInt(ms/sec, 10) + "s"
	}
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// escape makes a string safe as one token: commas, colons and leading or
// trailing white space become \uXXXX escapes, and a lone parenthesis too.
func escape(s string) string {
	switch s {
	case "(":
		return `\u0028`
	case ")":
		return `\u0029`
	}
	if !needsEscape(s) {
		return s
	}
	rs := []rune(s)
	first, last := -1, -1
	for i, r := range rs {
		if !unicode.IsSpace(r) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	var b strings.Builder
	for i, r := range rs {
		special := r == ',' || r == ':'
		if unicode.IsSpace(r) && (r != ' ' || i < first || i > last) {
			special = true
		}
		if r == '\\' && i+5 < len(rs) && rs[i+1] == 'u' && isHex4(rs[i+2:i+6]) {
			special = true
		}
		if special {
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", max(0, 4-len(h))) + h)
			continue
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(b.String(), "/*", `\u002f*`)
}

func needsEscape(s string) bool {
	if strings.ContainsAny(s, ",:\\") || strings.Contains(s, "/*") {
		return true
	}
	return s != strings.TrimSpace(s) || strings.ContainsAny(s, "\t\n\r\f\v")
}

func isHex4(rs []rune) bool {
	for _, r := range rs {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// unescape decodes \uXXXX escapes in a token.
func unescape(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+5 < len(s)+0 && i+6 <= len(s) && s[i+1] == 'u' && isHex4([]rune(s[i+2:i+6])) {
			n, _ := strconv.ParseUint(s[i+2:i+6], 16, 32)
			b.WriteRune(rune(n))
			i += 5
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// describe names an item's type for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "String(" + x + ")"
	case List:
		return "List"
	case Query:
		return "Query"
	case *StyleExpr:
		return "StyleExpr"
	case DataExpr:
		return "DataExpr"
	case TimeSeriesExpr:
		return "TimeSeriesExpr"
	}
	return "unknown"
}

// maxItemString bounds printed items (:format of nested lists).
const maxItemString = 10_000

// itemString prints a stack item as Atlas's debugger does: strings as is,
// lists as List(a, b), expressions as programs.
func itemString(v any) string {
	s := itemStringN(v, 0)
	if len(s) > maxItemString {
		s = s[:maxItemString] + "…"
	}
	return s
}

func itemStringN(v any, depth int) string {
	if depth > 20 {
		return "…"
	}
	switch x := v.(type) {
	case string:
		return x
	case List:
		var b strings.Builder
		b.WriteString("List(")
		for i, it := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(itemStringN(it, depth+1))
			if b.Len() > maxItemString {
				break
			}
		}
		b.WriteString(")")
		return b.String()
	case Expr:
		return exprString(x)
	}
	return "?"
}
