package remediation

import (
	"context"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// TestOverviewListsRecentRunsAndCountsByTheServiceClock stores
// executions around a fixed time years from the wall clock: the failed
// run 23 hours before it counts as failed in the last 24 hours and the
// one 25 hours before does not, which holds only if the overview reads
// the service's clock.
func TestOverviewListsRecentRunsAndCountsByTheServiceClock(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ctx := context.Background()
		st := b.Open(t)
		if err := st.Migrate(ctx, Name, store.MustSub(migrations, "migrations")); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2031, 3, 4, 9, 30, 0, 0, time.UTC)
		insert := func(id, runbook, status, trigger, by string, ago time.Duration) {
			t.Helper()
			at := now.Add(-ago).UnixMilli()
			if _, err := st.ExecContext(ctx, `INSERT INTO remediation_executions (id, runbook, version, env, status, params, vars,
				trigger_info, started_by, attention, error, failed, created_at, updated_at, deadline)
				VALUES (?, ?, 3, 'prod', ?, '{}', '{}', ?, ?, '', '', 0, ?, ?, ?)`,
				id, runbook, status, trigger, by, at, at, at+3600_000); err != nil {
				t.Fatal(err)
			}
		}
		insert("x-old", "restart-api", ExecFailed, `{"kind":"manual"}`, "alice", 25*time.Hour)
		insert("x-fail", "restart-api", ExecFailed, `{"kind":"manual"}`, "alice", 23*time.Hour)
		insert("x-wait", "drain-host", ExecWaiting, `{"kind":"event","rule":"disk-full"}`, "events", 2*time.Hour)
		insert("x-ok", "restart-api", ExecSucceeded, `{"kind":"cron"}`, "scheduler", 10*time.Minute)
		insert("x-run", "rotate-logs", ExecRunning, `{"kind":"manual"}`, "bob", time.Minute)

		s := &Service{db: st, now: func() time.Time { return now }}
		panels, err := s.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(panels) != 1 || panels[0].Section != platform.SectionChanges {
			t.Fatalf("want one panel of recent changes, got %+v", panels)
		}
		p := panels[0]
		want := []platform.Row{
			{Time: now.Add(-time.Minute), Text: "rotate-logs v3 in prod", Who: "bob", Status: ExecRunning, Link: "/remediation/executions/x-run"},
			{Time: now.Add(-10 * time.Minute), Text: "restart-api v3 in prod (cron)", Who: "scheduler", Status: ExecSucceeded, Tone: platform.ToneOK, Link: "/remediation/executions/x-ok"},
			{Time: now.Add(-2 * time.Hour), Text: "drain-host v3 in prod (event rule disk-full)", Who: "events", Status: ExecWaiting, Tone: platform.ToneWarn, Link: "/remediation/executions/x-wait"},
			{Time: now.Add(-23 * time.Hour), Text: "restart-api v3 in prod", Who: "alice", Status: ExecFailed, Tone: platform.ToneBad, Link: "/remediation/executions/x-fail"},
			{Time: now.Add(-25 * time.Hour), Text: "restart-api v3 in prod", Who: "alice", Status: ExecFailed, Tone: platform.ToneBad, Link: "/remediation/executions/x-old"},
		}
		if len(p.Rows) != len(want) {
			t.Fatalf("rows: got %+v", p.Rows)
		}
		for i := range want {
			if got := p.Rows[i]; !got.Time.Equal(want[i].Time) || got.Text != want[i].Text || got.Who != want[i].Who ||
				got.Status != want[i].Status || got.Tone != want[i].Tone || got.Link != want[i].Link {
				t.Errorf("row %d: got %+v, want %+v", i, got, want[i])
			}
		}
		figures := map[string]string{}
		for _, f := range p.Figures {
			figures[f.Label] = f.Value
		}
		if figures["waiting for an operator"] != "1" || figures["running"] != "1" || figures["failed in 24h"] != "1" {
			t.Errorf("figures: %+v", p.Figures)
		}
	})
}
