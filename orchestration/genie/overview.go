package genie

import (
	"context"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
)

// Overview gives the on-call summary: how many jobs run, how many ended
// badly in the last hour, and the latest of those.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	now := s.now()
	var running, failedHour int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM genie_jobs WHERE status IN (?, ?, ?)`,
		genieapi.StatusClaimed, genieapi.StatusInit, genieapi.StatusRunning).Scan(&running); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM genie_jobs WHERE status IN (?, ?) AND finished_at >= ?`,
		genieapi.StatusFailed, genieapi.StatusKilled, now.Add(-time.Hour).UnixMilli()).Scan(&failedHour); err != nil {
		return nil, err
	}
	bad, _, err := s.findJobs(ctx, jobFilter{Statuses: []string{genieapi.StatusFailed, genieapi.StatusKilled}, Limit: platform.OverviewRows})
	if err != nil {
		return nil, err
	}
	p := platform.Panel{Section: platform.SectionChanges, Title: "Genie jobs", Link: "/genie/jobs",
		Figures: []platform.Figure{{Label: "running", Value: fmt.Sprint(running)}, {Label: "failed or killed in the last hour",
			Value: fmt.Sprint(failedHour)}},
		Rows: []platform.Row{}, Empty: "no failed or killed jobs"}
	if failedHour > 0 {
		p.Figures[1].Tone = platform.ToneWarn
	}
	for _, j := range bad {
		when := j.Updated
		if j.Finished != nil {
			when = *j.Finished
		}
		tone := platform.ToneBad
		if j.Status == genieapi.StatusKilled {
			tone = platform.ToneWarn
		}
		p.Rows = append(p.Rows, platform.Row{Time: when, Text: fmt.Sprintf("%s on %s: %s", j.Name, j.ClusterName, j.StatusMsg),
			Who: j.User, Status: j.Status, Tone: tone, Link: "/genie/jobs/" + j.ID})
	}
	return []platform.Panel{p}, nil
}
