package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// Extension attributes the publish action sets on the events it derives.
const (
	// HopsExtension counts how many rules routed an event here; the loop
	// guard refuses to publish past MaxHops.
	HopsExtension = "gafferhops"
	// RuleExtension names the rule that published the event.
	RuleExtension = "gafferrule"
	// CauseExtension is the ID of the event it was derived from.
	CauseExtension = "gaffercause"
	// MaxHops bounds chains of publish actions (and so loops of rules
	// that match each other's events).
	MaxHops = 8
)

// hops returns the event's hop count.
func hops(ev *bus.Event) int {
	switch v := ev.Extensions[HopsExtension].(type) {
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

// derive builds the event a publish action sends for ev. Its ID is a hash
// of the rule, the action and the original event, so a redelivered event
// derives the same ID and the stream's deduplication drops the repeat.
func derive(r *Rule, a *compiledAction, act *activation) (*bus.Event, error) {
	ev := act.ev
	n := hops(ev)
	if n >= MaxHops {
		return nil, fmt.Errorf("loop guard: event %s has been routed %d times already (%s extension); "+
			"a chain of publish actions longer than %d, or rules matching each other's events, stops here",
			ev.ID, n, HopsExtension, MaxHops)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s", r.ID, a.index, ev.Source, ev.ID)
	out := &bus.Event{SpecVersion: "1.0", ID: hex.EncodeToString(h.Sum(nil)[:16]), Type: a.EventType,
		Source: a.Source, Subject: ev.Subject, Time: time.Now().UTC(),
		DataContentType: ev.DataContentType, DataSchema: ev.DataSchema, Data: ev.Data, DataBase64: ev.DataBase64}
	if out.Source == "" {
		out.Source = "/gaffer/events/rules/" + r.ID
	}
	out.Extensions = make(map[string]any, len(ev.Extensions)+3)
	for k, v := range ev.Extensions {
		out.Extensions[k] = v
	}
	out.Extensions[HopsExtension] = float64(n + 1)
	out.Extensions[RuleExtension] = r.ID
	out.Extensions[CauseExtension] = ev.ID
	if a.subject != nil {
		subject, err := evalString(a.subject, act)
		if err != nil {
			return nil, fmt.Errorf("subject: %w", err)
		}
		out.Subject = subject
	}
	if a.data != nil {
		data, err := evalJSON(a.data, act)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		out.Data, out.DataBase64, out.DataContentType, out.DataSchema = json.RawMessage(data), nil, "application/json", ""
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("derived event: %w", err)
	}
	return out, nil
}

// publishAction publishes the derived event. A loop or a failing
// transform is dead-lettered; a bus failure is returned for redelivery.
func (s *Service) publishAction(ctx context.Context, r *compiledRule, a *compiledAction, act *activation) error {
	out, err := derive(r.rule, a, act)
	if err != nil {
		return s.deadLetter(ctx, r, a, act.ev, 1, err)
	}
	if _, err := s.bus.Publish(ctx, out); err != nil {
		return fmt.Errorf("rule %s: %w", r.rule.Name, err)
	}
	return nil
}
