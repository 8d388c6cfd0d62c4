package alerting

import (
	"encoding/json"
	"strings"
	"testing"
)

const promFile = `groups:
- name: api
  interval: 30s
  labels:
    team: core
  rules:
  - record: job:errors:rate5m
    expr: sum by (job) (rate(http_requests_total{code="500"}[5m]))
  - alert: HighErrorRate
    expr: job:errors:rate5m > 0.5
    for: 5m
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.job }} fails {{ $value | humanize }} requests a second"
  - alert: HighErrorRate
    expr: job:errors:rate5m > 0.1
    for: 15m
    keep_firing_for: 5m
    labels:
      severity: ticket
`

func TestImportPrometheus(t *testing.T) {
	rules, notes, err := ImportPrometheus([]byte(promFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || len(notes) != 1 || !strings.Contains(notes[0], "job:errors:rate5m") {
		t.Fatalf("rules %+v notes %v", rules, notes)
	}
	if rules[0].ID == rules[1].ID {
		t.Error("two rules of one name share an ID")
	}
	again, _, _ := ImportPrometheus([]byte(promFile))
	if again[0].ID != rules[0].ID {
		t.Error("IDs change between imports")
	}
	s := rules[1].Spec
	if s.Group != "api" || s.Interval.D().Seconds() != 30 || s.For.String() != "15m" || s.KeepFiringFor.String() != "5m" ||
		s.Labels["team"] != "core" || s.Labels["severity"] != "ticket" {
		t.Errorf("spec %+v", s)
	}
	for _, r := range rules {
		c, err := Compile(r.Spec)
		if err != nil {
			t.Fatalf("imported rule does not compile: %v", err)
		}
		if c.ValueExpr() != "job:errors:rate5m" {
			t.Errorf("value expression %q", c.ValueExpr())
		}
	}
	// Prometheus's own errors come through.
	_, _, err = ImportPrometheus([]byte("groups:\n- name: x\n  rules:\n  - alert: A\n    expr: sum(\n"))
	if err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("bad expression: %v", err)
	}
}

func TestCompileRejectsWithTheParsersMessage(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Name: "a", PromQL: "rate(x[5m]"}, "promql: 1:11: parse error"},
		{Spec{Name: "a", Atlas: "name,x,:eq,:nosuch"}, ":nosuch (position 11): unknown word"},
		{Spec{Name: "a"}, "promql: required"},
		{Spec{PromQL: "up"}, "name: required"},
		{Spec{Name: "a", PromQL: "up", Interval: Duration(1)}, "interval:"},
		{Spec{Name: "a", PromQL: "x > 1", Condition: &Condition{Threshold: &Threshold{Op: ">", Value: 2}}}, "already compares"},
		{Spec{Name: "a", PromQL: "x", Condition: &Condition{DES: &DESBand{Preset: "des-nope", MaxPercent: 0.1}}}, "des-nope"},
		{Spec{Name: "a", PromQL: "x", Condition: &Condition{Compare: &Compare{Offset: Duration(0), Ratio: 2}}}, "offset"},
		{Spec{Name: "a", PromQL: "x", Condition: &Condition{RollingCount: &RollingCount{N: 4, M: 3}}}, "rolling_count"},
		{Spec{Name: "a", PromQL: "x", Annotations: map[string]string{"s": "{{ .Nope"}}, "annotations.s: template"},
		{Spec{Name: "a", PromQL: "x", Labels: map[string]string{"alertname": "b"}}, "labels"},
		{Spec{Name: "a", PromQL: "x", Analysis: &AnalysisScope{}}, "analysis.candidates"},
	} {
		_, err := Compile(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%+v) = %v, want an error with %q", c.spec, err, c.want)
		}
	}
}

func TestParseRuleFile(t *testing.T) {
	one := "name: A\npromql: up == 0\nfor: 5m\n"
	list := "- name: A\n  promql: up\n- name: B\n  atlas: name,x,:eq,:sum,10,:gt\n"
	wrapped := `{"rules": [{"name": "A", "promql": "up", "condition": {"compare": {"offset": "1d", "ratio": 2}}}]}`
	for in, n := range map[string]int{one: 1, list: 2, wrapped: 1} {
		specs, err := ParseRuleFile([]byte(in))
		if err != nil || len(specs) != n {
			t.Errorf("ParseRuleFile(%q) = %d rules, %v", in, len(specs), err)
		}
	}
	if _, err := ParseRuleFile([]byte("name: A\nexpr: up\n")); err == nil || !strings.Contains(err.Error(), "expr") {
		t.Errorf("unknown field: %v", err)
	}
}

// FuzzRuleFile feeds Gaffer rule files (YAML and JSON) through parsing and
// compilation: nothing may panic, and a compiled rule's spec encodes to
// JSON that compiles again.
func FuzzRuleFile(f *testing.F) {
	f.Add([]byte("name: A\npromql: up == 0\nfor: 5m\nlabels: {severity: page}\n"))
	f.Add([]byte(`{"name":"B","atlas":"name,x,:eq,:sum","condition":{"des":{"preset":"sdes-slower","max_percent":0.2},"rolling_count":{"n":3,"m":5}}}`))
	f.Add([]byte("rules:\n- name: C\n  promql: rate(x[5m])\n  condition: {changepoint: {window: 2h, min_sigma: 4}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		specs, err := ParseRuleFile(b)
		if err != nil {
			return
		}
		for _, s := range specs {
			r, err := Compile(s)
			if err != nil {
				continue
			}
			j, err := json.Marshal(r.Spec)
			if err != nil {
				t.Fatalf("encode %+v: %v", r.Spec, err)
			}
			var back Spec
			if err := json.Unmarshal(j, &back); err != nil {
				t.Fatalf("decode %s: %v", j, err)
			}
			if _, err := Compile(back); err != nil {
				t.Fatalf("%s compiled, then not: %v", j, err)
			}
		}
	})
}

// FuzzImportPrometheus feeds Prometheus rule files through the import.
func FuzzImportPrometheus(f *testing.F) {
	f.Add([]byte(promFile))
	f.Add([]byte("groups:\n- name: x\n  rules:\n  - alert: A\n    expr: up == 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, _, err := ImportPrometheus(b)
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.ID == "" || r.Spec.Name == "" {
				t.Fatalf("imported %+v", r)
			}
		}
	})
}
