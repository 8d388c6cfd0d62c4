package sel

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// javaType names a CEL value's type as SEL does.
func javaType(v ref.Val) string {
	switch v.(type) {
	case types.Int:
		return "long"
	case types.Double:
		return "double"
	case types.String:
		return "String"
	case types.Bool:
		return "boolean"
	case types.Null:
		return "null"
	case traits.Lister:
		return "array"
	case traits.Mapper:
		return "Map"
	}
	return v.Type().TypeName()
}

// javaArith applies op with Java's rules: a String on either side of +
// concatenates; two longs give a long (wrapping on overflow, an error on
// division by zero); a double on either side gives a double.
func javaArith(op string, a, b ref.Val) ref.Val {
	if types.IsError(a) {
		return a
	}
	if types.IsError(b) {
		return b
	}
	_, as := a.(types.String)
	_, bs := b.(types.String)
	if op == "+" && (as || bs) {
		x, err := javaString(a)
		if err != nil {
			return types.WrapErr(err)
		}
		y, err := javaString(b)
		if err != nil {
			return types.WrapErr(err)
		}
		return types.String(x + y)
	}
	ai, aInt := a.(types.Int)
	bi, bInt := b.(types.Int)
	if aInt && bInt {
		x, y := int64(ai), int64(bi)
		switch op {
		case "+":
			return types.Int(x + y)
		case "-":
			return types.Int(x - y)
		case "*":
			return types.Int(x * y)
		case "/", "%":
			if y == 0 {
				return types.NewErr("/ by zero")
			}
			if y == -1 { // Java: MinInt64 / -1 wraps to MinInt64
				if op == "/" {
					return types.Int(-x)
				}
				return types.Int(0)
			}
			if op == "/" {
				return types.Int(x / y)
			}
			return types.Int(x % y)
		}
	}
	x, ok1 := toFloat(a)
	y, ok2 := toFloat(b)
	if !ok1 || !ok2 {
		return types.NewErr("operator %s on a %s and a %s is not supported", op, javaType(a), javaType(b))
	}
	switch op {
	case "+":
		return types.Double(x + y)
	case "-":
		return types.Double(x - y)
	case "*":
		return types.Double(x * y)
	case "/":
		return types.Double(x / y)
	default:
		return types.Double(math.Mod(x, y))
	}
}

// javaString converts v to a String as Java's String.valueOf does.
func javaString(v ref.Val) (string, error) {
	switch x := v.(type) {
	case types.String:
		return string(x), nil
	case types.Int:
		return strconv.FormatInt(int64(x), 10), nil
	case types.Double:
		return javaDouble(float64(x)), nil
	case types.Bool:
		return strconv.FormatBool(bool(x)), nil
	case types.Null:
		return "null", nil
	case *types.Err:
		return "", x
	}
	g, err := toGo(v)
	if err != nil {
		return "", err
	}
	return javaFormat(g), nil
}

// javaFormat prints a converted value as Java's toString of arrays
// (Arrays.toString) and maps does.
func javaFormat(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		return javaDouble(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + javaFormat(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaFormat(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []int64, []float64, []string, []bool:
		return javaFormat(toAnySlice(x))
	}
	return fmt.Sprint(v)
}

func toAnySlice(v any) []any {
	var out []any
	switch x := v.(type) {
	case []int64:
		for _, e := range x {
			out = append(out, e)
		}
	case []float64:
		for _, e := range x {
			out = append(out, e)
		}
	case []string:
		for _, e := range x {
			out = append(out, e)
		}
	case []bool:
		for _, e := range x {
			out = append(out, e)
		}
	}
	return out
}

// javaDouble prints f as Java's Double.toString: plain with at least one
// decimal between 10^-3 and 10^7, else in computerized scientific
// notation ("1.0E7").
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e+07
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// javaLong converts an argument to a long as SEL's functions do: a
// long, or a String holding one.
func javaLong(v ref.Val) (int64, error) {
	switch x := v.(type) {
	case types.Int:
		return int64(x), nil
	case types.String:
		n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a long", string(x))
		}
		return n, nil
	case types.Double:
		return int64(x), nil
	}
	return 0, fmt.Errorf("want a long, got a %s", javaType(v))
}

// toCEL converts a Go value from a Scope to CEL.
func toCEL(v any) ref.Val {
	switch x := v.(type) {
	case int:
		return types.Int(x)
	case int32:
		return types.Int(x)
	case float32:
		return types.Double(x)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// toGo converts a CEL value to the Go values Eval returns.
func toGo(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("value %d does not fit a long", uint64(x))
		}
		return int64(x), nil
	case types.Double:
		return float64(x), nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return string(x), nil
	case *types.Err:
		return nil, x
	}
	switch x := v.(type) {
	case traits.Lister:
		switch native := x.Value().(type) {
		case []int64:
			return append([]int64{}, native...), nil
		case []string:
			return append([]string{}, native...), nil
		case []float64:
			return append([]float64{}, native...), nil
		case []bool:
			return append([]bool{}, native...), nil
		}
		n := int(x.Size().(types.Int))
		out := make([]any, n)
		for i := 0; i < n; i++ {
			e, err := toGo(x.Get(types.Int(i)))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return typedSlice(out), nil
	case traits.Mapper:
		out := map[string]any{}
		it := x.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is a %s, not a String", k, javaType(k))
			}
			e, err := toGo(x.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %s is not a param value", v.Type().TypeName())
}

// typedSlice returns a []int64, []float64, []string or []bool when every
// element has that type, else xs.
func typedSlice(xs []any) any {
	if len(xs) == 0 {
		return xs
	}
	switch xs[0].(type) {
	case int64:
		return sliceOf[int64](xs)
	case float64:
		return sliceOf[float64](xs)
	case string:
		return sliceOf[string](xs)
	case bool:
		return sliceOf[bool](xs)
	}
	return xs
}

// sliceOf is xs as a []T, or xs itself when an element is not a T.
func sliceOf[T any](xs []any) any {
	out := make([]T, len(xs))
	for i, e := range xs {
		v, ok := e.(T)
		if !ok {
			return xs
		}
		out[i] = v
	}
	return out
}

// checkJavaFormat refuses a String.format format with conversions other
// than %s, %d, %n and %%.
func checkJavaFormat(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 >= len(f) || !strings.ContainsRune("sdn%", rune(f[i+1])) {
			return fmt.Errorf("String.format %q: only %%s, %%d, %%n and %%%% are supported", f)
		}
		i++
	}
	return nil
}

// javaFormatString is String.format with %s, %d, %n and %%.
func javaFormatString(f string, args []ref.Val) (string, error) {
	if err := checkJavaFormat(f); err != nil {
		return "", err
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteByte('\n')
		case 's', 'd':
			if next >= len(args) {
				return "", fmt.Errorf("String.format %q: missing argument %d", f, next+1)
			}
			a := args[next]
			next++
			if _, ok := a.(types.Int); f[i] == 'd' && !ok {
				return "", fmt.Errorf("String.format %q: %%d of a %s", f, javaType(a))
			}
			s, err := javaString(a)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		}
	}
	return b.String(), nil
}
