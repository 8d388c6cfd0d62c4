package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// The demo tells one story with the other systems' demos (see
// platform.Deps.DemoStart): every night at midnight UTC each service is
// deployed again (the metrics demo's counters reset then), and a quarter
// of an hour before the demo started web v2.14.0 went to us-east-1 and
// began failing a tenth of its requests. The alerting demo's WebErrors
// fires for it; the rules below page, open an incident and restart the
// service on the demo agent through the demo-restart runbook, all from
// the real alert notification (its labels at the top level of data).

// demoRunbookRule is the rule that starts a runbook: it is left out when
// the remediation system does not run in this server.
const demoRunbookRule = "Restart a failing web"

// demoRules route the alerting demo's notifications and the deploys.
// Every action succeeds in a demo (no webhook to a host that is not
// there), so the log stays quiet.
var demoRules = []RuleSpec{
	{Name: "Page the on-call", Description: "Alerts of severity page page the on-call, once per alert group every 10 minutes.",
		Condition: `type == "gaffer.alerting.firing" && data.severity == "page"`,
		Actions: []Action{
			{Type: ActionSuppress, Key: "data.groupKey", Window: "10m"},
			{Type: ActionPublish, EventType: "gaffer.pager.paged", Subject: "data.alertname",
				Data: `{"alert": data.alertname, "labels": data.commonLabels, "summary": data.commonAnnotations.summary}`}}},
	{Name: "Open incidents", Description: "Alerts of severity page or ticket open an incident, at most 3 per alert every 30 minutes.",
		Condition: `type == "gaffer.alerting.firing" && data.severity in ["page", "ticket"]`,
		Actions: []Action{
			{Type: ActionSuppress, Key: "data.alertname", Window: "30m", Limit: 3},
			{Type: ActionPublish, EventType: "gaffer.incident.opened", Subject: "data.alertname",
				Data: `{"alert": data.alertname, "severity": data.severity, "labels": data.commonLabels}`}}},
	{Name: demoRunbookRule, Description: "WebErrors for web starts demo-restart on the demo agent, once a day per alert group.",
		Condition: `type == "gaffer.alerting.firing" && data.alertname == "WebErrors" && data.job == "web"`,
		Actions: []Action{
			{Type: ActionSuppress, Key: "data.groupKey", Window: "24h"},
			{Type: ActionRunbook, Runbook: "demo-restart", Params: `{"agent": "demo-agent", "service": "demo-" + data.job}`}}},
	{Name: "Audit production deploys", Description: "Copies deploys to production into the audit stream.",
		Condition: `type.startsWith("gaffer.deploy.") && data.env == "prod"`,
		Actions:   []Action{{Type: ActionPublish, EventType: "gaffer.audit.deploy"}}},
	{Name: "Failover drills (disabled)", Description: "An example of a disabled rule.",
		Condition: `source == "/failover" && data.drill == true`, Enabled: new(bool),
		Actions: []Action{{Type: ActionWebhook, URL: "https://hooks.example.com/drills"}}},
}

var (
	demoApps    = []string{"api", "web", "playback", "search"}
	demoRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}
)

// demoBadDeploy is how long before the demo's start the bad deploy
// finished (the metrics demo's incident begins a minute later).
const demoBadDeploy = 16 * time.Minute

// demoDeploys are the story's deploy events for a demo started at start:
// the last three nights' deploys of every service to every region, then
// the bad deploy of web to us-east-1, none after start. Their IDs derive
// from what they describe.
func demoDeploys(start time.Time) []*bus.Event {
	var out []*bus.Event
	deploy := func(app, region, version string, at time.Time, took time.Duration) {
		for i, typ := range []string{"gaffer.deploy.started", "gaffer.deploy.finished"} {
			t := at.Add(time.Duration(i) * took)
			if t.After(start) {
				continue // tonight's round, in a demo started just after midnight
			}
			data, _ := json.Marshal(map[string]any{"app": app, "env": "prod", "region": region, "version": version, "synthetic": true})
			out = append(out, &bus.Event{ID: fmt.Sprintf("demo-%s-%s-%s-%s", typ[len("gaffer.deploy."):], app, region, version),
				Source: "/demo/spinnaker/" + app, Type: typ, Subject: app, Time: t.UTC(), Data: data})
		}
	}
	midnight := start.UTC().Truncate(24 * time.Hour)
	for night := 2; night >= 0; night-- {
		at := midnight.Add(-time.Duration(night) * 24 * time.Hour)
		for i, app := range demoApps {
			for j, region := range demoRegions {
				version := fmt.Sprintf("v2.%d.0", 13-night)
				deploy(app, region, version, at.Add(time.Duration(i*3+j)*time.Second), 40*time.Second)
			}
		}
	}
	deploy("web", "us-east-1", "v2.14.0", start.Add(-demoBadDeploy-2*time.Minute), 2*time.Minute)
	return out
}

// retiredDemoRules are rules earlier demos created that this one does
// not: one posted to a port nothing listens on, one waited for an alert
// no demo rule raises.
var retiredDemoRules = []string{"Page on critical alerts", "Runbook for full disks"}

// LoadDemo implements platform.DemoLoader: it brings the demo rules up to
// date (the runbook rule only when the remediation system runs) and, once
// per database, publishes the deploys of the story. A demo rule someone
// changed is left as it is, and so is a retired one.
func (s *Service) LoadDemo(ctx context.Context) error {
	for _, name := range retiredDemoRules {
		r, err := s.rules.byName(ctx, name)
		if errors.Is(err, ErrRuleNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if r.UpdatedBy == "demo" {
			if err := s.rules.delete(ctx, r.ID); err != nil {
				return fmt.Errorf("events: retire demo rule %q: %w", name, err)
			}
			s.rulesChanged(ctx)
		}
	}
	for _, spec := range demoRules {
		if spec.Name == demoRunbookRule && s.checkKind(RunbookJobKind) != nil {
			continue
		}
		r, err := s.rules.byName(ctx, spec.Name)
		switch {
		case errors.Is(err, ErrRuleNotFound):
			_, err = s.CreateRule(ctx, spec, "demo")
		case err == nil && r.UpdatedBy == "demo" && r.Condition != spec.Condition:
			_, err = s.UpdateRule(ctx, r.ID, spec, "demo")
		}
		if err != nil {
			return fmt.Errorf("events: demo rule %q: %w", spec.Name, err)
		}
	}
	start, err := s.demoStart()
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	res, err := s.db.ExecContext(ctx, "UPDATE event_installation SET demo_loaded_at = ? WHERE demo_loaded_at IS NULL",
		s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("events: mark demo loaded: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // history already there
	}
	for _, ev := range demoDeploys(start) {
		if _, err := s.bus.Publish(ctx, ev); err != nil {
			return fmt.Errorf("events: demo deploys: %w", err)
		}
	}
	return nil
}
