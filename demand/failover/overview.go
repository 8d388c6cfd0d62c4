package failover

import (
	"context"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Overview reports the latest failovers and exercises — when each
// started, who started it, where it stands or how it ended, a link to
// it — and how many are in progress and ended badly in the last 24 hours.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	now := s.now()
	recent, _, err := s.Executions(ctx, "", 0, platform.OverviewRows)
	if err != nil {
		return nil, err
	}
	counts, err := s.executionCounts(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	p := platform.Panel{Section: platform.SectionChanges, Title: "Failovers and exercises", Link: "/failover/executions",
		Empty: "no failover has run", Rows: make([]platform.Row, 0, len(recent))}
	for _, ex := range recent {
		p.Rows = append(p.Rows, platform.Row{Time: ex.WallStart, Text: failoverText(ex), Who: ex.CreatedBy,
			Status: ex.Status, Tone: failoverTone(ex.Status), Link: "/failover/executions/" + ex.ID})
	}
	inProgress := counts[ExecRunning] + counts[ExecRollingBack] + counts[ExecPaused]
	bad := counts[ExecFailed] + counts[ExecAborted] + counts[ExecRolledBack]
	badTone := platform.ToneOK
	if bad > 0 {
		badTone = platform.ToneBad
	}
	active := platform.Tone("")
	if inProgress > 0 {
		active = platform.ToneWarn
	}
	p.Figures = []platform.Figure{
		{Label: "in progress", Value: fmt.Sprint(inProgress), Tone: active},
		{Label: "failed, aborted or rolled back in 24h", Value: fmt.Sprint(bad), Tone: badTone},
	}
	return []platform.Panel{p}, nil
}

// executionCounts counts executions by status: those in progress
// whenever they started, the others only from since on.
func (s *Service) executionCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	counts, err := store.CountBy(ctx, s.db, `SELECT status, COUNT(*) FROM failover_executions
		WHERE status IN (?, ?, ?) OR wall_start >= ? GROUP BY status`,
		ExecRunning, ExecRollingBack, ExecPaused, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("executions: %w", err)
	}
	return counts, nil
}

// failoverText says what an execution moves and how: its fleet, its
// provider, whether it is an exercise, the step it is at while it runs
// and its error once it failed.
func failoverText(ex *Execution) string {
	text := "fleet " + ex.Fleet + " on " + ex.Provider
	if ex.Exercise != "" {
		text += " (exercise)"
	} else if ex.Simulated {
		text += " (simulated)"
	}
	if active(ex.Status) || ex.Status == ExecPaused {
		text += fmt.Sprintf(", %s step %d", ex.Phase, ex.Step)
	}
	if ex.Error != "" {
		text += ": " + ex.Error
	}
	return text
}

// failoverTone colours an execution's status.
func failoverTone(status string) platform.Tone {
	switch status {
	case ExecSucceeded:
		return platform.ToneOK
	case ExecFailed, ExecAborted, ExecRolledBack:
		return platform.ToneBad
	case ExecRollingBack, ExecPaused:
		return platform.ToneWarn
	}
	return ""
}
