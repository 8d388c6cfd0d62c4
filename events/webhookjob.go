package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// Job kinds of the events system.
const (
	// WebhookJob retries a webhook delivery.
	WebhookJob = "events.webhook"
	// MaintenanceJob trims the event index and expired suppression state.
	MaintenanceJob = "events.maintenance"
)

// webhookArgs are the arguments of a WebhookJob: everything needed to
// deliver, so that a retry does not depend on the rule still existing
// unchanged.
type webhookArgs struct {
	RuleID    string          `json:"rule_id"`
	RuleName  string          `json:"rule_name"`
	Action    int             `json:"action"`
	URL       string          `json:"url"`
	TimeoutMS int64           `json:"timeout_ms"`
	BackoffMS int64           `json:"backoff_ms"`
	Attempts  int             `json:"attempts"`
	Prior     int             `json:"prior"`
	Event     json.RawMessage `json:"event"`
	// DeadLetter and Redrive identify a re-drive.
	DeadLetter int64 `json:"dead_letter,omitempty"`
	Redrive    int   `json:"redrive,omitempty"`
}

func (s *Service) registerJobs() {
	jobs.HandleFunc(s.jobs, WebhookJob, jobs.KindOptions{
		Queue:      "events",
		Timeout:    maxTimeout + 5*time.Second,
		RetryDelay: webhookRetryDelay,
	}, s.runWebhookJob)
	s.jobs.Handle(MaintenanceJob, s.runMaintenance, jobs.KindOptions{MaxAttempts: 3, Timeout: 5 * time.Minute})
	if err := s.jobs.Every(MaintenanceJob, time.Minute, struct{}{}, false); err != nil {
		s.log.Error("schedule event maintenance", "error", err)
	}
}

// enqueueWebhook hands the remaining attempts of a delivery to the job
// queue. A redelivered event enqueues the same arguments again, which the
// queue recognises as a duplicate.
func (s *Service) enqueueWebhook(ctx context.Context, args webhookArgs) error {
	_, err := s.enqueueWebhookJob(ctx, args)
	return err
}

func (s *Service) enqueueWebhookJob(ctx context.Context, args webhookArgs) (int64, error) {
	opts := &jobs.EnqueueOptions{
		MaxAttempts:  args.Attempts - args.Prior,
		UniqueByArgs: true,
		UniquePeriod: 24 * time.Hour,
		Tags:         []string{args.RuleID},
	}
	if args.Prior > 0 {
		// After a failed first attempt, the next waits the backoff.
		opts.At = time.Now().Add(time.Duration(args.BackoffMS) * time.Millisecond)
	}
	res, err := s.jobs.Enqueue(ctx, WebhookJob, args, opts)
	if err != nil {
		return 0, err
	}
	return res.ID, nil
}

// webhookRetryDelay is the wait before the failed attempt's successor:
// attempt n+1 waits the action's backoff times 2^(n-1), up to 10 minutes,
// plus up to 10% jitter so that a recovering target is not hit by a wave.
func webhookRetryDelay(job *jobs.Job) time.Duration {
	var args webhookArgs
	if err := json.Unmarshal(job.Args, &args); err != nil {
		return time.Minute
	}
	attempt := args.Prior + job.Attempt
	d := time.Duration(args.BackoffMS) * time.Millisecond
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// runWebhookJob makes one delivery attempt. When it fails for good (no
// attempts left, or a permanent answer) it dead-letters the delivery and
// cancels the job, so that the failure is recorded once, with the event.
func (s *Service) runWebhookJob(ctx context.Context, job *jobs.Job, args webhookArgs) error {
	attempt := args.Prior + job.Attempt
	timeout := time.Duration(args.TimeoutMS) * time.Millisecond
	cause := deliver(ctx, s.client, args.URL, timeout, args.Event, args.RuleID, attempt)
	if cause == nil {
		s.breaker.succeeded(args.URL)
		if args.DeadLetter != 0 {
			return s.deadletter.update(ctx, args.DeadLetter, deadLetterChange{status: DeadLetterDelivered, attempts: job.Attempt})
		}
		return nil
	}
	if !isPermanent(cause) && job.Attempt < job.MaxAttempts {
		return cause
	}
	if err := s.webhookDeadLetter(ctx, job, args, cause); err != nil {
		// Left to the queue: it retries, and at the end keeps the job in
		// its own dead list.
		return errors.Join(cause, err)
	}
	return jobs.Cancel(fmt.Errorf("dead-lettered after %d attempts: %w", attempt, cause))
}

func (s *Service) webhookDeadLetter(ctx context.Context, job *jobs.Job, args webhookArgs, cause error) error {
	if args.DeadLetter != 0 {
		return s.deadletter.update(ctx, args.DeadLetter, deadLetterChange{status: DeadLetterDead, attempts: job.Attempt, err: cause.Error()})
	}
	ev, err := bus.ParseEvent(args.Event)
	if err != nil {
		return fmt.Errorf("events: webhook job %d carries an invalid event: %w", job.ID, err)
	}
	written := Action{Type: ActionWebhook, URL: args.URL,
		Timeout:     (time.Duration(args.TimeoutMS) * time.Millisecond).String(),
		Backoff:     (time.Duration(args.BackoffMS) * time.Millisecond).String(),
		MaxAttempts: args.Attempts}
	a := &compiledAction{index: args.Action, Action: written, written: written}
	if cr := s.set.byID(args.RuleID); cr != nil {
		cr.stats.actionErrors.Add(1)
	}
	dl, err := newDeadLetter(&Rule{ID: args.RuleID, Name: args.RuleName}, a, ev, args.Prior+job.Attempt, cause)
	if err != nil {
		return err
	}
	if err := s.deadletter.add(ctx, dl); err != nil {
		return err
	}
	s.log.Warn("webhook dead-lettered", "rule", args.RuleName, "url", args.URL, "event", ev.ID,
		"attempts", dl.Attempts, "error", cause)
	return nil
}
