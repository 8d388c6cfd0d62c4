package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

func TestRunbookActionBuildsStartJob(t *testing.T) {
	r := &Rule{ID: "r1", Name: "alerts", Condition: `type == "gaffer.alerting.firing"`,
		Actions: []Action{{Type: ActionRunbook, Runbook: "collect-diagnostics", Env: "prod", Params: `{"role": data.labels.role}`}}}
	cr, err := compileRule(r, func(kind string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	a := cr.actions[0]
	if a.Type != ActionJob || a.Kind != RunbookJobKind || r.Actions[0].Type != ActionRunbook {
		t.Fatalf("compiled %s/%s; the rule shows %s", a.Type, a.Kind, r.Actions[0].Type)
	}
	ev := &bus.Event{SpecVersion: "1.0", ID: "e1", Source: "/alerting", Type: "gaffer.alerting.firing", Time: time.Now(),
		Data: json.RawMessage(`{"labels": {"role": "web"}}`)}
	var act activation
	act.reset(ev, time.Now())
	args, _, err := jobArgs(r, a, &act)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Runbook, Env string
		Params       map[string]string
		Event        struct{ ID, Source string }
	}
	json.Unmarshal(args, &got)
	if got.Runbook != "collect-diagnostics" || got.Env != "prod" || got.Params["role"] != "web" || got.Event.ID != "e1" {
		t.Fatalf("args %s", args)
	}

	for _, bad := range []Action{
		{Type: ActionRunbook},
		{Type: ActionRunbook, Runbook: "x", Env: "staging"},
		{Type: ActionRunbook, Runbook: "x", Params: `"not a map"`},
		{Type: ActionRunbook, Runbook: "x", URL: "http://example.com"},
	} {
		_, err := compileRule(&Rule{Name: "bad", Condition: "true", Actions: []Action{bad}}, nil)
		if err == nil || !strings.Contains(err.Error(), "actions[0]") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := compileRule(r, func(string) error { return errors.New("no job kind remediation.start") }); err == nil ||
		!strings.Contains(err.Error(), "remediation") {
		t.Errorf("without the remediation system: %v", err)
	}
}
