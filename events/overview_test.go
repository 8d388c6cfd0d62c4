package events

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// TestOverviewShowsDeploysAndTheEventRate stores events around a fixed
// time years from the wall clock: only the events within five minutes
// before it count towards the rate, which holds only if the overview
// reads the service's clock.
func TestOverviewShowsDeploysAndTheEventRate(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ctx := context.Background()
		st := b.Open(t)
		if err := st.Migrate(ctx, Name, store.MustSub(migrations, "migrations")); err != nil {
			t.Fatal(err)
		}
		events := bustest.Embedded(t)
		now := time.Date(2031, 3, 4, 9, 30, 0, 0, time.UTC)
		publish := func(typ, source string, ago time.Duration, data map[string]any) {
			t.Helper()
			raw, _ := json.Marshal(data)
			ev := &bus.Event{Type: typ, Source: source, Subject: "subject-of-" + source, Time: now.Add(-ago), Data: raw}
			ack, err := events.Publish(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			row := indexRow{seq: ack.Sequence, id: ev.ID, source: ev.Source, typ: ev.Type, subject: ev.Subject, time: ev.Time, received: now}
			if err := writeIndex(ctx, st, []indexRow{row}); err != nil {
				t.Fatal(err)
			}
		}
		publish("gaffer.deploy.started", "/spinnaker/api", 2*time.Hour, map[string]any{"app": "api", "version": "v7", "region": "eu-west-1", "env": "prod", "user": "alice"})
		publish("gaffer.deploy.finished", "/spinnaker/api", 110*time.Minute, map[string]any{"app": "api", "version": "v7", "region": "eu-west-1", "env": "prod", "user": "alice"})
		publish("gaffer.deploy.finished", "/ci/web", 4*time.Minute, map[string]any{"service": "web", "status": "failed"})
		publish("gaffer.alerting.firing", "/gaffer/alerting", 3*time.Minute, map[string]any{"alertname": "ApiLatencyHigh"})
		publish("gaffer.alerting.firing", "/gaffer/alerting", 6*time.Minute, map[string]any{"alertname": "DiskFull"})
		if _, err := st.ExecContext(ctx, `INSERT INTO event_deadletters (status, rule_id, rule_name, action_index, action, event,
			event_id, event_type, event_source, attempts, error, created_at, updated_at, redrives)
			VALUES (?, 'r1', 'page', 0, '{}', '{}', 'e1', 't', 's', 3, 'refused', 0, 0, 0)`, DeadLetterDead); err != nil {
			t.Fatal(err)
		}

		s := &Service{db: st, bus: events, now: func() time.Time { return now }, deadletter: &deadLetters{db: st}}
		panels, err := s.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(panels) != 2 || panels[0].Section != platform.SectionChanges || panels[1].Section != platform.SectionRates {
			t.Fatalf("want a changes panel and a rates panel, got %+v", panels)
		}
		want := []platform.Row{
			{Time: now.Add(-4 * time.Minute), Text: "web", Status: "failed", Tone: platform.ToneBad,
				Link: "/events?type=gaffer.deploy.finished&source=%2Fci%2Fweb"},
			{Time: now.Add(-110 * time.Minute), Text: "api v7 to eu-west-1 (prod)", Who: "alice", Status: "finished", Tone: platform.ToneOK,
				Link: "/events?type=gaffer.deploy.finished&source=%2Fspinnaker%2Fapi"},
			{Time: now.Add(-2 * time.Hour), Text: "api v7 to eu-west-1 (prod)", Who: "alice", Status: "started",
				Link: "/events?type=gaffer.deploy.started&source=%2Fspinnaker%2Fapi"},
		}
		rows := panels[0].Rows
		if len(rows) != len(want) {
			t.Fatalf("deploy rows: got %+v", rows)
		}
		for i := range want {
			if got := rows[i]; !got.Time.Equal(want[i].Time) || got.Text != want[i].Text || got.Who != want[i].Who ||
				got.Status != want[i].Status || got.Tone != want[i].Tone || got.Link != want[i].Link {
				t.Errorf("row %d: got %+v, want %+v", i, got, want[i])
			}
		}
		figures := map[string]string{}
		for _, f := range panels[1].Figures {
			figures[f.Label] = f.Value
		}
		// Two events (the failed deploy, the firing alert) in 300 s.
		if figures["events in the last 5 min"] != "2" || figures["events published (last 5 min)"] != "0.01/s" || figures["dead letters"] != "1" {
			t.Errorf("rate figures: %+v", panels[1].Figures)
		}
	})
}
