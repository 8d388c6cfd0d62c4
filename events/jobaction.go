package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// jobArgs builds the arguments of a job action: the action's expression,
// or by default the event and the rule. It reports whether the arguments
// identify the event (the default), which lets the queue drop the
// duplicate a redelivered event would enqueue.
func jobArgs(r *Rule, a *compiledAction, act *activation) (json.RawMessage, bool, error) {
	if a.args != nil {
		b, err := evalJSON(a.args, act)
		if err != nil {
			return nil, false, fmt.Errorf("args: %w", err)
		}
		if len(b) == 0 || b[0] != '{' {
			return nil, false, fmt.Errorf("args: %s: must evaluate to a map, got %s", a.Args, truncate(string(b), 100))
		}
		return b, false, nil
	}
	ev, err := act.ev.MarshalJSON()
	if err != nil {
		return nil, false, fmt.Errorf("encode event: %w", err)
	}
	b, err := json.Marshal(struct {
		Event    json.RawMessage `json:"event"`
		RuleID   string          `json:"rule_id"`
		RuleName string          `json:"rule_name"`
	}{ev, r.ID, r.Name})
	return b, true, err
}

// jobAction enqueues a job of the action's kind. Arguments that cannot be
// built, or a kind no system of this process registered, are
// dead-lettered; a queue failure is returned for redelivery.
func (s *Service) jobAction(ctx context.Context, r *compiledRule, a *compiledAction, act *activation) error {
	args, identifying, err := jobArgs(r.rule, a, act)
	if err != nil {
		return s.deadLetter(ctx, r, a, act.ev, 1, err)
	}
	if err := s.checkKind(a.Kind); err != nil {
		return s.deadLetter(ctx, r, a, act.ev, 1, err)
	}
	opts := &jobs.EnqueueOptions{Tags: []string{r.rule.ID}}
	if identifying {
		opts.UniqueByArgs, opts.UniquePeriod = true, 24*time.Hour
	}
	if _, err := s.jobs.Enqueue(ctx, a.Kind, args, opts); err != nil {
		return fmt.Errorf("rule %s: enqueue %s: %w", r.rule.Name, a.Kind, err)
	}
	return nil
}
