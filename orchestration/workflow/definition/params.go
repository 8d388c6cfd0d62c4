package definition

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Param types, as Maestro names them.
const (
	TypeString       = "STRING"
	TypeLong         = "LONG"
	TypeDouble       = "DOUBLE"
	TypeBoolean      = "BOOLEAN"
	TypeStringArray  = "STRING_ARRAY"
	TypeLongArray    = "LONG_ARRAY"
	TypeDoubleArray  = "DOUBLE_ARRAY"
	TypeBooleanArray = "BOOLEAN_ARRAY"
	TypeStringMap    = "STRING_MAP"
	TypeMap          = "MAP"
)

var paramTypes = map[string]bool{TypeString: true, TypeLong: true, TypeDouble: true, TypeBoolean: true,
	TypeStringArray: true, TypeLongArray: true, TypeDoubleArray: true, TypeBooleanArray: true, TypeStringMap: true, TypeMap: true}

// IsArray reports whether t is one of the *_ARRAY types.
func IsArray(t string) bool { return strings.HasSuffix(t, "_ARRAY") }

// Coerce converts v (a JSON or YAML value, or an expression's result) to
// the Go value of param type t: string, int64, float64, bool, []string,
// []int64, []float64, []bool, map[string]string or map[string]any. An
// empty t keeps v as it is.
func Coerce(t string, v any) (any, error) {
	switch t {
	case "":
		return v, nil
	case TypeString:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64, float64, bool, int, json.Number:
			return fmt.Sprint(x), nil
		}
	case TypeLong:
		return toLong(v)
	case TypeDouble:
		return toDouble(v)
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(x) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
	case TypeStringArray, TypeLongArray, TypeDoubleArray, TypeBooleanArray:
		return coerceArray(t, v)
	case TypeStringMap:
		m, ok := v.(map[string]any)
		if sm, isSM := v.(map[string]string); isSM {
			return sm, nil
		}
		if !ok {
			break
		}
		out := make(map[string]string, len(m))
		for k, x := range m {
			s, err := Coerce(TypeString, x)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = s.(string)
		}
		return out, nil
	case TypeMap:
		switch x := v.(type) {
		case map[string]any:
			return x, nil
		case map[string]Param:
			return x, nil
		}
	default:
		return nil, fmt.Errorf("unknown param type %q (want one of STRING, LONG, DOUBLE, BOOLEAN, their _ARRAY forms, STRING_MAP or MAP)", t)
	}
	return nil, fmt.Errorf("want %s, got %s", t, describe(v))
}

func toLong(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case json.Number:
		return x.Int64()
	case string:
		var n int64
		if _, err := fmt.Sscan(x, &n); err == nil && fmt.Sprint(n) == strings.TrimSpace(x) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("want LONG, got %s", describe(v))
}

func toDouble(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case string:
		var f float64
		if _, err := fmt.Sscan(x, &f); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("want DOUBLE, got %s", describe(v))
}

func coerceArray(t string, v any) (any, error) {
	elem := strings.TrimSuffix(t, "_ARRAY")
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []int64:
		if t == TypeLongArray {
			return x, nil
		}
		for _, e := range x {
			items = append(items, e)
		}
	case []string:
		if t == TypeStringArray {
			return x, nil
		}
		for _, e := range x {
			items = append(items, e)
		}
	case []float64:
		if t == TypeDoubleArray {
			return x, nil
		}
		for _, e := range x {
			items = append(items, e)
		}
	case []bool:
		if t == TypeBooleanArray {
			return x, nil
		}
		for _, e := range x {
			items = append(items, e)
		}
	default:
		return nil, fmt.Errorf("want %s, got %s", t, describe(v))
	}
	var (
		ss []string
		ls []int64
		ds []float64
		bs []bool
	)
	for i, e := range items {
		c, err := Coerce(elem, e)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		switch y := c.(type) {
		case string:
			ss = append(ss, y)
		case int64:
			ls = append(ls, y)
		case float64:
			ds = append(ds, y)
		case bool:
			bs = append(bs, y)
		}
	}
	switch t {
	case TypeStringArray:
		return nonNil(ss), nil
	case TypeLongArray:
		return nonNil(ls), nil
	case TypeDoubleArray:
		return nonNil(ds), nil
	}
	return nonNil(bs), nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case float64, int64, int:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}
