package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// celToJSON encodes the result of a transform as JSON: maps with string
// keys become objects, lists arrays, bytes base64 strings, timestamps
// RFC 3339 strings and durations strings such as "1.5s". Data taken from
// the event unchanged is copied as it was written.
func celToJSON(v ref.Val) ([]byte, error) {
	return appendJSON(nil, v, 0)
}

func appendJSON(b []byte, v ref.Val, depth int) ([]byte, error) {
	if depth > 100 {
		return nil, fmt.Errorf("value nested more than 100 deep")
	}
	switch x := v.(type) {
	case *jsonObject:
		return append(b, x.raw...), nil
	case *jsonArray:
		return append(b, x.raw...), nil
	case types.String:
		q, _ := json.Marshal(string(x))
		return append(b, q...), nil
	case types.Bool:
		return strconv.AppendBool(b, bool(x)), nil
	case types.Int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case types.Uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%v has no JSON form", f)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case types.Null:
		return append(b, "null"...), nil
	case types.Bytes:
		q, _ := json.Marshal(base64.StdEncoding.EncodeToString(x))
		return append(b, q...), nil
	case types.Timestamp:
		q, _ := json.Marshal(x.Time.UTC().Format(time.RFC3339Nano))
		return append(b, q...), nil
	case types.Duration:
		q, _ := json.Marshal(x.Duration.String())
		return append(b, q...), nil
	case *types.Optional:
		if !x.HasValue() {
			return append(b, "null"...), nil
		}
		return appendJSON(b, x.GetValue(), depth+1)
	case *types.Err:
		return nil, x
	case traits.Mapper:
		return appendObject(b, x, depth)
	case traits.Lister:
		b = append(b, '[')
		n := int(x.Size().(types.Int))
		for i := 0; i < n; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, x.Get(types.Int(i)), depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return nil, fmt.Errorf("a %s value has no JSON form", v.Type().TypeName())
}

func appendObject(b []byte, m traits.Mapper, depth int) ([]byte, error) {
	var keys []string
	for it := m.Iterator(); it.HasNext() == types.True; {
		k, ok := it.Next().(types.String)
		if !ok {
			return nil, fmt.Errorf("map keys must be strings to become JSON")
		}
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		q, _ := json.Marshal(k)
		b = append(append(b, q...), ':')
		var err error
		if b, err = appendJSON(b, m.Get(types.String(k)), depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// evalJSON evaluates a transform for the event in act and encodes it.
func evalJSON(e *Expression, act *activation) ([]byte, error) {
	out, err := e.prg.Eval(context.Background(), act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Source, err)
	}
	b, err := celToJSON(out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Source, err)
	}
	return b, nil
}

// evalString evaluates an expression that yields a string; other results
// are written as JSON.
func evalString(e *Expression, act *activation) (string, error) {
	out, err := e.prg.Eval(context.Background(), act)
	if err != nil {
		return "", fmt.Errorf("%s: %w", e.Source, err)
	}
	if s, ok := out.(types.String); ok {
		return string(s), nil
	}
	b, err := celToJSON(out)
	if err != nil {
		return "", fmt.Errorf("%s: %w", e.Source, err)
	}
	return string(b), nil
}
