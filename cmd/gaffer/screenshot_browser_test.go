package main

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// screenPage is a page the screenshot test visits.
type screenPage struct{ Name, Path string }

// detailPages are the detail pages the test finds by following the first
// link under Path that starts with Prefix (a rule, a runbook, ...).
var detailPages = []struct{ Name, List, Prefix string }{
	{"alert-rule", "/alerting", "/alerting/rules/"},
	{"runbook", "/remediation", "/remediation/runbooks/"},
	{"execution", "/remediation/executions", "/remediation/executions/"},
	{"certificate", "/certs", "/certs/c/"},
	{"analysis", "/analysis", "/analysis/reports/"},
	{"event-rule", "/events/rules", "/events/rules/rule_"},
	{"fleet", "/failover", "/failover/fleets/"},
	{"job", "/jobs", "/jobs/"},
	{"atlas-dashboard", "/atlas", "/atlas/dashboards/"},
	{"changepoint-example", "/changepoint", "/changepoint?"},
	{"workflow", "/workflows", "/workflows/"},
	{"workflow-instance", "/workflows/nightly-report", "/workflows/nightly-report/instances/"},
}

// extraPages are pages outside the navigation worth a look: editors,
// tabs, and the explorers with a query.
var extraPages = []screenPage{
	{"metrics-query", "/metrics/explore?range=3h&q=" + url.QueryEscape("sum by (job) (rate(http_requests_total[5m]))")},
	{"metrics-raw", "/metrics/explore?q=http_requests_total"},
	{"atlas-graph", "/atlas?s=e-3h&q=" + url.QueryEscape("name,http_requests_total,:eq,(,job,),:by,:derivative")},
	{"event-rule-new", "/events/rules/new"},
	{"runbook-new", "/remediation/new"},
	{"silences", "/alerting/silences"},
	{"cert-authorities", "/certs/authorities"},
	{"cert-notifications", "/certs/notifications"},
	{"sshca-certs", "/sshca/certs"},
	{"sshca-policies", "/sshca/policies"},
	{"failover-plans", "/failover/plans"},
}

// TestScreenshotsAndLayout visits every page of the navigation and the
// important detail pages of a demo server in Chromium, at a desktop's
// 1400×1000 and a phone's 390×844, saves a screenshot of each (in
// $GAFFER_SCREENSHOT_DIR when set) and fails when a page scrolls sideways
// or a chart's tick labels overlap or are cut off (see
// browsertest.LayoutProblems). Visiting pages must write no audit entry.
func TestScreenshotsAndLayout(t *testing.T) {
	ctx := browsertest.New(t, 170*time.Second)
	srv := platformtest.Start(t, platformtest.Options{Demo: true})
	dir := os.Getenv("GAFFER_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, browsertest.Viewport(1400, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Login(ctx, srv.URL, srv.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	pages := pagesToVisit(t, ctx, srv.URL)
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header .who")))
	if err != nil {
		t.Fatal(err)
	}
	lastAudit := lastAuditID(t, srv)

	for _, vp := range []struct {
		Name string
		W, H int64
	}{{"desktop", 1400, 1000}, {"phone", 390, 844}} {
		if err := chromedp.Do(ctx, browsertest.Viewport(vp.W, vp.H)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if err := chromedp.Do(ctx,
				chromedp.Navigate(srv.URL+p.Path),
				chromedp.WaitVisible(chromedp.CSS("main h1")),
			); err != nil {
				t.Errorf("%s %s: %v", vp.Name, p.Path, err)
				continue
			}
			// Open what is folded away (an analysis's overlays, a rule's
			// spec), so that its charts are drawn and checked too.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](
				`[...document.querySelectorAll("main details")].map(d => { d.open = true; return 1; }).length`)); err != nil {
				t.Fatal(err)
			}
			if err := browsertest.WaitCharts(ctx, 10*time.Second); err != nil {
				t.Errorf("%s %s: %v", vp.Name, p.Path, err)
			}
			problems, err := browsertest.LayoutProblems(ctx)
			if err != nil {
				t.Fatalf("%s %s: %v", vp.Name, p.Path, err)
			}
			shot, err := browsertest.Screenshot(ctx, dir, vp.Name+"-"+p.Name, vp.W, vp.H)
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range problems {
				t.Errorf("%s at %d×%d: %s\n\tscreenshot %s", p.Path, vp.W, vp.H, pr, shot)
			}
		}
	}
	t.Logf("%d pages at 2 sizes; screenshots in %s", len(pages), dir)

	// On a phone the side navigation is folded behind the Menu button.
	hidden := `getComputedStyle(document.querySelector("nav.side")).display === "none"`
	folded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](hidden))
	if err != nil {
		t.Fatal(err)
	}
	if !folded {
		t.Error("at 390×844 the side navigation is not folded away")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("nav-toggle")), chromedp.WaitVisible(chromedp.CSS("nav.side a"))); err != nil {
		t.Errorf("the Menu button does not show the navigation: %v", err)
	}

	// Looking at pages changes nothing, so it writes no audit entry (the
	// editors' validation on load used to).
	entries, _, err := srv.Deps().Audit.List(t.Context(), audit.Filter{Actor: who, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.ID > lastAudit {
			t.Errorf("visiting pages wrote an audit entry: %s %s by %s", e.Action, e.Target, e.Actor)
		}
	}
}

// pagesToVisit lists the navigation's pages, the first detail page of
// each detailPages list, and extraPages.
func pagesToVisit(t *testing.T, ctx context.Context, base string) []screenPage {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("nav.side"))); err != nil {
		t.Fatal(err)
	}
	nav, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("nav.side a")].map(a => a.getAttribute("href"))`))
	if err != nil {
		t.Fatal(err)
	}
	var pages []screenPage
	for _, href := range nav {
		name := strings.Trim(strings.ReplaceAll(href, "/", "-"), "-")
		if name == "" {
			name = "overview"
		}
		pages = append(pages, screenPage{name, href})
	}
	for _, d := range detailPages {
		href, err := firstLink(ctx, base+d.List, d.Prefix)
		if err != nil {
			t.Fatalf("%s: %v", d.List, err)
		}
		if href == "" {
			t.Errorf("the demo's %s page links no %s (%s…)", d.List, d.Name, d.Prefix)
			continue
		}
		pages = append(pages, screenPage{d.Name, href})
	}
	return append(pages, extraPages...)
}

// firstLink opens list and returns the first link in main that starts
// with prefix and goes further ("" when there is none).
func firstLink(ctx context.Context, list, prefix string) (string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("main a")].map(a => a.getAttribute("href") || "")
		.find(h => h.startsWith(`+jsString(prefix)+`) && h.length > `+jsString(prefix)+`.length && !h.endsWith("/new")) || ""`))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// lastAuditID is the ID of the newest audit entry.
func lastAuditID(t *testing.T, srv *platformtest.Server) int64 {
	t.Helper()
	entries, _, err := srv.Deps().Audit.List(t.Context(), audit.Filter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		return 0
	}
	return entries[0].ID
}
