package alerting

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// State is where an alert is in its life.
type State string

// The states of an alert, as Prometheus names them.
const (
	StateInactive State = "inactive"
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// resolvedRetention is how long a resolved alert stays listed (and in
// notifications), as Prometheus keeps it.
const resolvedRetention = 15 * time.Minute

// Alert is one alert of a rule: one series for which the condition held.
type Alert struct {
	RuleID      string            `json:"rule_id"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	State       State             `json:"state"`
	Value       float64           `json:"value"`
	// ActiveAt is when the condition began to hold, FiredAt when the
	// alert fired, ResolvedAt when it resolved, LastSeen the last
	// evaluation at which the condition held.
	ActiveAt   time.Time  `json:"active_at"`
	FiredAt    *time.Time `json:"fired_at,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	LastSeen   time.Time  `json:"last_seen"`
	// SeriesLabels are the labels of the series the alert is about
	// (without the rule's).
	SeriesLabels map[string]string `json:"series_labels"`
	// ReportID is the analysis report started when the alert fired.
	ReportID string `json:"report_id,omitempty"`
	// Silenced lists the silences muting the alert, InhibitedBy the
	// fingerprints of the alerts inhibiting it (set when listed).
	Silenced    []string `json:"silenced_by,omitempty"`
	InhibitedBy []string `json:"inhibited_by,omitempty"`
}

// Transition is one change of state, for the history.
type Transition struct {
	RuleID      string            `json:"rule_id"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	From        State             `json:"from"`
	To          State             `json:"to"`
	At          time.Time         `json:"at"`
	Value       float64           `json:"value"`
}

// fingerprint identifies an alert by its labels.
func fingerprint(ls map[string]string) string {
	h := fnv.New64a()
	h.Write([]byte(labelKey(ls)))
	return strconv.FormatUint(h.Sum64(), 16)
}

// ruleState is a rule's alerts between evaluations.
type ruleState struct {
	alerts map[string]*Alert
}

func newRuleState() *ruleState { return &ruleState{alerts: map[string]*Alert{}} }

// apply moves the rule's alerts on with the samples of the evaluation at
// t, as Prometheus's alerting rules do, and returns the transitions.
func (rs *ruleState) apply(ctx context.Context, r *Rule, samples []Sample, t time.Time, ex expander) []Transition {
	var out []Transition
	move := func(a *Alert, to State) {
		out = append(out, Transition{RuleID: r.ID, Fingerprint: a.Fingerprint, Labels: a.Labels, From: a.State, To: to, At: t, Value: a.Value})
		a.State = to
	}
	seen := make(map[string]bool, len(samples))
	for _, s := range samples {
		if !s.Active {
			continue
		}
		ls := r.alertLabels(ctx, s, t, ex)
		fp := fingerprint(ls)
		if seen[fp] {
			continue // two series with the same labels once the rule's are added
		}
		seen[fp] = true
		a := rs.alerts[fp]
		if a == nil || a.State == StateResolved {
			a = &Alert{RuleID: r.ID, Fingerprint: fp, Labels: ls, State: StateInactive, ActiveAt: t, SeriesLabels: s.Labels}
			rs.alerts[fp] = a
			a.Value = s.Value
			move(a, StatePending)
		}
		a.Value, a.LastSeen = s.Value, t
		a.Annotations = r.annotations(ctx, s, t, ex)
		if a.State == StatePending && t.Sub(a.ActiveAt) >= r.Spec.For.D() {
			ft := t
			a.FiredAt = &ft
			move(a, StateFiring)
		}
	}
	for fp, a := range rs.alerts {
		if seen[fp] {
			continue
		}
		switch a.State {
		case StatePending:
			move(a, StateInactive)
			delete(rs.alerts, fp)
		case StateFiring:
			if k := r.Spec.KeepFiringFor.D(); k > 0 && t.Sub(a.LastSeen) < k {
				continue
			}
			rt := t
			a.ResolvedAt = &rt
			move(a, StateResolved)
		case StateResolved:
			if t.Sub(*a.ResolvedAt) > resolvedRetention {
				delete(rs.alerts, fp)
			}
		}
	}
	return out
}

// alertLabels are the series' labels, the rule's (expanded) and
// alertname.
func (r *Rule) alertLabels(ctx context.Context, s Sample, t time.Time, ex expander) map[string]string {
	ls := make(map[string]string, len(s.Labels)+len(r.Spec.Labels)+1)
	for k, v := range s.Labels {
		ls[k] = v
	}
	for k, v := range r.Spec.Labels {
		if strings.Contains(v, "{{") {
			v = ex.expand(ctx, "label "+k, v, s.Labels, s.Value, t)
		}
		ls[k] = v
	}
	ls["alertname"] = r.Spec.Name
	return ls
}

// annotations expands the rule's annotations for a sample.
func (r *Rule) annotations(ctx context.Context, s Sample, t time.Time, ex expander) map[string]string {
	if len(r.Spec.Annotations) == 0 {
		return nil
	}
	out := make(map[string]string, len(r.Spec.Annotations))
	for k, v := range r.Spec.Annotations {
		if strings.Contains(v, "{{") {
			v = ex.expand(ctx, "annotation "+k, v, s.Labels, s.Value, t)
		}
		out[k] = v
	}
	return out
}
