package papermill

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// PythonLiteral renders a JSON-like value as the Python literal papermill
// injects: None, True/False, ints as written, floats as Python's repr
// (float('nan') and float('inf') for the others), strings double-quoted
// with unicode_escape escaping, lists and dicts element by element.
func PythonLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "None", nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return pythonFloatRepr(x), nil
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return string(x), nil
		}
		f, err := x.Float64()
		if err != nil {
			return "", fmt.Errorf("number %q: %w", x, err)
		}
		if !strings.ContainsAny(string(x), ".eE") {
			return string(x), nil // an integer too big for int64: Python's int takes it
		}
		return pythonFloatRepr(f), nil
	case string:
		return pythonString(x), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := PythonLiteral(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			s, err := PythonLiteral(x[k])
			if err != nil {
				return "", err
			}
			parts[i] = pythonString(k) + ": " + s
		}
		return "{" + strings.Join(parts, ", ") + "}", nil
	}
	return "", fmt.Errorf("a value of type %T has no Python literal", v)
}

// pythonString escapes s with Python's unicode_escape codec, escapes
// double quotes and wraps it in them, as papermill does.
func pythonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pythonFloatRepr formats f as Python's repr does: the shortest digits that
// read back as f, positional between 1e-4 and 1e16, else scientific with a
// signed exponent of at least two digits, and always a '.0' or exponent.
func pythonFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "float('nan')"
	case math.IsInf(f, 1):
		return "float('inf')"
	case math.IsInf(f, -1):
		return "float('-inf')"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
