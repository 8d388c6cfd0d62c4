package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/console"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestOverviewWithTheDemo serves the demo and reads the overview three
// ways: as JSON (every system's panels, none failed, firing first), as
// the page (the same panels in that order) and with `gaffer overview`;
// a token with one system's read scope sees only that system's panels.
func TestOverviewWithTheDemo(t *testing.T) {
	base := time.Date(2026, 12, 7, 14, 55, 0, 0, time.UTC)
	srv := platformtest.Start(t, platformtest.Options{Demo: true, Now: platformtest.Anchored(base)})

	// A provider late under load shows as failed; ask again until none is.
	var ov console.Overview
	platformtest.WaitFor(time.Minute, func() bool {
		resp := srv.Do("GET", "/api/v1/overview", srv.AdminToken, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("GET /api/v1/overview: %d %s", resp.Status, resp.Body)
		}
		ov = console.Overview{}
		resp.JSON(t, &ov)
		for _, p := range ov.Panels {
			if p.Error != "" {
				return false
			}
		}
		return true
	})
	panels := map[string]platform.Panel{}
	bySystem := map[string]int{}
	for i, p := range ov.Panels {
		if p.Error != "" {
			t.Errorf("panel %s/%s failed: %s", p.System, p.Title, p.Error)
		}
		if i > 0 && p.Section < ov.Panels[i-1].Section {
			t.Errorf("panel %s/%s (section %s) comes after section %s", p.System, p.Title, p.Section, ov.Panels[i-1].Section)
		}
		panels[p.Title] = p
		bySystem[p.System]++
	}
	for _, system := range []string{"alerting", "remediation", "failover", "events", "certs", "sshca", "metrics"} {
		if bySystem[system] == 0 {
			t.Errorf("no panel from %s; got %v", system, bySystem)
		}
	}
	if len(ov.Panels) == 0 || ov.Panels[0].Title != "Alerts firing" {
		t.Fatalf("the first panel should be what fires now: %+v", ov.Panels)
	}
	if deploys := panels["Deploys"]; len(deploys.Rows) == 0 {
		t.Errorf("the demo's deploys are missing from the overview: %+v", deploys)
	}
	if len(ov.Health) == 0 {
		t.Error("the overview carries no health checks")
	}

	// Every link leads to a page.
	links := map[string]bool{}
	for _, p := range ov.Panels {
		links[p.Link] = true
		for _, r := range p.Rows {
			links[r.Link] = true
		}
	}
	delete(links, "")
	if len(links) < len(ov.Panels) {
		t.Errorf("only %d distinct links in %d panels", len(links), len(ov.Panels))
	}
	for link := range links {
		if resp := srv.Do("GET", link, srv.AdminToken, nil); resp.Status != http.StatusOK {
			t.Errorf("link %s: %d", link, resp.Status)
		}
	}

	// The page shows the same panels, in the same order.
	page := srv.Do("GET", "/", srv.AdminToken, nil)
	if page.Status != http.StatusOK {
		t.Fatalf("GET /: %d %s", page.Status, page.Body)
	}
	html := string(page.Body)
	last := -1
	for _, p := range ov.Panels {
		at := strings.Index(html, `data-system="`+p.System+`"`)
		title := strings.Index(html, ">"+p.Title+"</a></h3>")
		if at < 0 || title < 0 {
			t.Errorf("the page lacks panel %s/%s", p.System, p.Title)
			continue
		}
		if title < last {
			t.Errorf("panel %s/%s is out of order on the page", p.System, p.Title)
		}
		last = title
	}
	if f, c := strings.Index(html, "<h2>Firing now</h2>"), strings.Index(html, "<h2>Recent changes</h2>"); f < 0 || c < 0 || f > c {
		t.Errorf("the page's sections: Firing now at %d, Recent changes at %d", f, c)
	}

	// A token that reads certificates only sees their panel.
	var scoped console.Overview
	srv.Do("GET", "/api/v1/overview", srv.Token("certs:read"), nil).JSON(t, &scoped)
	if len(scoped.Panels) != 1 || scoped.Panels[0].System != "certs" {
		t.Errorf("a certs:read token sees %+v", scoped.Panels)
	}
	if resp := srv.Do("GET", "/api/v1/overview", "", nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.Status)
	}

	out, err := runGaffer(t, "", "overview", "--server", srv.URL, "--token", srv.AdminToken)
	if err != nil {
		t.Fatalf("gaffer overview: %v\n%s", err, out)
	}
	for _, want := range []string{"FIRING NOW", "  Alerts firing: ", "RECENT CHANGES", "  Deploys", "RATES", "samples ingested"} {
		if !strings.Contains(out, want) {
			t.Errorf("gaffer overview lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "FIRING NOW") > strings.Index(out, "RECENT CHANGES") {
		t.Errorf("gaffer overview puts recent changes before what fires:\n%s", out)
	}
	t.Logf("gaffer overview:\n%s", out)
}
