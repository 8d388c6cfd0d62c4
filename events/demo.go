package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// demoRules route the demo's alert and deploy events. The pager webhook
// points at a port nothing listens on, so that the dead-letter page has
// something to show.
var demoRules = []RuleSpec{
	{Name: "Page on critical alerts", Description: "Critical alerts page the on-call, once per alert and service every 10 minutes.",
		Condition: `type == "gaffer.alerting.firing" && data.severity == "critical"`,
		Actions: []Action{
			{Type: ActionSuppress, Key: `data.alertname + "/" + data.service`, Window: "10m"},
			{Type: ActionWebhook, URL: "http://127.0.0.1:9/pager", MaxAttempts: 2, Backoff: "2s", Timeout: "1s"}}},
	{Name: "Open incidents", Description: "Critical and warning alerts open an incident event, at most 3 per service per 30 minutes.",
		Condition: `type == "gaffer.alerting.firing" && data.severity in ["critical", "warning"]`,
		Actions: []Action{
			{Type: ActionSuppress, Key: "data.service", Window: "30m", Limit: 3},
			{Type: ActionPublish, EventType: "gaffer.incident.opened", Subject: "data.service",
				Data: `{"service": data.service, "alert": data.alertname, "region": data.region, "severity": data.severity}`}}},
	{Name: "Runbook for full disks", Description: "Enqueues a job for DiskFull alerts (platform.noop stands in for a runbook).",
		Condition: `type == "gaffer.alerting.firing" && data.alertname == "DiskFull"`,
		Actions:   []Action{{Type: ActionJob, Kind: "platform.noop", Args: `{"runbook": "clean-disk", "host": data.host}`}}},
	{Name: "Audit production deploys", Description: "Copies deploys to production into the audit stream.",
		Condition: `type.startsWith("gaffer.deploy.") && data.env == "prod"`,
		Actions:   []Action{{Type: ActionPublish, EventType: "gaffer.audit.deploy"}}},
	{Name: "Failover drills (disabled)", Description: "An example of a disabled rule.",
		Condition: `source == "/failover" && data.drill == true`, Enabled: new(bool),
		Actions: []Action{{Type: ActionWebhook, URL: "https://hooks.example.com/drills"}}},
}

var (
	demoServices = []string{"api", "checkout", "search", "playback", "billing"}
	demoRegions  = []string{"us-east-1", "us-west-2", "eu-west-1"}
	demoAlerts   = []struct{ name, severity string }{{"HighErrorRate", "critical"}, {"HighLatency", "warning"},
		{"DiskFull", "critical"}, {"PodRestarts", "info"}, {"SaturatedCPU", "warning"}}
)

// demoEvent makes one realistic event at time at.
func demoEvent(rng *rand.Rand, at time.Time) *bus.Event {
	svc, region := demoServices[rng.IntN(len(demoServices))], demoRegions[rng.IntN(len(demoRegions))]
	var typ, source string
	var data map[string]any
	switch n := rng.IntN(10); {
	case n < 6:
		alert := demoAlerts[rng.IntN(len(demoAlerts))]
		typ, source = "gaffer.alerting.firing", "/alerting/"+region
		if n == 5 {
			typ = "gaffer.alerting.resolved"
		}
		data = map[string]any{"alertname": alert.name, "severity": alert.severity, "service": svc, "region": region,
			"value": float64(rng.IntN(1000)) / 10, "host": fmt.Sprintf("%s-%d.%s", svc, rng.IntN(40), region)}
	case n < 9:
		typ, source = "gaffer.deploy.finished", "/spinnaker/"+svc
		if n == 6 {
			typ = "gaffer.deploy.started"
		}
		env := "prod"
		if rng.IntN(3) == 0 {
			env = "staging"
		}
		data = map[string]any{"app": svc, "env": env, "version": fmt.Sprintf("v1.%d.%d", rng.IntN(30), rng.IntN(10)),
			"region": region}
	default:
		typ, source = "gaffer.failover.evacuation.started", "/failover"
		data = map[string]any{"region": region, "drill": rng.IntN(2) == 0, "traffic_percent": 100}
	}
	b, _ := json.Marshal(data)
	return &bus.Event{ID: bus.NewEventID(), Source: source, Type: typ, Subject: svc, Time: at.UTC(), Data: b}
}

// LoadDemo implements platform.DemoLoader: it creates the demo rules that
// do not exist yet and, once per database, two hours of history.
func (s *Service) LoadDemo(ctx context.Context) error {
	for _, spec := range demoRules {
		if _, err := s.rules.byName(ctx, spec.Name); err == nil {
			continue
		} else if !errors.Is(err, ErrRuleNotFound) {
			return err
		}
		if _, err := s.CreateRule(ctx, spec, "demo"); err != nil {
			return fmt.Errorf("events: demo rule %q: %w", spec.Name, err)
		}
	}
	res, err := s.db.ExecContext(ctx, "UPDATE event_installation SET demo_loaded_at = ? WHERE demo_loaded_at IS NULL",
		time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("events: mark demo loaded: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // history already there
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42))
	now := time.Now()
	for i := 0; i < 150; i++ {
		at := now.Add(-2 * time.Hour).Add(time.Duration(i) * 48 * time.Second)
		if _, err := s.bus.Publish(ctx, demoEvent(rng, at)); err != nil {
			return fmt.Errorf("events: demo history: %w", err)
		}
	}
	return nil
}

// demoStream publishes an event every few seconds while the demo runs.
func (s *Service) demoStream() {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(time.Duration(2+rng.IntN(6)) * time.Second):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.bus.Publish(ctx, demoEvent(rng, time.Now())); err != nil {
			s.log.Warn("demo event", "error", err)
		}
		cancel()
	}
}
