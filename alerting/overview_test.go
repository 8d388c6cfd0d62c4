package alerting

import (
	"context"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
)

// TestOverviewListsFiringAlertsNewestFirst fixes the clock inside a
// silence's window (years from the wall clock), so the silenced alert
// counts as silenced only if the overview reads the service's clock.
func TestOverviewListsFiringAlertsNewestFirst(t *testing.T) {
	now := time.Date(2031, 3, 4, 9, 30, 0, 0, time.UTC)
	svc, err := New(context.Background(), &platform.Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*Service)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	alert := func(fp, name, sev string, state State, fired *time.Time, series map[string]string) *Alert {
		return &Alert{RuleID: "rule-" + name, Fingerprint: fp, State: state, FiredAt: fired, ActiveAt: now.Add(-time.Hour),
			Labels: map[string]string{"alertname": name, "severity": sev}, SeriesLabels: series}
	}
	s.sched.put(&StoredRule{Rule: &Rule{ID: "rule-ApiLatencyHigh", every: time.Minute}}, []*Alert{
		alert("a", "ApiLatencyHigh", "page", StateFiring, at(10*time.Minute), map[string]string{"job": "api", "region": "eu-west-1"}),
		alert("b", "ApiLatencyHigh", "page", StatePending, nil, map[string]string{"job": "api", "region": "us-east-1"}),
	}, "")
	s.sched.put(&StoredRule{Rule: &Rule{ID: "rule-DiskFull", every: time.Minute}}, []*Alert{
		alert("c", "DiskFull", "ticket", StateFiring, at(2*time.Minute), nil),
		alert("d", "DiskFull", "quiet", StateFiring, at(30*time.Minute), map[string]string{"host": "db1"}),
		alert("e", "DiskFull", "ticket", StateResolved, at(3*time.Hour), nil),
	}, "")
	ms, err := ParseMatchers("severity=quiet")
	if err != nil {
		t.Fatal(err)
	}
	s.mutes = &mutes{silences: []*Silence{{ID: "sil-1", StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), ms: ms}}}

	panels, err := s.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(panels) != 1 || panels[0].Section != platform.SectionFiring {
		t.Fatalf("want one panel in the firing section, got %+v", panels)
	}
	p := panels[0]
	want := []platform.Row{
		{Time: now.Add(-2 * time.Minute), Text: "DiskFull", Status: "ticket", Tone: platform.ToneWarn, Link: "/alerting/rules/rule-DiskFull"},
		{Time: now.Add(-10 * time.Minute), Text: "ApiLatencyHigh {job=api, region=eu-west-1}", Status: "page", Tone: platform.ToneBad, Link: "/alerting/rules/rule-ApiLatencyHigh"},
		{Time: now.Add(-30 * time.Minute), Text: "DiskFull {host=db1}", Status: "silenced", Link: "/alerting/rules/rule-DiskFull"},
	}
	if len(p.Rows) != len(want) {
		t.Fatalf("rows: got %+v, want %+v", p.Rows, want)
	}
	for i := range want {
		if p.Rows[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, p.Rows[i], want[i])
		}
	}
	figures := map[string]string{}
	for _, f := range p.Figures {
		figures[f.Label] = f.Value
	}
	if figures["firing"] != "2" || figures["silenced or inhibited"] != "1" || figures["pending"] != "1" {
		t.Errorf("figures: %+v", p.Figures)
	}
	if p.Figures[0].Tone != platform.ToneBad {
		t.Errorf("two loud alerts fire, the firing figure should read bad: %+v", p.Figures[0])
	}
}

func TestOverviewWithNothingFiringSaysSo(t *testing.T) {
	now := time.Date(2031, 3, 4, 9, 30, 0, 0, time.UTC)
	svc, err := New(context.Background(), &platform.Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	panels, err := svc.(*Service).Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := panels[0]
	if len(p.Rows) != 0 || p.Empty != "nothing fires" || p.Figures[0].Value != "0" || p.Figures[0].Tone != platform.ToneOK {
		t.Fatalf("empty overview: %+v", p)
	}
}
