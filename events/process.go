package events

import (
	"context"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// processEvent indexes one event from the stream and runs the actions of
// every rule it matches. It returns the index batch the event joined (the
// event may be acknowledged once it commits), or an error worth a
// redelivery (the database or the bus unavailable); an action that fails
// for good is dead-lettered and does not hold the event back.
func (s *Service) processEvent(ctx context.Context, ev *bus.Event, seq uint64, received time.Time, act *activation) (*indexBatch, error) {
	if ev.Time.IsZero() {
		ev.Time = received
	}
	indexed := s.index.add(indexRow{seq: seq, id: ev.ID, source: ev.Source, typ: ev.Type, subject: ev.Subject,
		time: ev.Time, received: received})
	act.reset(ev, received)
	var buf [8]*compiledRule
	matched := s.set.current().Match(act, buf[:0])
	now := s.now()
	for _, r := range matched {
		r.stats.match(now)
		if err := s.runActions(ctx, r, act); err != nil {
			return nil, err
		}
	}
	return indexed, nil
}

// runActions runs a rule's actions in order. A suppress action that
// suppresses the event ends the list.
func (s *Service) runActions(ctx context.Context, r *compiledRule, act *activation) error {
	for _, a := range r.actions {
		var err error
		switch a.Type {
		case ActionSuppress:
			pass, err := s.suppress.decide(ctx, r, a, act)
			if err != nil {
				return err
			}
			if !pass {
				r.stats.suppressed.Add(1)
				return nil
			}
		case ActionWebhook:
			err = s.webhookAction(ctx, r, a, act.ev)
		case ActionPublish:
			err = s.publishAction(ctx, r, a, act)
		case ActionJob:
			err = s.jobAction(ctx, r, a, act)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
