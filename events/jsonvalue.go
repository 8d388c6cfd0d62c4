package events

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// An event's data is handed to CEL without decoding it: jsonObject and
// jsonArray find members in the raw JSON when an expression selects them
// (data.severity), convert only those, and keep them for the next rule
// evaluated against the same event. They decode the whole value only for
// the rare operations that need it (equality of whole objects, iteration,
// conversion). Most conditions touch one or two fields of small objects,
// so this saves the allocations of a full decode for every event.
//
// Numbers are doubles, as in CEL's own JSON mapping (google.protobuf.Value).
// When an object repeats a key, the last one wins, as with encoding/json.

// jsonToVal converts the raw text of one JSON value to CEL.
func jsonToVal(raw string) ref.Val {
	raw = strings.Trim(raw, " \t\r\n")
	if raw == "" {
		return types.NullValue
	}
	switch raw[0] {
	case '"':
		return types.String(unquote(raw))
	case '{':
		return &jsonObject{raw: raw}
	case '[':
		return &jsonArray{raw: raw}
	case 't':
		return types.True
	case 'f':
		return types.False
	case 'n':
		return types.NullValue
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return types.NewErr("data: invalid JSON number %q", raw)
	}
	return types.Double(f)
}

// materialize decodes raw JSON into a CEL value built from Go values.
func materialize(raw string) ref.Val {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return types.NewErr("data: invalid JSON: %v", err)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

type jsonObject struct {
	raw     string
	scanned bool
	fields  []jsonField
	vals    []ref.Val
	inline  [8]jsonField
	mat     ref.Val
}

var _ traits.Mapper = (*jsonObject)(nil)

func (o *jsonObject) scan() {
	if !o.scanned {
		o.scanned = true
		o.fields = scanObject(o.raw, o.inline[:0])
	}
}

// field returns the position of the last member named key, or -1.
func (o *jsonObject) field(key string) int {
	o.scan()
	for i := len(o.fields) - 1; i >= 0; i-- {
		if o.fields[i].key == key {
			return i
		}
	}
	return -1
}

// member returns the raw text of member key.
func (o *jsonObject) member(key string) (string, bool) {
	i := o.field(key)
	if i < 0 {
		return "", false
	}
	return o.fields[i].raw, true
}

func (o *jsonObject) full() ref.Val {
	if o.mat == nil {
		o.mat = materialize(o.raw)
	}
	return o.mat
}

func (o *jsonObject) ConvertToNative(t reflect.Type) (any, error) { return o.full().ConvertToNative(t) }
func (o *jsonObject) ConvertToType(t ref.Type) ref.Val            { return o.full().ConvertToType(t) }
func (o *jsonObject) Equal(other ref.Val) ref.Val                 { return o.full().Equal(other) }
func (o *jsonObject) Type() ref.Type                              { return types.MapType }
func (o *jsonObject) Value() any                                  { return o.full().Value() }

func (o *jsonObject) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		if types.IsUnknownOrError(key) {
			return key, false
		}
		return nil, false
	}
	i := o.field(string(k))
	if i < 0 {
		return nil, false
	}
	if o.vals == nil {
		o.vals = make([]ref.Val, len(o.fields))
	}
	if o.vals[i] == nil {
		o.vals[i] = jsonToVal(o.fields[i].raw)
	}
	return o.vals[i], true
}

func (o *jsonObject) Get(key ref.Val) ref.Val {
	v, found := o.Find(key)
	if !found {
		return types.ValOrErr(v, "no such key: %v", key)
	}
	return v
}

func (o *jsonObject) Contains(key ref.Val) ref.Val {
	v, found := o.Find(key)
	if !found && v != nil {
		return v
	}
	return types.Bool(found)
}

func (o *jsonObject) Iterator() traits.Iterator {
	if m, ok := o.full().(traits.Mapper); ok {
		return m.Iterator()
	}
	return emptyIterator()
}

func (o *jsonObject) Size() ref.Val {
	if m, ok := o.full().(traits.Sizer); ok {
		return m.Size()
	}
	return o.full()
}

type jsonArray struct {
	raw     string
	scanned bool
	elems   []string
	mat     ref.Val
}

var _ traits.Lister = (*jsonArray)(nil)

func (a *jsonArray) scan() {
	if !a.scanned {
		a.scanned = true
		a.elems = scanArray(a.raw, nil)
	}
}

func (a *jsonArray) full() ref.Val {
	if a.mat == nil {
		a.mat = materialize(a.raw)
	}
	return a.mat
}

func (a *jsonArray) lister() (traits.Lister, ref.Val) {
	l, ok := a.full().(traits.Lister)
	if !ok {
		return nil, a.full()
	}
	return l, nil
}

func (a *jsonArray) ConvertToNative(t reflect.Type) (any, error) { return a.full().ConvertToNative(t) }
func (a *jsonArray) ConvertToType(t ref.Type) ref.Val            { return a.full().ConvertToType(t) }
func (a *jsonArray) Equal(other ref.Val) ref.Val                 { return a.full().Equal(other) }
func (a *jsonArray) Type() ref.Type                              { return types.ListType }
func (a *jsonArray) Value() any                                  { return a.full().Value() }

func (a *jsonArray) Get(index ref.Val) ref.Val {
	i, errVal := listIndex(index)
	if errVal != nil {
		return errVal
	}
	a.scan()
	if i < 0 || i >= len(a.elems) {
		return types.NewErr("index out of range: %d", i)
	}
	return jsonToVal(a.elems[i])
}

func (a *jsonArray) Add(other ref.Val) ref.Val {
	l, errVal := a.lister()
	if errVal != nil {
		return errVal
	}
	return l.Add(other)
}

func (a *jsonArray) Contains(v ref.Val) ref.Val {
	l, errVal := a.lister()
	if errVal != nil {
		return errVal
	}
	return l.Contains(v)
}

func (a *jsonArray) Iterator() traits.Iterator {
	l, errVal := a.lister()
	if errVal != nil {
		return emptyIterator()
	}
	return l.Iterator()
}

func (a *jsonArray) Size() ref.Val {
	a.scan()
	return types.Int(len(a.elems))
}

func emptyIterator() traits.Iterator {
	return types.NewRefValList(types.DefaultTypeAdapter, nil).Iterator()
}

// listIndex converts a CEL list index (an int, or a uint or double holding
// a whole number) to an int.
func listIndex(v ref.Val) (int, ref.Val) {
	switch x := v.(type) {
	case types.Int:
		return int(x), nil
	case types.Uint:
		return int(x), nil
	case types.Double:
		if float64(x) == float64(int64(x)) {
			return int(x), nil
		}
		return 0, types.NewErr("unsupported index value %v in list", x)
	}
	return 0, types.MaybeNoSuchOverloadErr(v)
}
