package events

import (
	"encoding/json"
	"strconv"
)

// suppressSim replays suppress actions in memory, from an empty state.
type suppressSim struct {
	groups map[string]*simWindow
}

type simWindow struct {
	end    int64
	passed int
}

func newSuppressSim() *suppressSim { return &suppressSim{groups: map[string]*simWindow{}} }

// pass applies the same budget rule as the suppressor.
func (sim *suppressSim) pass(r *compiledRule, a *compiledAction, act *activation) bool {
	k := hashKey(r.rule.ID, strconv.Itoa(a.index), groupKey(r, a, act))
	at := act.received.UnixMilli()
	w := sim.groups[k]
	if w == nil || at >= w.end {
		sim.groups[k] = &simWindow{end: at + a.window.Milliseconds(), passed: 1}
		return true
	}
	if w.passed < a.limit {
		w.passed++
		return true
	}
	return false
}

// dryRun reports what each action of a matching rule would do for the
// event in act, without doing it.
func dryRun(cr *compiledRule, act *activation, sim *suppressSim) []ReplayAction {
	out := make([]ReplayAction, 0, len(cr.actions))
	suppressed := false
	for _, a := range cr.actions {
		ra := ReplayAction{Index: a.index, Type: a.Type, Outcome: "would run"}
		switch {
		case suppressed:
			ra.Outcome = "skipped (suppressed)"
		case a.Type == ActionSuppress:
			if sim.pass(cr, a, act) {
				ra.Outcome = "would pass"
			} else {
				ra.Outcome, suppressed = "would suppress", true
			}
		case a.Type == ActionWebhook:
			ra.Detail, _ = json.Marshal(a.URL)
		case a.Type == ActionPublish:
			if ev, err := derive(cr.rule, a, act); err != nil {
				ra.Outcome, ra.Error = "would fail", err.Error()
			} else {
				ra.Detail, _ = ev.MarshalJSON()
			}
		case a.Type == ActionJob:
			if args, _, err := jobArgs(cr.rule, a, act); err != nil {
				ra.Outcome, ra.Error = "would fail", err.Error()
			} else {
				ra.Detail, _ = json.Marshal(map[string]any{"kind": a.Kind, "args": json.RawMessage(args)})
			}
		}
		out = append(out, ra)
	}
	return out
}
