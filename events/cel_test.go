package events

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCostLimit(t *testing.T) {
	items := "[" + strings.Repeat("1,", 199) + "1]"
	ev := testEvent("t", "/s", `{"a":`+items+`}`)
	cheap := mustRule(t, "cheap", `data.a.size() > 3`)
	costly := mustRule(t, "costly", `data.a.all(x, data.a.all(y, data.a.all(z, x == y)))`)
	m := newMatcher([]*compiledRule{cheap, costly})
	got := matchNames(m, ev)
	if strings.Join(got, ",") != "cheap" {
		t.Fatalf("matched %v", got)
	}
	// The cost or, on a slow machine, the time limit stops it first.
	if st := costly.stats.snapshot(); st.EvalErrors != 1 || st.BudgetExceeded != 1 ||
		!strings.Contains(st.LastEvalError, "limit of") {
		t.Fatalf("costly rule: %+v", costly.stats.snapshot())
	}
	long := `type == "` + strings.Repeat("x", MaxExpressionLength) + `"`
	if _, err := compileExpression("condition", long, nil); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("long expression: %v", err)
	}
}

func TestTransformJSON(t *testing.T) {
	ev := testEvent("t", "/s", `{"svc":"api","labels":{"team":"sre"},"n":2}`)
	ev.Extensions = map[string]any{"region": "eu"}
	var act activation
	act.reset(ev, time.Now())
	for expr, want := range map[string]string{
		`{"service": data.svc, "count": 3, "ratio": 0.5, "ok": true, "none": null}`: `{"count":3,"none":null,"ok":true,"ratio":0.5,"service":"api"}`,
		`{"labels": data.labels, "region": ext.region}`:                             `{"labels":{"team":"sre"},"region":"eu"}`,
		`{"when": timestamp("2026-01-02T03:04:05Z"), "for": duration("90s")}`:       `{"for":"1m30s","when":"2026-01-02T03:04:05Z"}`,
		`[b"hi", data.?missing, data.?svc]`:                                         `["aGk=",null,"api"]`,
		`data`:                                                                      `{"svc":"api","labels":{"team":"sre"},"n":2}`,
		`data.n * 2.0`:                                                              `4`,
	} {
		e, err := compileExpression("data", expr, nil)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		got, err := evalJSON(e, &act)
		if err != nil || string(got) != want {
			t.Errorf("%s = %s, %v; want %s", expr, got, err, want)
		}
	}
	for expr, want := range map[string]string{
		`{1: "x"}`:          "map keys must be strings",
		`0.0 / 0.0`:         "no JSON form",
		`data.missing`:      "no such key",
		`type(data) == map`: "",
	} {
		e, err := compileExpression("data", expr, nil)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		_, err = evalJSON(e, &act)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", expr, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", expr, err, want)
		}
	}
}

func TestDeriveAndLoopGuard(t *testing.T) {
	cr, err := compileRule(&Rule{ID: "rule_1", Name: "r", Condition: "true", Actions: []Action{{Type: ActionPublish,
		EventType: "gaffer.incident.opened", Subject: "data.svc", Data: `{"svc": data.svc}`}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent("gaffer.alerting.firing", "/a", `{"svc":"api"}`)
	ev.Extensions = map[string]any{"traceid": "abc"}
	var act activation
	act.reset(ev, time.Now())
	out, err := derive(cr.rule, cr.actions[0], &act)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := derive(cr.rule, cr.actions[0], &act)
	if out.ID != again.ID || out.Subject != "api" || string(out.Data) != `{"svc":"api"}` || out.Source != "/gaffer/events/rules/rule_1" ||
		out.Extensions["traceid"] != "abc" || out.Extensions[HopsExtension] != float64(1) {
		t.Fatalf("derived %+v", out)
	}
	looped := *ev
	looped.Extensions = map[string]any{HopsExtension: float64(MaxHops)}
	act.reset(&looped, time.Now())
	if _, err := derive(cr.rule, cr.actions[0], &act); err == nil || !strings.Contains(err.Error(), "loop guard") {
		t.Fatalf("loop guard: %v", err)
	}
}

func TestRunbookActionKeepsItsForm(t *testing.T) {
	cr, err := compileRule(&Rule{ID: "rule_1", Name: "r", Condition: "true", Actions: []Action{{Type: ActionRunbook,
		Runbook: "restart", Params: `{"host": data.host}`}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := cr.actions[0]
	if a.Type != ActionJob || a.Kind != RunbookJobKind || a.written.Type != ActionRunbook {
		t.Fatalf("compiled %+v", a)
	}
	ev := testEvent("t", "/s", `{"host":"web-1"}`)
	dl, err := newDeadLetter(cr.rule, a, ev, 1, errTest)
	if err != nil || dl.Action.Type != ActionRunbook || dl.Action.Runbook != "restart" {
		t.Fatalf("dead letter keeps %+v, %v", dl.Action, err)
	}
	var act activation
	act.reset(ev, time.Now())
	args, _, err := jobArgs(cr.rule, a, &act)
	if err != nil || !strings.Contains(string(args), `"runbook":"restart"`) || !strings.Contains(string(args), `"host":"web-1"`) {
		t.Fatalf("job arguments %s, %v", args, err)
	}
}

var errTest = errors.New("test failure")
