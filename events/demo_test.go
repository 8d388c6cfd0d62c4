package events_test

import (
	"os"
	"testing"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestDemoRetiresOldRules: a data directory an earlier demo filled keeps
// rules that no longer fit (one posted to a dead port every minute). The
// demo deletes the retired ones and brings its own up to date, unless
// someone changed them.
func TestDemoRetiresOldRules(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	srv := platformtest.Start(t, platformtest.Options{DataDir: dir})
	svc, _ := srv.Deps().Lookup(events.Name)
	ev := svc.(*events.Service)
	old := []events.RuleSpec{
		{Name: "Page on critical alerts", Condition: `type == "gaffer.alerting.firing" && data.severity == "critical"`,
			Actions: []events.Action{{Type: events.ActionWebhook, URL: "http://127.0.0.1:9/pager"}}},
		{Name: "Open incidents", Condition: `type == "gaffer.alerting.firing" && data.severity == "critical"`,
			Actions: []events.Action{{Type: events.ActionPublish, EventType: "gaffer.incident.opened"}}},
		{Name: "Runbook for full disks", Condition: `data.alertname == "DiskFull"`,
			Actions: []events.Action{{Type: events.ActionPublish, EventType: "gaffer.x"}}},
	}
	for _, spec := range old {
		if _, err := ev.CreateRule(t.Context(), spec, "demo"); err != nil {
			t.Fatal(err)
		}
	}
	// Someone adapted the disk rule: it stays.
	old[2].Description = "ours now"
	if _, err := ev.UpdateRule(t.Context(), old[2].Name, old[2], "alice"); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()

	srv = platformtest.Start(t, platformtest.Options{DataDir: dir, Demo: true})
	var rules httpapi.Page[events.Rule]
	must(t, srv.Do("GET", "/api/v1/events/rules", srv.AdminToken, nil), 200).JSON(t, &rules)
	byName := map[string]events.Rule{}
	for _, r := range rules.Items {
		byName[r.Name] = r
	}
	if _, ok := byName["Page on critical alerts"]; ok {
		t.Error("the rule posting to a dead port is still there")
	}
	if _, ok := byName["Runbook for full disks"]; !ok {
		t.Error("a retired rule someone changed was deleted")
	}
	if r := byName["Open incidents"]; r.Condition == old[1].Condition {
		t.Errorf("Open incidents kept the old condition %s", r.Condition)
	}
	if _, ok := byName["Page the on-call"]; !ok {
		t.Error("no Page the on-call rule")
	}
}
