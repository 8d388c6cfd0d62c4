package jobs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"
)

type periodicJob struct {
	kind     string
	args     json.RawMessage
	schedule river.PeriodicSchedule
	onStart  bool
}

// Every runs a job of kind at a fixed interval (in exactly one process of
// the cluster: River's elected leader schedules periodic jobs). It must be
// called before Start.
func (q *Queue) Every(kind string, interval time.Duration, args any, runOnStart bool) error {
	return q.addPeriodic(kind, river.PeriodicInterval(interval), args, runOnStart)
}

// Cron runs a job of kind on a standard five-field cron schedule (or a
// descriptor such as "@hourly"). It must be called before Start.
func (q *Queue) Cron(kind, spec string, args any) error {
	sched, err := ParseCron(spec)
	if err != nil {
		return err
	}
	return q.addPeriodic(kind, sched, args, false)
}

// ParseCron checks a cron specification and returns its schedule.
func ParseCron(spec string) (river.PeriodicSchedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cron schedule %q: %w", spec, err)
	}
	return s, nil
}

func (q *Queue) addPeriodic(kind string, sched river.PeriodicSchedule, args any, onStart bool) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("jobs: periodic %s arguments: %w", kind, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.kinds[kind]; !ok {
		return fmt.Errorf("jobs: periodic job of unknown kind %q", kind)
	}
	if q.client != nil {
		return fmt.Errorf("jobs: periodic %s added after Start", kind)
	}
	q.periodic = append(q.periodic, periodicJob{kind: kind, args: raw, schedule: sched, onStart: onStart})
	return nil
}

func (q *Queue) riverPeriodicJobs() []*river.PeriodicJob {
	out := make([]*river.PeriodicJob, 0, len(q.periodic))
	for _, p := range q.periodic {
		p := p
		ko := q.kinds[p.kind]
		out = append(out, river.NewPeriodicJob(p.schedule, func() (river.JobArgs, *river.InsertOpts) {
			return rawArgs{kind: p.kind, raw: p.args}, &river.InsertOpts{Queue: ko.Queue, MaxAttempts: ko.MaxAttempts}
		}, &river.PeriodicJobOpts{RunOnStart: p.onStart, ID: p.kind}))
	}
	return out
}
