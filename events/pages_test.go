package events_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/browsertest"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func contains(t *testing.T, resp *platformtest.Response, status int, want ...string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
	for _, w := range want {
		if !strings.Contains(string(resp.Body), w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func TestPages(t *testing.T) {
	ts := start(t, platformtest.Backend{}, "")
	r := ts.createRule(map[string]any{"name": "page me", "condition": `type == "gaffer.alerting.firing"`,
		"actions": []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:9/x", "max_attempts": 1}}})
	ts.publish(map[string]any{"id": "p1", "source": "/t", "type": "gaffer.alerting.firing", "data": map[string]any{"n": 1}})
	platformtest.Eventually(t, "dead letter", func() bool {
		var page httpapi.Page[events.DeadLetter]
		must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &page)
		return len(page.Items) == 1
	})
	platformtest.Eventually(t, "event indexed", func() bool { return len(ts.list("").Items) == 1 })
	contains(t, ts.do("GET", "/events", nil), 200, "gaffer.alerting.firing", `id="tail-toggle"`, "/static/events/events.js")
	contains(t, ts.do("GET", "/events?filter=data.n+%3E+5", nil), 200, "No events match")
	contains(t, ts.do("GET", "/events?filter=data.n+%3E", nil), 400, `id="filter-error"`, "Syntax error")
	contains(t, ts.do("GET", "/events/rules", nil), 200, "page me", `evaluated when type == &#34;gaffer.alerting.firing&#34;`, "Disable")
	contains(t, ts.do("GET", "/events/rules/"+r.ID, nil), 200, `value="page me"`, "hx-post=\"/events/rules/check\"")
	contains(t, ts.do("GET", "/events/rules/new", nil), 200, "New rule", "platform.noop")
	contains(t, ts.do("GET", "/events/deadletters", nil), 200, "page me", "Re-drive", "connection refused")
	contains(t, ts.do("GET", "/static/events/events.js", nil), 200, "EventSource")

	// The editor's check and dry run are form posts answered with fragments.
	form := func(v url.Values) string { return v.Encode() }
	check := ts.DoWith("POST", "/events/rules/check", ts.token, "application/x-www-form-urlencoded",
		form(url.Values{"condition": {`type == `}, "actions": {`[]`}}))
	contains(t, check, 200, `id="check-error"`, "Syntax error")
	check = ts.DoWith("POST", "/events/rules/check", ts.token, "application/x-www-form-urlencoded",
		form(url.Values{"condition": {`source == "/t"`}, "actions": {`[{"type":"webhook","url":"http://x/"}]`}}))
	contains(t, check, 200, `id="check-ok"`, "evaluated when source")
	dry := ts.DoWith("POST", "/events/rules/dryrun", ts.token, "application/x-www-form-urlencoded",
		form(url.Values{"condition": {`source == "/t"`}, "actions": {`[{"type":"webhook","url":"http://x/"}]`}, "since": {"1h"}}))
	contains(t, dry, 200, `id="dryrun-result"`, "<strong>1</strong> of 1 events")

	// Saving from the editor: an error re-renders the form with the
	// message; success redirects to the rule.
	bad := ts.DoWith("POST", "/events/rules/save", ts.token, "application/x-www-form-urlencoded",
		form(url.Values{"name": {"new one"}, "condition": {"nope"}, "actions": {`[{"type":"webhook","url":"http://x/"}]`}}))
	contains(t, bad, 400, `id="save-error"`, "undeclared reference")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", ts.URL+"/events/rules/save", strings.NewReader(form(url.Values{"name": {"new one"},
		"condition": {"true"}, "enabled": {"on"}, "actions": {`[{"type":"webhook","url":"http://x/"}]`}})))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/events/rules/rule_") {
		t.Fatalf("save: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	// A fixed time of day: just after midnight, tonight's deploys are not
	// told yet.
	clock := platformtest.Anchored(time.Date(2026, 12, 7, 14, 55, 0, 0, time.UTC))
	srv := platformtest.Start(t, platformtest.Options{Demo: true, DataDir: dir, Now: clock})
	tok := srv.AdminToken
	var rules httpapi.Page[events.Rule]
	must(t, srv.Do("GET", "/api/v1/events/rules", tok, nil), 200).JSON(t, &rules)
	// Without the remediation system the runbook rule is left out.
	if len(rules.Items) != 4 {
		t.Fatalf("%d demo rules, want 4", len(rules.Items))
	}
	// The story's deploys: three nights of 4 services in 3 regions, and
	// the bad one, each started and finished; each copied to the audit
	// stream by a demo rule.
	var list events.EventList
	platformtest.Eventually(t, "demo deploys indexed and routed", func() bool {
		must(t, srv.Do("GET", "/api/v1/events?limit=500", tok, nil), 200).JSON(t, &list)
		return len(list.Items) >= 2*74
	})
	bad := 0
	for _, item := range list.Items {
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(item.Event, &ev); err != nil {
			t.Fatalf("event %s: %v", item.Event, err)
		}
		if ev.Type == "gaffer.deploy.finished" && strings.Contains(string(ev.Data), `"version":"v2.14.0"`) {
			bad++
		}
		if strings.HasPrefix(ev.Type, "gaffer.alerting.") {
			t.Errorf("a synthetic alert event: %s %s", ev.Type, ev.Data)
		}
	}
	if bad != 1 {
		t.Errorf("%d finished deploys of web v2.14.0, want the one that starts the story", bad)
	}
	srv.Shutdown()
	// Loading again changes nothing.
	srv = platformtest.Start(t, platformtest.Options{Demo: true, DataDir: dir, Now: clock})
	must(t, srv.Do("GET", "/api/v1/events/rules", srv.AdminToken, nil), 200).JSON(t, &rules)
	// The deploys (74 events, and their audit copies) again would make
	// well over 200.
	info, err := srv.Deps().Bus.Stream.Info(t.Context())
	if len(rules.Items) != 4 || err != nil || info.State.Msgs > 160 {
		t.Fatalf("after a second load: %d rules, %d events", len(rules.Items), info.State.Msgs)
	}
}

// TestBrowser drives the pages in Chromium: the live tail shows an event
// published meanwhile, and the rule editor shows CEL's error as you type.
func TestBrowser(t *testing.T) {
	ctx := browsertest.New(t, 120*time.Second)
	ts := start(t, platformtest.Backend{}, "")
	if err := browsertest.Login(ctx, ts.URL, ts.AdminToken); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav.side a[href="/events"]`)),
		chromedp.WaitVisible(chromedp.ID("tail-toggle")),
		chromedp.Click(chromedp.ID("tail-toggle")),
		chromedp.WaitVisible(chromedp.ID("tail-status")),
	); err != nil {
		t.Fatalf("start the tail: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("tail-status").textContent.startsWith("Tailing")`)); err != nil {
		t.Fatalf("tail did not connect: %v", err)
	}
	ts.publish(map[string]any{"id": "live-1", "source": "/browser", "type": "gaffer.test.live"})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#event-rows tr.tailed`))); err != nil {
		t.Fatalf("tailed row: %v", err)
	}
	typ, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#event-rows tr.tailed td:nth-child(3)`)))
	if err != nil || typ != "gaffer.test.live" {
		t.Fatalf("tailed row: %q %v", typ, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/events/rules/new"),
		chromedp.WaitVisible(chromedp.ID("condition")),
		chromedp.SendKeys(chromedp.ID("condition"), `data.severity ==`),
		chromedp.WaitVisible(chromedp.ID("check-error")),
	); err != nil {
		t.Fatalf("editor check: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#check pre").textContent.includes("Syntax error")`)); err != nil {
		t.Fatalf("editor check shows no syntax error: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("condition"), ` "critical"`),
		chromedp.WaitVisible(chromedp.ID("check-ok")),
		chromedp.SendKeys(chromedp.ID("name"), "from the browser"),
		chromedp.Click(chromedp.ID("save-rule")),
		chromedp.WaitVisible(chromedp.ID("delete-rule")),
	); err != nil {
		t.Fatalf("save from the editor: %v", err)
	}
	var page httpapi.Page[events.Rule]
	must(t, ts.do("GET", "/api/v1/events/rules", nil), 200).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].Condition != `data.severity == "critical"` || page.Items[0].CreatedBy == "" {
		t.Fatalf("saved %+v", page.Items)
	}

	// Re-drive a dead letter from its page.
	ts.createRule(map[string]any{"name": "to nowhere", "condition": `type == "gaffer.test.dead"`,
		"actions": []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:9/", "max_attempts": 1}}})
	ts.publish(map[string]any{"id": "dead-1", "source": "/browser", "type": "gaffer.test.dead"})
	var dead httpapi.Page[events.DeadLetter]
	platformtest.Eventually(t, "dead letter", func() bool {
		must(t, ts.do("GET", "/api/v1/events/deadletters", nil), 200).JSON(t, &dead)
		return len(dead.Items) == 1
	})
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/events/deadletters"),
		chromedp.Click(chromedp.CSS(`button.redrive`)),
		chromedp.WaitVisible(chromedp.ID("deadletters")),
	); err != nil {
		t.Fatalf("re-drive from the page: %v", err)
	}
	platformtest.Eventually(t, "re-drive recorded", func() bool {
		var d events.DeadLetter
		must(t, ts.do("GET", fmt.Sprintf("/api/v1/events/deadletters/%d", dead.Items[0].ID), nil), 200).JSON(t, &d)
		return d.Redrives == 1
	})
}
