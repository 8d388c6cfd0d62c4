package events_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestRulesAPI(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ts := start(t, b, "")
		rc := newReceiver(t)
		r := ts.createRule(map[string]any{"name": "critical alerts",
			"condition": `type == "gaffer.alerting.firing" && data.severity == "critical"`,
			"actions":   []map[string]any{{"type": "webhook", "url": rc.URL}}})
		if !r.Enabled || r.Version != 1 || !strings.HasPrefix(r.ID, "rule_") {
			t.Fatalf("created %+v", r)
		}
		if r.Index != `evaluated when data.severity == "critical"` && r.Index != `evaluated when type == "gaffer.alerting.firing"` {
			t.Fatalf("index: %s", r.Index)
		}
		// Names are unique.
		dup := ts.do("POST", "/api/v1/events/rules", map[string]any{"name": "critical alerts", "condition": "true",
			"actions": []map[string]any{{"type": "webhook", "url": rc.URL}}})
		if dup.Status != http.StatusConflict {
			t.Fatalf("duplicate name: %d %s", dup.Status, dup.Body)
		}
		// Get by ID and by name.
		must(t, ts.do("GET", "/api/v1/events/rules/"+r.ID, nil), http.StatusOK)
		must(t, ts.do("GET", "/api/v1/events/rules/critical%20alerts", nil), http.StatusOK)
		must(t, ts.do("GET", "/api/v1/events/rules/nope", nil), http.StatusNotFound)

		// Update replaces; enabled is kept unless given.
		var up events.Rule
		must(t, ts.do("PUT", "/api/v1/events/rules/"+r.ID, map[string]any{"name": "critical alerts",
			"condition": `type == "gaffer.alerting.firing" && data.severity in ["critical", "page"]`,
			"actions":   []map[string]any{{"type": "webhook", "url": rc.URL, "max_attempts": 3}}}), http.StatusOK).JSON(t, &up)
		if up.Version != 2 || !up.Enabled || up.Actions[0].MaxAttempts != 3 {
			t.Fatalf("updated %+v", up)
		}
		var dis events.Rule
		must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/disable", nil), http.StatusOK).JSON(t, &dis)
		if dis.Enabled {
			t.Fatal("still enabled")
		}
		must(t, ts.do("POST", "/api/v1/events/rules/"+r.ID+"/enable", nil), http.StatusOK)
		var page httpapi.Page[events.Rule]
		must(t, ts.do("GET", "/api/v1/events/rules", nil), http.StatusOK).JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].Version != 4 || page.Items[0].Stats == nil {
			t.Fatalf("list %+v", page.Items)
		}
		must(t, ts.do("DELETE", "/api/v1/events/rules/"+r.ID, nil), http.StatusNoContent)
		must(t, ts.do("DELETE", "/api/v1/events/rules/"+r.ID, nil), http.StatusNotFound)
		// Every change is in the audit log.
		entries, _, err := ts.Deps().Audit.List(t.Context(), auditFilter("events.rules"))
		if err != nil || len(entries) < 5 {
			t.Fatalf("audit: %d entries, %v", len(entries), err)
		}
	})
}

func TestRuleValidation(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	hook := []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:9/x"}}
	for _, c := range []struct {
		spec map[string]any
		want string
	}{
		{map[string]any{"name": "a", "condition": `type ==`, "actions": hook}, "condition: ERROR: <input>:1:"},
		{map[string]any{"name": "a", "condition": `typo == "x"`, "actions": hook}, "undeclared reference to 'typo'"},
		{map[string]any{"name": "a", "condition": `type`, "actions": hook}, "must evaluate to bool"},
		{map[string]any{"name": "", "condition": `true`, "actions": hook}, "name: required"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{}}, "at least one action"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "email"}}}, "actions[0].type"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "webhook", "url": "ftp://x"}}}, "actions[0].url"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "webhook", "url": "http://u:p@x/"}}}, "credentials"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "webhook", "url": "http://x/", "kind": "k"}}}, "actions[0].kind: does not apply"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "webhook", "url": "http://x/", "timeout": "forever"}}}, "actions[0].timeout"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "job", "kind": "no.such.kind"}}}, `no job kind "no.such.kind"`},
		// Registered, but a system's own: a rule's author has events:write only.
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "job", "kind": "platform.session_cleanup"}}}, `does not take jobs from rules`},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "job", "kind": "platform.noop", "args": `"x"`}}}, "must evaluate to a map"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "publish"}}}, "actions[0].event_type: required"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "publish", "event_type": "x", "data": "data."}}}, "actions[0].data"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "suppress"}}}, "actions[0].window: required"},
		{map[string]any{"name": "a", "condition": `true`, "actions": []map[string]any{{"type": "suppress", "window": "1m", "limit": -1}}}, "actions[0].limit"},
		{map[string]any{"name": "a", "condition": `true`, "actions": hook, "extra": 1}, "extra: unknown field"},
	} {
		resp := ts.do("POST", "/api/v1/events/rules", c.spec)
		if resp.Status != http.StatusBadRequest || !strings.Contains(errorMessage(t, resp), c.want) {
			t.Errorf("%v: %d %s, want 400 naming %q", c.spec, resp.Status, resp.Body, c.want)
		}
	}
	// The editor's check: CEL's own message, and how the index files it.
	var v events.ValidateResult
	must(t, ts.do("POST", "/api/v1/events/rules/validate", map[string]any{"condition": `data.x ==`}), 200).JSON(t, &v)
	if v.Valid || v.Field != "condition" || !strings.Contains(v.Message, "Syntax error") {
		t.Fatalf("validate bad: %+v", v)
	}
	must(t, ts.do("POST", "/api/v1/events/rules/validate", map[string]any{"condition": `source == "/a" && data.n > 1`}), 200).JSON(t, &v)
	if !v.Valid || v.Index != `evaluated when source == "/a"` {
		t.Fatalf("validate good: %+v", v)
	}
}
