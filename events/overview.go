package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// deployTypes is the event type pattern of deploys, as the docs'
// examples use it.
const deployTypes = "gaffer.deploy.*"

// rateWindow is the span over which the overview averages the event rate.
const rateWindow = 5 * time.Minute

// Overview reports the latest deploy events (what was deployed where, by
// whom, how it went) and the event rate: events per second over the last
// five minutes by their time, and the dead-lettered actions waiting for an
// operator.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	now := s.now()
	deploys, err := s.listEvents(ctx, &eventFilter{Type: deployTypes}, 0, platform.OverviewRows)
	if err != nil {
		return nil, err
	}
	changes := platform.Panel{Section: platform.SectionChanges, Title: "Deploys",
		Link: "/events?type=" + url.QueryEscape(deployTypes), Empty: "no deploy events", Rows: make([]platform.Row, 0, len(deploys.Items))}
	for _, se := range deploys.Items {
		ev, err := bus.ParseEvent(se.Event)
		if err != nil {
			continue
		}
		changes.Rows = append(changes.Rows, deployRow(ev, se.Received))
	}
	n, err := s.eventsBetween(ctx, now.Add(-rateWindow), now)
	if err != nil {
		return nil, err
	}
	dead, err := s.deadletter.count(ctx, DeadLetterDead)
	if err != nil {
		return nil, err
	}
	deadTone := platform.ToneOK
	if dead > 0 {
		deadTone = platform.ToneBad
	}
	rates := platform.Panel{Section: platform.SectionRates, Title: "Events", Link: "/events", Rows: []platform.Row{},
		Figures: []platform.Figure{
			{Label: "events published (last 5 min)", Value: platform.FormatRate(float64(n) / rateWindow.Seconds())},
			{Label: "events in the last 5 min", Value: fmt.Sprint(n)},
			{Label: "dead letters", Value: fmt.Sprint(dead), Tone: deadTone},
		}}
	return []platform.Panel{changes, rates}, nil
}

// eventsBetween counts the indexed events whose time is in [from, to].
func (s *Service) eventsBetween(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM event_index WHERE time_ms >= ? AND time_ms <= ?`,
		from.UnixMilli(), to.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("events: count recent events: %w", err)
	}
	return n, nil
}

// deployRow describes a deploy event from the fields deploy tools
// commonly send: app (or service), version, region, env, and who deployed;
// the status is data.status when given, else the last word of the type.
func deployRow(ev *bus.Event, received time.Time) platform.Row {
	var data map[string]any
	json.Unmarshal(ev.Data, &data)
	field := func(names ...string) string {
		for _, n := range names {
			if v, ok := data[n].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	text := field("app", "service", "application")
	if text == "" {
		text = ev.Subject
	}
	if text == "" {
		text = ev.Source
	}
	if v := field("version", "revision", "image"); v != "" {
		text += " " + v
	}
	if r := field("region", "cluster"); r != "" {
		text += " to " + r
	}
	if e := field("env", "environment"); e != "" {
		text += " (" + e + ")"
	}
	status := field("status", "outcome", "result")
	if status == "" {
		status = ev.Type[strings.LastIndex(ev.Type, ".")+1:]
	}
	at := ev.Time
	if at.IsZero() {
		at = received
	}
	return platform.Row{Time: at, Text: text, Who: field("user", "by", "actor", "author"), Status: status,
		Tone: deployTone(status),
		Link: "/events?type=" + url.QueryEscape(ev.Type) + "&source=" + url.QueryEscape(ev.Source)}
}

// deployTone colours the usual words for a deploy's outcome.
func deployTone(status string) platform.Tone {
	switch strings.ToLower(status) {
	case "finished", "succeeded", "success", "completed", "done":
		return platform.ToneOK
	case "failed", "failure", "error", "aborted", "rolled_back", "rolledback":
		return platform.ToneBad
	}
	return ""
}
