package failover

import (
	"context"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// TestOverviewListsRecentFailoversAndCountsByTheServiceClock stores
// executions around a fixed time years from the wall clock: the rollback
// 23 hours before it counts as ending badly in the last 24 hours and the
// failure 25 hours before does not, which holds only if the overview
// reads the service's clock.
func TestOverviewListsRecentFailoversAndCountsByTheServiceClock(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		ctx := context.Background()
		st := b.Open(t)
		if err := st.Migrate(ctx, Name, store.MustSub(migrations, "migrations")); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2031, 3, 4, 9, 30, 0, 0, time.UTC)
		insert := func(id, status, phase, exercise, errText, by string, ago time.Duration) {
			t.Helper()
			at := now.Add(-ago).UnixMilli()
			if _, err := st.ExecContext(ctx, `INSERT INTO failover_executions (id, plan_id, fleet, provider, world, simulated, status,
				phase, step, clock_start, clock_now, wall_start, lease_owner, lease_until, next_wake, error, exercise, created_by, updated_at)
				VALUES (?, 'plan-1', 'edge', 'simulator', '', 1, ?, ?, 3, ?, ?, ?, '', 0, 0, ?, ?, ?, ?)`,
				id, status, phase, at, at, at, errText, exercise, by, at); err != nil {
				t.Fatal(err)
			}
		}
		insert("e-old", ExecFailed, PhaseForward, "", "provider refused", "alice", 25*time.Hour)
		insert("e-rb", ExecRolledBack, PhaseRollback, "", "", "bob", 23*time.Hour)
		insert("e-ok", ExecSucceeded, PhaseForward, "x-1", "", "carol", 3*time.Hour)
		insert("e-run", ExecRunning, PhaseForward, "", "", "dave", 5*time.Minute)

		s := &Service{db: st, clock: func() time.Time { return now }}
		panels, err := s.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(panels) != 1 || panels[0].Section != platform.SectionChanges {
			t.Fatalf("want one panel of recent changes, got %+v", panels)
		}
		p := panels[0]
		want := []platform.Row{
			{Time: now.Add(-5 * time.Minute), Text: "fleet edge on simulator (simulated), forward step 3", Who: "dave", Status: ExecRunning, Link: "/failover/executions/e-run"},
			{Time: now.Add(-3 * time.Hour), Text: "fleet edge on simulator (exercise)", Who: "carol", Status: ExecSucceeded, Tone: platform.ToneOK, Link: "/failover/executions/e-ok"},
			{Time: now.Add(-23 * time.Hour), Text: "fleet edge on simulator (simulated)", Who: "bob", Status: ExecRolledBack, Tone: platform.ToneBad, Link: "/failover/executions/e-rb"},
			{Time: now.Add(-25 * time.Hour), Text: "fleet edge on simulator (simulated): provider refused", Who: "alice", Status: ExecFailed, Tone: platform.ToneBad, Link: "/failover/executions/e-old"},
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
		if p.Figures[0].Value != "1" || p.Figures[1].Value != "1" || p.Figures[1].Tone != platform.ToneBad {
			t.Errorf("figures: want 1 in progress and 1 ended badly in 24h, got %+v", p.Figures)
		}
	})
}
