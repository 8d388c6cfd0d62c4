package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// Redrive runs a dead-lettered action again, as it was when it failed (the
// action is kept with the dead letter; later edits of the rule do not
// apply). A webhook gets a fresh set of attempts as a job and the dead
// letter shows "redriving" until they end; a publish or job action runs at
// once. It returns the updated dead letter.
func (s *Service) Redrive(ctx context.Context, id int64) (*DeadLetter, error) {
	dl, err := s.deadletter.get(ctx, id)
	if err != nil {
		return nil, apiError(err)
	}
	switch dl.Status {
	case DeadLetterRedriving:
		return nil, httpapi.Conflict("dead letter %d is being re-driven already (job %d)", id, deref(dl.JobID))
	case DeadLetterDelivered:
		return nil, httpapi.Conflict("dead letter %d was delivered by an earlier re-drive", id)
	}
	a, err := compileAction("action", dl.Action, nil)
	if err != nil {
		return nil, httpapi.Conflict("dead letter %d: its action no longer compiles: %v", id, err)
	}
	a.index = dl.ActionIndex
	ev, err := bus.ParseEvent(dl.Event)
	if err != nil {
		return nil, fmt.Errorf("events: dead letter %d holds an invalid event: %w", id, err)
	}
	rule := &Rule{ID: dl.RuleID, Name: dl.RuleName}
	if a.Type == ActionWebhook {
		jobID, err := s.enqueueWebhookJob(ctx, webhookArgs{RuleID: dl.RuleID, RuleName: dl.RuleName, Action: dl.ActionIndex,
			URL: a.URL, TimeoutMS: a.timeout.Milliseconds(), BackoffMS: a.backoff.Milliseconds(), Attempts: a.attempts,
			Event: dl.Event, DeadLetter: id, Redrive: dl.Redrives + 1})
		if err != nil {
			return nil, err
		}
		if err := s.deadletter.update(ctx, id, deadLetterChange{status: DeadLetterRedriving, redrive: true, jobID: &jobID}); err != nil {
			return nil, err
		}
		return s.deadletter.get(ctx, id)
	}
	var act activation
	act.reset(ev, dl.CreatedAt)
	runErr := s.runOnce(ctx, rule, a, &act)
	change := deadLetterChange{status: DeadLetterDelivered, attempts: 1, redrive: true}
	if runErr != nil {
		change.status, change.err = DeadLetterDead, runErr.Error()
	}
	if err := s.deadletter.update(ctx, id, change); err != nil {
		return nil, err
	}
	if runErr != nil {
		return nil, httpapi.Errorf(422, "redrive_failed", "dead letter %d: %v", id, runErr)
	}
	return s.deadletter.get(ctx, id)
}

// runOnce runs a publish or job action for a re-drive, returning any
// failure instead of dead-lettering it again.
func (s *Service) runOnce(ctx context.Context, rule *Rule, a *compiledAction, act *activation) error {
	switch a.Type {
	case ActionPublish:
		out, err := derive(rule, a, act)
		if err != nil {
			return err
		}
		_, err = s.bus.Publish(ctx, out)
		return err
	case ActionJob:
		args, _, err := jobArgs(rule, a, act)
		if err != nil {
			return err
		}
		if err := s.checkKind(a.Kind); err != nil {
			return err
		}
		_, err = s.jobs.Enqueue(ctx, a.Kind, args, &jobs.EnqueueOptions{Tags: []string{rule.ID}})
		return err
	}
	return errors.New("a " + a.Type + " action cannot be re-driven")
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
