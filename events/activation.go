package events

import (
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// activation resolves the variables of an expression for one event. It
// converts an attribute to a CEL value only when an expression asks for
// it, and keeps the value for the other rules evaluated against the same
// event. It is not safe for concurrent use; reset it between events.
type activation struct {
	ev       *bus.Event
	received time.Time
	cache    [numVars]ref.Val
}

// Indexes into activation.cache.
const (
	varSpecVersion = iota
	varID
	varSource
	varType
	varSubject
	varDataContentType
	varDataSchema
	varTime
	varData
	varExt
	numVars
)

var _ interpreter.Activation = (*activation)(nil)

// reset points the activation at another event. received is the time the
// stream stored it, used for an event without a time attribute.
func (a *activation) reset(ev *bus.Event, received time.Time) {
	a.ev, a.received = ev, received
	a.cache = [numVars]ref.Val{}
}

func varIndex(name string) int {
	switch name {
	case "specversion":
		return varSpecVersion
	case "id":
		return varID
	case "source":
		return varSource
	case "type":
		return varType
	case "subject":
		return varSubject
	case "datacontenttype":
		return varDataContentType
	case "dataschema":
		return varDataSchema
	case "time":
		return varTime
	case "data":
		return varData
	case "ext":
		return varExt
	}
	return -1
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	i := varIndex(name)
	if i < 0 {
		return nil, false
	}
	if v := a.cache[i]; v != nil {
		return v, true
	}
	v := a.value(i)
	a.cache[i] = v
	return v, true
}

func (a *activation) value(i int) ref.Val {
	ev := a.ev
	switch i {
	case varTime:
		t := ev.Time
		if t.IsZero() {
			t = a.received
		}
		return types.Timestamp{Time: t.UTC()}
	case varData:
		return dataValue(ev)
	case varExt:
		if ev.Extensions == nil {
			return types.DefaultTypeAdapter.NativeToValue(map[string]any{})
		}
		return types.DefaultTypeAdapter.NativeToValue(ev.Extensions)
	}
	return types.String(contextString(ev, i))
}

// contextString returns the string context attribute with variable index
// i (varSpecVersion to varDataSchema).
func contextString(ev *bus.Event, i int) string {
	switch i {
	case varSpecVersion:
		return ev.SpecVersion
	case varID:
		return ev.ID
	case varSource:
		return ev.Source
	case varType:
		return ev.Type
	case varSubject:
		return ev.Subject
	case varDataContentType:
		return ev.DataContentType
	case varDataSchema:
		return ev.DataSchema
	}
	return ""
}

// data returns the CEL value of the event's data, converting it once.
func (a *activation) data() ref.Val {
	v, _ := a.ResolveName("data")
	return v.(ref.Val)
}

// dataValue is the CEL value of an event's data.
func dataValue(ev *bus.Event) ref.Val {
	switch {
	case ev.Data != nil:
		return jsonToVal(string(ev.Data))
	case ev.DataBase64 != nil:
		return types.Bytes(ev.DataBase64)
	}
	return types.NullValue
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }
