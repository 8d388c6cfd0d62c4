package remediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// StartJobKind is the job an events rule's runbook action enqueues (the
// events system's RunbookJobKind).
const StartJobKind = "remediation.start"

// cronKind is the periodic job that starts scheduled runs.
const cronKind = "remediation.cron"

// StartJob are the arguments of StartJobKind.
type StartJob struct {
	Runbook string          `json:"runbook"`
	Env     string          `json:"env,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Event   *struct {
		ID      string          `json:"id"`
		Source  string          `json:"source"`
		Type    string          `json:"type"`
		Subject string          `json:"subject,omitempty"`
		Time    string          `json:"time,omitempty"`
		Data    json.RawMessage `json:"data,omitempty"`
	} `json:"event,omitempty"`
	Rule string `json:"rule_id,omitempty"`
}

func (s *Service) registerTriggers() {
	jobs.HandleFunc(s.jobs, StartJobKind, jobs.KindOptions{MaxAttempts: 10, Timeout: time.Minute, FromRules: true,
		Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Second }},
		func(ctx context.Context, job *jobs.Job, a StartJob) error { return s.startFromJob(ctx, a) })
	jobs.HandleFunc(s.jobs, cronKind, jobs.KindOptions{MaxAttempts: 1, Timeout: time.Minute},
		func(ctx context.Context, _ *jobs.Job, _ struct{}) error { return s.runSchedules(ctx, s.deps.Clock()()) })
	if err := s.jobs.Every(cronKind, 15*time.Second, struct{}{}, true); err != nil {
		s.log.Error("schedule runbook cron", "error", err)
	}
}

// startFromJob starts a runbook for an event rule. A redelivered event
// starts it once: the event's source and ID key the execution.
func (s *Service) startFromJob(ctx context.Context, a StartJob) error {
	req := StartRequest{Runbook: a.Runbook, Env: a.Env, Params: a.Params, Trigger: Trigger{Kind: "event", By: "events", Rule: a.Rule}}
	if a.Event != nil {
		ev, _ := json.Marshal(a.Event)
		req.Trigger.Event = ev
		req.Trigger.By = "event:" + a.Event.Type
		req.Key = fmt.Sprintf("event:%s/%s:%s", a.Event.Source, a.Event.ID, a.Runbook)
	}
	ex, dup, err := s.engine.start(ctx, req)
	if err != nil {
		if errors.Is(err, ErrNotFound) || isParamsError(err) {
			return jobs.Cancel(err) // no retry can fix it
		}
		return err
	}
	if !dup {
		s.auditRecord(ctx, req.Trigger.By, "remediation.executions.start", "execution:"+ex.ID, "runbook="+a.Runbook)
	}
	return nil
}

func isParamsError(err error) bool {
	var pe *ParamsError
	return errors.As(err, &pe)
}

func (s *Service) auditRecord(ctx context.Context, actor, action, target, detail string) {
	if s.audit == nil {
		return
	}
	if err := s.audit.Record(ctx, audit.Entry{Time: s.now().UTC(), Actor: actor, Action: action, Target: target,
		Outcome: "success", Status: 200, Detail: detail}); err != nil {
		s.log.Warn("audit", "action", action, "error", err)
	}
}

// runSchedules starts the scheduled runs that fell due since the last
// look (at most one per runbook per look, so a long outage does not start
// a backlog). The cron time keys each run, so it starts once.
func (s *Service) runSchedules(ctx context.Context, now time.Time) error {
	list, err := s.runbooks.list(ctx)
	if err != nil {
		return err
	}
	for _, ri := range list {
		if ri.Schedule == "" {
			continue
		}
		c, _, env, err := s.runbooks.resolve(ctx, ri.Name, "", 0)
		if err != nil || c.Schedule == nil || c.schedule == nil {
			continue
		}
		var last int64
		s.db.QueryRowContext(ctx, `SELECT COALESCE(schedule_last, 0) FROM remediation_runbooks WHERE name = ?`, ri.Name).Scan(&last)
		from := now.Add(-time.Minute)
		if last > 0 && time.UnixMilli(last).After(from) {
			from = time.UnixMilli(last)
		}
		due := c.schedule.Next(from)
		if due.After(now) {
			continue
		}
		req := StartRequest{Runbook: ri.Name, Env: env, Params: c.Schedule.Params, Trigger: Trigger{Kind: "cron", By: "cron"},
			Key: fmt.Sprintf("cron:%s:%d", ri.Name, due.Unix())}
		if ex, dup, err := s.engine.start(ctx, req); err != nil {
			s.log.Warn("scheduled run", "runbook", ri.Name, "error", err)
		} else if !dup {
			s.auditRecord(ctx, "cron", "remediation.executions.start", "execution:"+ex.ID, "runbook="+ri.Name)
		}
		s.db.ExecContext(ctx, `UPDATE remediation_runbooks SET schedule_last = ? WHERE name = ?`, due.UnixMilli(), ri.Name)
	}
	return nil
}
