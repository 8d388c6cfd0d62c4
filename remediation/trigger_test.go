package remediation_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

func TestStartJobKindMatchesEvents(t *testing.T) {
	if remediation.StartJobKind != events.RunbookJobKind {
		t.Fatalf("remediation handles %q, events enqueues %q", remediation.StartJobKind, events.RunbookJobKind)
	}
}

// TestEventRuleStartsRunbook: a rule's runbook action starts the runbook
// with parameters from the event, once per event even when the event is
// published twice.
func TestEventRuleStartsRunbook(t *testing.T) {
	s := start(t)
	s.apply(`
name: on-alert
params:
  type: object
  properties: {host: {type: string}}
  required: [host]
steps:
  - name: note
    type: noop
    output: "${{ 'alert on ' + params.host + ' from ' + trigger.event.source }}"
`)
	rule := map[string]any{"name": "alerts to runbook", "condition": `type == "gaffer.alerting.firing"`,
		"actions": []map[string]any{{"type": "runbook", "runbook": "on-alert", "params": `{"host": data.host}`}}}
	if r := s.Do("POST", "/api/v1/events/rules", s.token, rule); r.Status != 201 {
		t.Fatalf("create rule: %d %s", r.Status, r.Body)
	}
	bad := map[string]any{"name": "bad", "condition": "true", "actions": []map[string]any{{"type": "runbook"}}}
	if r := s.Do("POST", "/api/v1/events/rules", s.token, bad); r.Status != 400 || !strings.Contains(string(r.Body), "runbook") {
		t.Fatalf("rule without a runbook name: %d %s", r.Status, r.Body)
	}
	ev := `{"specversion":"1.0","id":"alert-1","source":"/alerting","type":"gaffer.alerting.firing","data":{"host":"web-7"}}`
	for i := 0; i < 2; i++ {
		if r := s.DoWith("POST", "/api/v1/events", s.token, "application/cloudevents+json", ev); r.Status >= 300 {
			t.Fatalf("publish: %d %s", r.Status, r.Body)
		}
	}
	var list struct {
		Items []remediation.Execution `json:"items"`
	}
	platformtest.Eventually(t, "the runbook started by the event succeeded", func() bool {
		s.Do("GET", "/api/v1/remediation/executions?runbook=on-alert", s.token, nil).JSON(t, &list)
		return len(list.Items) == 1 && list.Items[0].Status == "succeeded"
	})
	ex := s.exec(list.Items[0].ID)
	if got := string(step(ex, "note").Output); got != `"alert on web-7 from /alerting"` {
		t.Fatalf("output %s", got)
	}
	if ex.Trigger.Kind != "event" || !strings.Contains(string(ex.Trigger.Event), "alert-1") {
		t.Fatalf("trigger %+v", ex.Trigger)
	}
	var audit struct {
		Items []struct{ Action, Actor string } `json:"items"`
	}
	s.Do("GET", "/api/v1/audit?action=remediation.executions.start", s.token, nil).JSON(t, &audit)
	if len(audit.Items) == 0 {
		t.Fatal("the event-started run is not in the audit log")
	}
	_ = json.Marshal
}
