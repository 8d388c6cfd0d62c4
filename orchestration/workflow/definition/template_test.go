package definition

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const greetTemplate = `{"id": "greet", "step": {"type": "http", "timeout": "5m",
  "params": {"say": {"value": "hello", "type": "STRING"}, "to": {"value": "world", "type": "STRING"}}}}`

// TestResolveTemplates: a template step takes its template's type,
// params and policies under its own id and transition, its own params
// and policies winning; the result reads back as a plain step.
func TestResolveTemplates(t *testing.T) {
	tmpl, err := ParseTemplate("t.json", []byte(greetTemplate), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse("w.json", []byte(`{"workflow": {"id": "w", "steps": [
	  {"template": {"id": "a", "sub_type": "greet", "timeout": "1m", "params": {"say": {"value": "hi", "type": "STRING"}},
	    "transition": {"successors": {"b": "true"}}}},
	  {"step": {"id": "b", "type": "NoOp"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	err = ResolveTemplates(d, "w.json", func(name string) (*StepTemplate, int, error) {
		if name != "greet" {
			return nil, 0, errors.New("no such template")
		}
		return tmpl, 3, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a := d.Workflow.Steps[0]
	if a.Kind != KindStep || a.Type != "http" || a.Template != "greet@3" || a.Timeout != "1m" ||
		a.Params["say"].Value != "hi" || a.Params["to"].Value != "world" || a.Transition.Order[0] != "b" {
		t.Errorf("resolved %+v", a)
	}
	if err := Check(d, CheckOptions{}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d)
	again, err := Parse("again.json", b)
	if err != nil || again.Workflow.Steps[0].Template != "greet@3" {
		t.Fatalf("read back: %v %+v", err, again)
	}
	for src, want := range map[string]string{
		`{"id": "bad id", "step": {"type": "NoOp"}}`:                     "id",
		`{"id": "x", "step": {"params": {}}}`:                            "step.type",
		`{"id": "x"}`:                                                    "step",
		`{"id": "x", "step": {"type": "NoOp", "timeout": "soon"}}`:       "timeout",
		`{"id": "x", "step": {"type": "NoOp", "transition": "nowhere"}}`: "step",
	} {
		if _, err := ParseTemplate("t.json", []byte(src), nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming %s", src, err, want)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	f.Add([]byte(greetTemplate))
	f.Add([]byte("id: t\nstep: {type: NoOp}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := ParseTemplate("fuzz", data, nil)
		if err != nil {
			return
		}
		if tmpl.Step.Type == "" || tmpl.ID == "" {
			t.Fatalf("accepted a template without an id or type: %+v", tmpl)
		}
	})
}
