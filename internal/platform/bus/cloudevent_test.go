package bus

import (
	"errors"
	"strings"
	"testing"
)

func TestParseEventErrorsNameTheField(t *testing.T) {
	cases := []struct{ in, field string }{
		{`{"id":"1","source":"/s","type":"t"}`, "specversion"},
		{`{"specversion":"0.3","id":"1","source":"/s","type":"t"}`, "specversion"},
		{`{"specversion":"1.0","source":"/s","type":"t"}`, "id"},
		{`{"specversion":"1.0","id":"","source":"/s","type":"t"}`, "id"},
		{`{"specversion":"1.0","id":"1","type":"t"}`, "source"},
		{`{"specversion":"1.0","id":"1","source":"/s"}`, "type"},
		{`{"specversion":"1.0","id":1,"source":"/s","type":"t"}`, "id"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"}`, "time"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}`, "data_base64"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","Bad-Name":"x"}`, "Bad-Name"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":{"a":1}}`, "ext"},
		{`[1]`, "event"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":""}`, "subject"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"not a type"}`, "datacontenttype"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","dataschema":""}`, "dataschema"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","hops":1.5}`, "hops"},
		{`{"specversion":"1.0","id":"1","source":"/s","type":"t","hops":3000000000}`, "hops"},
	}
	for _, c := range cases {
		_, err := ParseEvent([]byte(c.in))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("ParseEvent(%s) = %v, want an error naming %q", c.in, err, c.field)
		}
	}
}

func TestBatchErrorNamesIndex(t *testing.T) {
	_, err := ParseBatch([]byte(`[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"1.0","id":"2","source":"/s"}]`))
	if err == nil || !strings.Contains(err.Error(), "[1].type") {
		t.Fatalf("err = %v, want it to name [1].type", err)
	}
}

func TestRoundTripAndSubject(t *testing.T) {
	in := `{"specversion":"1.0","id":"a","source":"https://x/y","type":"com.example.order created","subject":"o1","time":"2026-01-02T03:04:05.5Z","data":{"k":[1,2]},"traceid":"abc","hops":2}`
	ev, err := ParseEvent([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseEvent(out)
	if err != nil {
		t.Fatalf("re-parse %s: %v", out, err)
	}
	if again.Subject != "o1" || string(again.Data) != `{"k":[1,2]}` || again.Extensions["traceid"] != "abc" || !again.Time.Equal(ev.Time) {
		t.Fatalf("round trip lost data: %s", out)
	}
	if got := ev.NATSSubject(); got != "gaffer.ext.com.example.order_created" {
		t.Fatalf("subject = %q", got)
	}
	for typ, want := range map[string]string{"gaffer.alerting.firing": "gaffer.alerting.firing", "a..b.": "gaffer.ext.a._.b._", "x.*.>": "gaffer.ext.x._._"} {
		if got := (&Event{Type: typ}).NATSSubject(); got != want {
			t.Errorf("NATSSubject(%q) = %q, want %q", typ, got, want)
		}
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"/s","type":"t","data":{"x":1}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"/s","type":"t","data_base64":"AAE="}`))
	f.Add([]byte(`[{"specversion":"1.0"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b)
		if err != nil {
			return
		}
		out, err := ev.MarshalJSON()
		if err != nil {
			t.Fatalf("valid event does not marshal: %v", err)
		}
		if _, err := ParseEvent(out); err != nil {
			t.Fatalf("marshalled event does not parse: %v\n%s", err, out)
		}
		if s := ev.NATSSubject(); strings.ContainsAny(s, " *>") || strings.Contains(s, "..") || strings.HasSuffix(s, ".") {
			t.Fatalf("invalid subject %q", s)
		}
	})
}
