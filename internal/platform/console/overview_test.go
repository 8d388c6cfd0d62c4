package console

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
)

// providerFunc adapts a function to platform.OverviewProvider.
type providerFunc func(ctx context.Context) ([]platform.Panel, error)

func (f providerFunc) Overview(ctx context.Context) ([]platform.Panel, error) { return f(ctx) }

func panels(ps ...platform.Panel) providerFunc {
	return func(context.Context) ([]platform.Panel, error) { return ps, nil }
}

func admin() *auth.Principal { return &auth.Principal{Scopes: []string{auth.AdminScope}} }

func titles(ps []platform.Panel) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.System+"/"+p.Title)
	}
	return strings.Join(out, " ")
}

func TestOverviewPutsFiringFirstAndKeepsSourceOrderWithinASection(t *testing.T) {
	c := &Console{overviewTimeout: time.Minute, sources: []Source{
		{System: "metrics", Provider: panels(platform.Panel{Section: platform.SectionRates, Title: "Ingest"})},
		{System: "remediation", Provider: panels(platform.Panel{Section: platform.SectionChanges, Title: "Runbook runs"})},
		{System: "events", Provider: panels(
			platform.Panel{Section: platform.SectionChanges, Title: "Deploys"},
			platform.Panel{Section: platform.SectionRates, Title: "Event rate"})},
		{System: "alerting", Provider: panels(platform.Panel{Section: platform.SectionFiring, Title: "Firing"})},
	}}
	got := titles(c.overview(context.Background(), admin()))
	want := "alerting/Firing remediation/Runbook runs events/Deploys metrics/Ingest events/Event rate"
	if got != want {
		t.Fatalf("order:\n got %s\nwant %s", got, want)
	}
}

func TestOverviewSurvivesSlowFailingAndPanickingProviders(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	c := &Console{overviewTimeout: 50 * time.Millisecond, sources: []Source{
		// ignores its context: only the console's own deadline can end the wait
		{System: "stuck", Provider: providerFunc(func(context.Context) ([]platform.Panel, error) {
			<-release
			return []platform.Panel{{Title: "late"}}, nil
		})},
		{System: "broken", Provider: providerFunc(func(context.Context) ([]platform.Panel, error) {
			return nil, errors.New("database is locked")
		})},
		{System: "buggy", Provider: providerFunc(func(context.Context) ([]platform.Panel, error) {
			var m map[string]int
			m["x"]++ // panics
			return nil, nil
		})},
		{System: "alerting", Provider: panels(platform.Panel{Section: platform.SectionFiring, Title: "Firing",
			Rows: []platform.Row{{Text: "HighLatency"}}})},
	}}
	got := c.overview(context.Background(), admin())
	if len(got) != 4 {
		t.Fatalf("want 4 panels (one each), got %d: %s", len(got), titles(got))
	}
	if got[0].System != "alerting" || len(got[0].Rows) != 1 || got[0].Error != "" {
		t.Fatalf("the healthy provider's panel comes first, intact: %+v", got[0])
	}
	want := map[string]string{"stuck": "did not answer within 50ms", "broken": "database is locked", "buggy": "overview panicked"}
	for _, p := range got[1:] {
		if p.Section != platform.SectionUnavailable || !strings.Contains(p.Error, want[p.System]) || p.Rows == nil {
			t.Errorf("panel of %s: want section Unavailable and an error with %q (rows non-nil), got %+v", p.System, want[p.System], p)
		}
	}
}

func TestOverviewShowsAPanelOnlyToHoldersOfItsScope(t *testing.T) {
	c := &Console{overviewTimeout: time.Minute, sources: []Source{
		{System: "alerting", Provider: panels(platform.Panel{Section: platform.SectionFiring, Title: "Firing"})},
		{System: "correlate", Provider: panels(platform.Panel{Title: "Analyses", Scope: "analysis:read"})},
		{System: "certs", Provider: providerFunc(func(context.Context) ([]platform.Panel, error) {
			return nil, errors.New("sealed")
		})},
	}}
	for _, tc := range []struct {
		scopes []string
		want   string
	}{
		{[]string{"alerting:read"}, "alerting/Firing"},
		{[]string{"alerting:write", "analysis:read"}, "alerting/Firing correlate/Analyses"},
		{[]string{"certs:read"}, "certs/certs"},
		{[]string{"events:read"}, ""},
	} {
		got := titles(c.overview(context.Background(), &auth.Principal{Scopes: tc.scopes}))
		if got != tc.want {
			t.Errorf("scopes %v: got %q, want %q", tc.scopes, got, tc.want)
		}
	}
}

func TestOverviewPassesADeadlineToEveryProvider(t *testing.T) {
	var deadline time.Time
	c := &Console{overviewTimeout: time.Minute, sources: []Source{
		{System: "alerting", Provider: providerFunc(func(ctx context.Context) ([]platform.Panel, error) {
			deadline, _ = ctx.Deadline()
			return nil, nil
		})},
	}}
	c.overview(context.Background(), admin())
	if deadline.IsZero() {
		t.Fatal("the provider's context has no deadline")
	}
}
