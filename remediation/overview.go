package remediation

import (
	"context"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Overview reports the latest runbook executions — when each started,
// who or what started it, how it ended, a link to it — and how many runs
// wait for an operator, run now, and failed in the last 24 hours.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	now := s.now()
	recent, _, err := listExecs(ctx, s.db, ExecFilter{Limit: platform.OverviewRows})
	if err != nil {
		return nil, err
	}
	counts, err := execCounts(ctx, s.db, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	p := platform.Panel{Section: platform.SectionChanges, Title: "Runbook runs", Link: "/remediation/executions",
		Empty: "no runbook has run", Rows: make([]platform.Row, 0, len(recent))}
	for _, ex := range recent {
		p.Rows = append(p.Rows, platform.Row{Time: ex.CreatedAt, Text: execText(ex), Who: ex.StartedBy,
			Status: ex.Status, Tone: execTone(ex.Status), Link: "/remediation/executions/" + ex.ID})
	}
	waiting := platform.Tone("")
	if counts[ExecWaiting] > 0 {
		waiting = platform.ToneWarn
	}
	failed := platform.ToneOK
	if counts[ExecFailed] > 0 {
		failed = platform.ToneBad
	}
	p.Figures = []platform.Figure{
		{Label: "waiting for an operator", Value: fmt.Sprint(counts[ExecWaiting]), Tone: waiting},
		{Label: "running", Value: fmt.Sprint(counts[ExecRunning] + counts[ExecPaused])},
		{Label: "failed in 24h", Value: fmt.Sprint(counts[ExecFailed]), Tone: failed},
	}
	return []platform.Panel{p}, nil
}

// execCounts counts executions by status: those not finished whenever
// they started, the finished ones only from since on.
func execCounts(ctx context.Context, q querier, since time.Time) (map[string]int, error) {
	counts, err := store.CountBy(ctx, q, `SELECT status, COUNT(*) FROM remediation_executions
		WHERE status IN (?, ?, ?) OR created_at >= ? GROUP BY status`,
		ExecRunning, ExecPaused, ExecWaiting, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("executions: %w", err)
	}
	return counts, nil
}

// execText names an execution: its runbook, environment, and what
// started it when that was not a person.
func execText(ex Execution) string {
	text := fmt.Sprintf("%s v%d", ex.Runbook, ex.Version)
	if ex.Env != "" {
		text += " in " + ex.Env
	}
	switch {
	case ex.Trigger.Kind == "event" && ex.Trigger.Rule != "":
		text += " (event rule " + ex.Trigger.Rule + ")"
	case ex.Trigger.Kind != "" && ex.Trigger.Kind != "manual":
		text += " (" + ex.Trigger.Kind + ")"
	}
	if ex.Attention != "" {
		text += ": " + ex.Attention
	} else if ex.Error != "" {
		text += ": " + truncate(ex.Error, 120)
	}
	return text
}

// execTone colours an execution's status.
func execTone(status string) platform.Tone {
	switch status {
	case ExecSucceeded:
		return platform.ToneOK
	case ExecFailed:
		return platform.ToneBad
	case ExecWaiting:
		return platform.ToneWarn
	}
	return ""
}
