package bus

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Event is a CloudEvents 1.0 event in its JSON format. Extension attributes
// sit beside the context attributes on the wire and in Extensions here.
type Event struct {
	SpecVersion     string
	ID              string
	Source          string
	Type            string
	Subject         string
	Time            time.Time
	DataContentType string
	DataSchema      string
	// Data is the JSON value of "data" (nil when absent).
	Data json.RawMessage
	// DataBase64 is the decoded "data_base64" (nil when absent).
	DataBase64 []byte
	// Extensions are other attributes: strings, numbers or booleans.
	Extensions map[string]any
}

// FieldError is a validation error naming the attribute at fault.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

var contextAttrs = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true, "time": true,
	"datacontenttype": true, "dataschema": true, "data": true, "data_base64": true,
}

// ParseEvent decodes and validates one structured-mode CloudEvent.
func ParseEvent(b []byte) (*Event, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, &FieldError{Field: "event", Message: "not a JSON object: " + err.Error()}
	}
	if dec.More() {
		return nil, &FieldError{Field: "event", Message: "unexpected data after the JSON object"}
	}
	if raw == nil {
		return nil, &FieldError{Field: "event", Message: "not a JSON object"}
	}
	return eventFromAttrs(raw)
}

// ParseBatch decodes a batch-mode array. An invalid event fails the whole
// batch, with an error naming its index and field.
func ParseBatch(b []byte) ([]*Event, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		return nil, &FieldError{Field: "batch", Message: "not a JSON array: " + err.Error()}
	}
	out := make([]*Event, 0, len(raws))
	for i, r := range raws {
		ev, err := ParseEvent(r)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, &FieldError{Field: fmt.Sprintf("[%d].%s", i, fe.Field), Message: fe.Message}
			}
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func eventFromAttrs(raw map[string]json.RawMessage) (*Event, error) {
	ev := &Event{}
	str := func(name string, required bool) (string, error) {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			if required {
				return "", &FieldError{Field: name, Message: "required"}
			}
			return "", nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", &FieldError{Field: name, Message: "must be a string"}
		}
		if required && s == "" {
			return "", &FieldError{Field: name, Message: "must not be empty"}
		}
		return s, nil
	}
	var err error
	if ev.SpecVersion, err = str("specversion", true); err != nil {
		return nil, err
	}
	if ev.SpecVersion != "1.0" {
		return nil, &FieldError{Field: "specversion", Message: fmt.Sprintf("unsupported %q, want \"1.0\"", ev.SpecVersion)}
	}
	if ev.ID, err = str("id", true); err != nil {
		return nil, err
	}
	if ev.Source, err = str("source", true); err != nil {
		return nil, err
	}
	if _, err := url.Parse(ev.Source); err != nil {
		return nil, &FieldError{Field: "source", Message: "not a URI-reference"}
	}
	if ev.Type, err = str("type", true); err != nil {
		return nil, err
	}
	// Optional attributes, when present, must not be empty (CloudEvents
	// 1.0, 3.1).
	for _, o := range []struct {
		name string
		dst  *string
	}{{"subject", &ev.Subject}, {"datacontenttype", &ev.DataContentType}, {"dataschema", &ev.DataSchema}} {
		if *o.dst, err = str(o.name, false); err != nil {
			return nil, err
		}
		if v, ok := raw[o.name]; ok && string(v) != "null" && *o.dst == "" {
			return nil, &FieldError{Field: o.name, Message: "must not be empty when present"}
		}
	}
	if ev.DataContentType != "" {
		if _, _, err := mime.ParseMediaType(ev.DataContentType); err != nil {
			return nil, &FieldError{Field: "datacontenttype", Message: "not a media type (RFC 2046): " + err.Error()}
		}
	}
	if ev.DataSchema != "" {
		if u, err := url.Parse(ev.DataSchema); err != nil || !u.IsAbs() {
			return nil, &FieldError{Field: "dataschema", Message: "must be an absolute URI"}
		}
	}
	ts, err := str("time", false)
	if err != nil {
		return nil, err
	}
	if ts != "" {
		if ev.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return nil, &FieldError{Field: "time", Message: "must be an RFC 3339 timestamp"}
		}
	}
	data, hasData := raw["data"]
	b64, hasB64 := raw["data_base64"]
	if hasData && hasB64 {
		return nil, &FieldError{Field: "data_base64", Message: "must not be set together with data"}
	}
	if hasData && string(data) != "null" {
		ev.Data = append(json.RawMessage(nil), data...)
	}
	if hasB64 {
		var s string
		if err := json.Unmarshal(b64, &s); err != nil {
			return nil, &FieldError{Field: "data_base64", Message: "must be a base64 string"}
		}
		if ev.DataBase64, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, &FieldError{Field: "data_base64", Message: "invalid base64"}
		}
	}
	for name, v := range raw {
		if contextAttrs[name] {
			continue
		}
		if err := validExtensionName(name); err != nil {
			return nil, err
		}
		var val any
		if err := json.Unmarshal(v, &val); err != nil {
			return nil, &FieldError{Field: name, Message: "invalid JSON"}
		}
		switch v := val.(type) {
		case string, bool:
		case float64:
			// The CloudEvents type system's Integer: whole, 32-bit.
			if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
				return nil, &FieldError{Field: name, Message: "extension numbers must be integers within 32 bits"}
			}
		case nil:
			continue
		default:
			return nil, &FieldError{Field: name, Message: "extension attributes must be a string, integer or boolean"}
		}
		if ev.Extensions == nil {
			ev.Extensions = map[string]any{}
		}
		ev.Extensions[name] = val
	}
	return ev, nil
}

func validExtensionName(name string) error {
	if name == "" || len(name) > 20 {
		return &FieldError{Field: name, Message: "extension attribute names must be 1-20 characters"}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return &FieldError{Field: name, Message: "extension attribute names may contain only a-z and 0-9"}
		}
	}
	return nil
}

// Validate checks an event built in Go before it is published.
func (ev *Event) Validate() error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = ParseEvent(b)
	return err
}

// MarshalJSON encodes the event in the CloudEvents JSON format.
func (ev *Event) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	field := func(name string, v any) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(name)
		buf.Write(k)
		buf.WriteByte(':')
		if raw, ok := v.(json.RawMessage); ok {
			buf.Write(raw)
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("cloudevent attribute %s: %w", name, err)
		}
		buf.Write(b)
		return nil
	}
	specversion := ev.SpecVersion
	if specversion == "" {
		specversion = "1.0"
	}
	field("specversion", specversion)
	field("id", ev.ID)
	field("source", ev.Source)
	field("type", ev.Type)
	opt := []struct{ name, val string }{{"subject", ev.Subject}, {"datacontenttype", ev.DataContentType}, {"dataschema", ev.DataSchema}}
	for _, o := range opt {
		if o.val != "" {
			field(o.name, o.val)
		}
	}
	if !ev.Time.IsZero() {
		field("time", ev.Time.UTC().Format(time.RFC3339Nano))
	}
	if ev.Data != nil {
		if !json.Valid(ev.Data) {
			return nil, &FieldError{Field: "data", Message: "not valid JSON"}
		}
		field("data", ev.Data)
	} else if ev.DataBase64 != nil {
		field("data_base64", base64.StdEncoding.EncodeToString(ev.DataBase64))
	}
	names := make([]string, 0, len(ev.Extensions))
	for k := range ev.Extensions {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := field(k, ev.Extensions[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// NATSSubject returns the subject the event is published on: its type when
// that already starts with "gaffer.", otherwise "gaffer.ext." followed by
// the type, with characters NATS does not allow in a token replaced by "_".
func (ev *Event) NATSSubject() string {
	t := ev.Type
	prefix := SubjectPrefix
	if !strings.HasPrefix(t, SubjectPrefix) {
		prefix += "ext."
	} else {
		t = t[len(SubjectPrefix):]
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(t))
	b.WriteString(prefix)
	prevDot := true
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '.':
			if prevDot {
				b.WriteByte('_')
			}
			b.WriteByte('.')
			prevDot = true
			continue
		case c <= ' ' || c == '*' || c == '>' || c >= 0x7f:
			b.WriteByte('_')
		default:
			b.WriteByte(c)
		}
		prevDot = false
	}
	if prevDot {
		b.WriteByte('_')
	}
	return b.String()
}
