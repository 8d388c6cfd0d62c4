package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/alerting"
	"github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"
	"github.com/gaffer-sre/gaffer/events"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/gaffer-sre/gaffer/remediation"
)

// logBuffer collects a server's log lines for a test to read meanwhile.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDemoTellsOneStory is issue 17's item 4: `serve --demo` opens on one
// incident that every page tells. The bad deploy's errors fire WebErrors
// through the real evaluator while ApiLatencyHigh stays quiet; the alert
// is analysed; its notification, a real gaffer.alerting.firing event, is
// matched by the demo's rules, which page and run demo-restart on the
// in-process demo agent; a silence and the read-only demo token exist;
// and the log holds no warning or error meanwhile.
func TestDemoTellsOneStory(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo loads three days of metrics")
	}
	var log logBuffer
	// A fixed time of day, between the demo's recurring incidents (phase
	// 2335 of 4320 minutes), that then moves on with the wall clock so
	// that rules are evaluated and notifications sent.
	base := time.Date(2026, 12, 7, 14, 55, 0, 0, time.UTC)
	srv := platformtest.Start(t, platformtest.Options{Demo: true, Log: &log, Now: platformtest.Anchored(base)})
	tok := srv.AdminToken
	wait := func(what string, cond func() bool) {
		t.Helper()
		if !platformtest.WaitFor(5*time.Minute, cond) {
			t.Fatalf("timed out waiting for %s; the log:\n%s", what, log.String())
		}
	}

	// The alert fires from the demo's metrics, unmuted, and is analysed.
	var fired *alerting.Alert
	wait("WebErrors firing for web in us-east-1", func() bool {
		var alerts []*alerting.Alert
		srv.Do("GET", "/api/v1/alerting/alerts?state=firing", tok, nil).JSON(t, &alerts)
		for _, a := range alerts {
			if a.Labels["alertname"] == "WebErrors" && a.Labels["job"] == "web" && a.Labels["region"] == "us-east-1" &&
				len(a.Silenced) == 0 && len(a.InhibitedBy) == 0 && a.ReportID != "" {
				fired = a
				return true
			}
		}
		return false
	})
	var quiet []*alerting.Alert
	srv.Do("GET", "/api/v1/alerting/alerts?state=firing&rule_id=demo-api-latency", tok, nil).JSON(t, &quiet)
	if len(quiet) != 0 {
		t.Errorf("ApiLatencyHigh fires between its incidents: %+v", quiet)
	}
	wait("the analysis of the firing alert", func() bool {
		var rep correlateapi.Report
		srv.Do("GET", "/api/v1/analysis/reports/"+fired.ReportID, tok, nil).JSON(t, &rep)
		if rep.Status != correlateapi.StatusComplete {
			return false
		}
		if tl := rep.Summary.Target.Labels; tl["job"] != "web" || tl["region"] != "us-east-1" {
			t.Fatalf("the report analysed %v, not web in us-east-1", tl)
		}
		return true
	})

	// The real notification is routed by the demo's rules: a page for
	// WebErrors, from the alerting system's own event.
	wait("the page for WebErrors", func() bool {
		var list events.EventList
		srv.Do("GET", "/api/v1/events?type=gaffer.pager.paged&limit=50", tok, nil).JSON(t, &list)
		for _, item := range list.Items {
			var ev struct {
				Data struct {
					Alert  string            `json:"alert"`
					Labels map[string]string `json:"labels"`
				} `json:"data"`
			}
			json.Unmarshal(item.Event, &ev)
			if ev.Data.Alert == "WebErrors" && ev.Data.Labels["job"] == "web" {
				return true
			}
		}
		return false
	})
	var alertEvents events.EventList
	srv.Do("GET", "/api/v1/events?type=gaffer.alerting.*&limit=500", tok, nil).JSON(t, &alertEvents)
	for _, item := range alertEvents.Items {
		var ev struct{ Source string }
		json.Unmarshal(item.Event, &ev)
		if ev.Source != "/gaffer/alerting" {
			t.Errorf("an alert event not from the alerting system: %s", item.Event)
		}
	}

	// The rule ran demo-restart on the demo agent, and it succeeded.
	wait("demo-restart succeeded on demo-agent", func() bool {
		var page struct{ Items []remediation.Execution }
		srv.Do("GET", "/api/v1/remediation/executions?runbook=demo-restart", tok, nil).JSON(t, &page)
		for _, ex := range page.Items {
			if ex.Status == "succeeded" && ex.Trigger.Kind == "event" && strings.Contains(string(ex.Params), `"agent":"demo-agent"`) {
				return true
			}
			if ex.Status == "failed" {
				t.Fatalf("demo-restart failed: %s", ex.Error)
			}
		}
		return false
	})

	// A silence and the demo token are there to be seen.
	var silences []*alerting.Silence
	srv.Do("GET", "/api/v1/alerting/silences", tok, nil).JSON(t, &silences)
	if len(silences) != 1 || silences[0].State != "active" || !strings.Contains(strings.Join(silences[0].Matchers, ","), "TrafficDrop") {
		t.Errorf("silences %+v, want the demo's active one on TrafficDrop", silences)
	}
	list, err := srv.Deps().Tokens.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	named := false
	for _, tk := range list {
		named = named || tk.Name == server.DemoTokenName
	}
	if !named {
		t.Errorf("no %s token", server.DemoTokenName)
	}

	// The log is read after the work that recurs every minute has run
	// (a rule evaluated twice, live, spans a minute): a dead webhook or a
	// failing loop would have warned by then.
	wait("two live evaluations of every demo rule", func() bool {
		var rules []alerting.RuleView
		srv.Do("GET", "/api/v1/alerting/rules", tok, nil).JSON(t, &rules)
		n := 0
		for _, r := range rules {
			if r.Health.Evaluations >= 2 {
				n++
			}
		}
		return len(rules) == 4 && n == len(rules)
	})
	if bad := regexp.MustCompile(`(?m)^.*level=(WARN|ERROR).*$`).FindAllString(log.String(), -1); len(bad) > 0 {
		t.Errorf("the demo logged %d warnings or errors:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
