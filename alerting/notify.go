package alerting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// Alertmanager's default timings.
const (
	defaultGroupWait      = 30 * time.Second
	defaultGroupInterval  = 5 * time.Minute
	defaultRepeatInterval = 4 * time.Hour
	retryInterval         = 10 * time.Second
)

// dispatcher turns alerts into notifications as Alertmanager does:
// alerts are grouped by labels, a group is sent GroupWait after it
// appears, then at most every GroupInterval when it changed and every
// RepeatInterval while it fires; silenced and inhibited alerts are left
// out. A notification is a CloudEvent on the bus, which the event
// platform routes, deduplicates and rate-limits.
type dispatcher struct {
	s      *Service
	mu     sync.Mutex
	rules  map[string][]*Alert // each rule's alerts, as of its last evaluation
	groups map[string]*group
	byRule map[string][]string // group keys each rule's alerts are in
}

type group struct {
	key      string
	labels   map[string]string
	wait     time.Duration
	interval time.Duration
	repeat   time.Duration
	alerts   map[string]*Alert // firing and resolved alerts, by fingerprint
	notified map[string]bool   // fingerprints last sent as firing
	next     time.Time
	lastSent time.Time
}

func newDispatcher(s *Service) *dispatcher {
	return &dispatcher{s: s, rules: map[string][]*Alert{}, groups: map[string]*group{}, byRule: map[string][]string{}}
}

// groupLabels are the labels of ls that group an alert of r.
func groupLabels(n *Notification, ls map[string]string) map[string]string {
	by := []string{"alertname"}
	if n != nil && len(n.GroupBy) > 0 {
		by = n.GroupBy
	}
	if slices.Contains(by, "...") {
		return maps.Clone(ls)
	}
	out := map[string]string{}
	for _, l := range by {
		if v, ok := ls[l]; ok {
			out[l] = v
		}
	}
	return out
}

func timing(n *Notification) (wait, interval, repeat time.Duration) {
	wait, interval, repeat = defaultGroupWait, defaultGroupInterval, defaultRepeatInterval
	if n != nil {
		if n.GroupWait > 0 {
			wait = n.GroupWait.D()
		}
		if n.GroupInterval > 0 {
			interval = n.GroupInterval.D()
		}
		if n.RepeatInterval > 0 {
			repeat = n.RepeatInterval.D()
		}
	}
	return wait, interval, repeat
}

// update takes a rule's alerts after an evaluation.
func (d *dispatcher) update(r *StoredRule, alerts []*Alert, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rules[r.ID] = alerts
	for _, k := range d.byRule[r.ID] {
		if g := d.groups[k]; g != nil {
			for fp, a := range g.alerts {
				if a.RuleID == r.ID {
					delete(g.alerts, fp)
				}
			}
		}
	}
	var keys []string
	for _, a := range alerts {
		if a.State != StateFiring && a.State != StateResolved {
			continue
		}
		gl := groupLabels(r.Spec.Notification, a.Labels)
		k := labelKey(gl)
		g := d.groups[k]
		if g == nil {
			if a.State == StateResolved {
				continue // never sent as firing: nothing to resolve
			}
			g = &group{key: k, labels: gl, alerts: map[string]*Alert{}, notified: map[string]bool{}}
			g.wait, g.interval, g.repeat = timing(r.Spec.Notification)
			g.next = d.s.now().Add(g.wait)
			d.groups[k] = g
		}
		g.alerts[a.Fingerprint] = a
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	d.byRule[r.ID] = keys
}

// forget drops a deleted rule's alerts.
func (d *dispatcher) forget(ruleID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.rules, ruleID)
	for _, k := range d.byRule[ruleID] {
		if g := d.groups[k]; g != nil {
			for fp, a := range g.alerts {
				if a.RuleID == ruleID {
					delete(g.alerts, fp)
				}
			}
		}
	}
	delete(d.byRule, ruleID)
}

// firing returns every firing alert (for inhibition).
func (d *dispatcher) firing() []*Alert {
	var out []*Alert
	for _, as := range d.rules {
		for _, a := range as {
			if a.State == StateFiring {
				out = append(out, a)
			}
		}
	}
	return out
}

// muted says whether and why an alert is muted now.
func (d *dispatcher) muted(a *Alert, m *mutes, firing []*Alert, now time.Time) (silences, inhibitors []string) {
	return m.silencedBy(a.Labels, now), m.inhibitedBy(a, firing)
}

// loop flushes the groups that are due.
func (d *dispatcher) loop(stop <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		d.flush(context.Background())
	}
}

// notification is what one flush of a group sends.
type notification struct {
	g      *group
	status string
	alerts []*Alert
	firing map[string]bool
}

func (d *dispatcher) flush(ctx context.Context) {
	now := d.s.now()
	m := d.s.currentMutes()
	d.mu.Lock()
	firing := d.firing()
	var out []notification
	for k, g := range d.groups {
		if now.Before(g.next) {
			continue
		}
		n := notification{g: g, firing: map[string]bool{}}
		changed := false
		for fp, a := range g.alerts {
			sil, inh := d.muted(a, m, firing, now)
			switch {
			case a.State == StateFiring && len(sil) == 0 && len(inh) == 0:
				n.alerts = append(n.alerts, a)
				n.firing[fp] = true
				changed = changed || !g.notified[fp]
			case g.notified[fp]: // resolved, or muted since: sent as resolved
				n.alerts = append(n.alerts, a)
				changed = true
			}
		}
		repeat := len(n.firing) > 0 && now.Sub(g.lastSent) >= g.repeat
		g.next = now.Add(g.interval)
		if !changed && !repeat {
			if len(g.alerts) == 0 {
				delete(d.groups, k)
			}
			continue
		}
		n.status = "resolved"
		if len(n.firing) > 0 {
			n.status = "firing"
		}
		out = append(out, n)
	}
	d.mu.Unlock()
	for _, n := range out {
		err := d.send(ctx, n, now)
		d.mu.Lock()
		if err != nil {
			d.s.log.Warn("send a notification; retrying", "group", n.g.key, "error", err)
			n.g.next = now.Add(retryInterval)
		} else {
			n.g.notified, n.g.lastSent = n.firing, now
			for fp, a := range n.g.alerts {
				if a.State == StateResolved && !n.firing[fp] {
					delete(n.g.alerts, fp)
				}
			}
		}
		d.mu.Unlock()
	}
}

// webhookAlert is an alert in Alertmanager's webhook format, with
// Gaffer's additions.
type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Value        *float64          `json:"value,omitempty"`
	RuleID       string            `json:"ruleID"`
	ReportURL    string            `json:"reportURL,omitempty"`
}

// webhookData is Alertmanager's webhook payload (version 4).
type webhookData struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []webhookAlert    `json:"alerts"`
}

// send publishes one notification as gaffer.alerting.firing or
// gaffer.alerting.resolved. Its ID derives from the group and the flush
// time, so a retried publish is stored once.
func (d *dispatcher) send(ctx context.Context, n notification, now time.Time) error {
	if d.s.bus == nil {
		return nil
	}
	base := d.s.base.String()
	data := webhookData{Version: "4", GroupKey: n.g.key, Status: n.status, Receiver: "gaffer", GroupLabels: n.g.labels,
		ExternalURL: base}
	sort.Slice(n.alerts, func(i, j int) bool { return n.alerts[i].Fingerprint < n.alerts[j].Fingerprint })
	for i, a := range n.alerts {
		w := webhookAlert{Status: "firing", Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.ActiveAt,
			GeneratorURL: base + "/alerting/rules/" + a.RuleID, Fingerprint: a.Fingerprint, RuleID: a.RuleID}
		if w.Annotations == nil {
			w.Annotations = map[string]string{}
		}
		if !n.firing[a.Fingerprint] {
			w.Status = "resolved"
			w.EndsAt = now.UTC()
			if a.ResolvedAt != nil {
				w.EndsAt = *a.ResolvedAt
			}
		}
		if v := a.Value; v == v {
			w.Value = &v
		}
		if a.ReportID != "" {
			w.ReportURL = base + "/analysis/reports/" + a.ReportID
		}
		data.Alerts = append(data.Alerts, w)
		if i == 0 {
			data.CommonLabels, data.CommonAnnotations = maps.Clone(w.Labels), maps.Clone(w.Annotations)
			continue
		}
		common(data.CommonLabels, w.Labels)
		common(data.CommonAnnotations, w.Annotations)
	}
	b, err := encodeNotification(data)
	if err != nil {
		return err
	}
	typ := FiringEvent
	if n.status == "resolved" {
		typ = ResolvedEvent
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", n.g.key, now.UnixMilli())))
	ev := &bus.Event{ID: hex.EncodeToString(h[:16]), Type: typ, Source: "/gaffer/alerting", Subject: n.g.key, Time: now.UTC(), Data: b}
	_, err = d.s.bus.Publish(ctx, ev)
	return err
}

// common keeps in m the pairs that o has too.
func common(m, o map[string]string) {
	for k, v := range m {
		if o[k] != v {
			delete(m, k)
		}
	}
}

// encodeNotification writes data as Alertmanager's webhook payload with
// the group's common labels also at the top level, so that a rule can say
// data.severity or data.alertname as well as data.commonLabels.severity.
// A label whose name is one of the payload's own fields (status, alerts,
// …) stays only under commonLabels. Receivers that expect Alertmanager's
// payload ignore the extra fields.
func encodeNotification(data webhookData) ([]byte, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode notification: %w", err)
	}
	if len(data.CommonLabels) == 0 {
		return b, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("encode notification: %w", err)
	}
	for k, v := range data.CommonLabels {
		if _, taken := fields[k]; taken {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode notification: label %s: %w", k, err)
		}
		fields[k] = raw
	}
	b, err = json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encode notification: %w", err)
	}
	return b, nil
}
