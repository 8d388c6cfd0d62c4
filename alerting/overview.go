package alerting

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
)

// Overview reports what fires now, most recently fired first: each firing
// alert with its severity, since when it fires and a link to its rule,
// and how many alerts fire, are silenced and are pending.
func (s *Service) Overview(ctx context.Context) ([]platform.Panel, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var firing, pending []*Alert
	for _, a := range s.Alerts("", "") {
		switch a.State {
		case StateFiring:
			firing = append(firing, a)
		case StatePending:
			pending = append(pending, a)
		}
	}
	slices.SortStableFunc(firing, func(a, b *Alert) int { return firedAt(b).Compare(firedAt(a)) })
	muted := 0
	p := platform.Panel{Section: platform.SectionFiring, Title: "Alerts firing", Link: "/alerting",
		Empty: "nothing fires", Rows: []platform.Row{}}
	for _, a := range firing {
		row := platform.Row{Time: firedAt(a), Text: alertText(a), Status: a.Labels["severity"],
			Tone: severityTone(a.Labels["severity"]), Link: "/alerting/rules/" + a.RuleID}
		if len(a.Silenced) > 0 || len(a.InhibitedBy) > 0 {
			muted++
			row.Status, row.Tone = "silenced", ""
			if len(a.Silenced) == 0 {
				row.Status = "inhibited"
			}
		}
		if len(p.Rows) < platform.OverviewRows {
			p.Rows = append(p.Rows, row)
		}
	}
	loud := platform.ToneOK
	if len(firing)-muted > 0 {
		loud = platform.ToneBad
	}
	p.Figures = []platform.Figure{
		{Label: "firing", Value: fmt.Sprint(len(firing) - muted), Tone: loud},
		{Label: "silenced or inhibited", Value: fmt.Sprint(muted)},
		{Label: "pending", Value: fmt.Sprint(len(pending))},
	}
	p.More = len(firing) - len(p.Rows)
	return []platform.Panel{p}, nil
}

// firedAt is since when an alert fires.
func firedAt(a *Alert) time.Time {
	if a.FiredAt != nil {
		return *a.FiredAt
	}
	return a.ActiveAt
}

// alertText names an alert: its rule's name and the labels of its series.
func alertText(a *Alert) string {
	keys := slices.Sorted(maps.Keys(a.SeriesLabels))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "__name__" {
			parts = append(parts, k+"="+a.SeriesLabels[k])
		}
	}
	if len(parts) == 0 {
		return a.Labels["alertname"]
	}
	return a.Labels["alertname"] + " {" + strings.Join(parts, ", ") + "}"
}

// severityTone colours the usual severity words: paging ones bad, ticket
// and warning ones a warning, the rest neutral.
func severityTone(sev string) platform.Tone {
	switch strings.ToLower(sev) {
	case "critical", "page", "error", "high", "emergency":
		return platform.ToneBad
	case "warning", "warn", "ticket", "medium":
		return platform.ToneWarn
	}
	return ""
}
