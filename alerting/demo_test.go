package alerting_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/alerting"
	_ "github.com/gaffer-sre/gaffer/analysis/correlate" // the correlate system runs in this test's server
	"github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestDemoIncidentFiresAndIsAnalysed is the acceptance test: under --demo
// the latency incident of api in eu-west-1 fires ApiLatencyHigh, whose
// analysis ranks api's own eu-west-1 latency series first.
func TestDemoIncidentFiresAndIsAnalysed(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo loads three days of metrics")
	}
	srv := platformtest.Start(t, platformtest.Options{Demo: true, Roles: []string{"metrics", "correlate", "alerting"}})
	tok := srv.Token(alerting.ReadScope, correlateapi.ReadScope)
	var reports struct {
		Items []correlateapi.Report `json:"items"`
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		srv.Do("GET", "/api/v1/analysis/reports?rule_id=demo-api-latency", tok, nil).JSON(t, &reports)
		if len(reports.Items) > 0 && reports.Items[0].Status == correlateapi.StatusComplete {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no complete report for ApiLatencyHigh: %+v", reports.Items)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(reports.Items) != 1 {
		t.Errorf("%d reports for one incident", len(reports.Items))
	}
	var rep correlateapi.Report
	srv.Do("GET", "/api/v1/analysis/reports/"+reports.Items[0].ID, tok, nil).JSON(t, &rep)
	if tl := rep.Summary.Target.Labels; tl["job"] != "api" || tl["region"] != "eu-west-1" {
		t.Fatalf("analysed %v, want api in eu-west-1", tl)
	}
	for _, r := range rep.Summary.Results[:10] {
		t.Logf("%2d %.3f %s/%s/%s moved %v: %s", r.Rank, r.Score, r.Labels["metric"], r.Labels["instance"], r.Labels["le"], r.MovedAt, r.Explanation.Summary)
	}
	t.Logf("first mover %+v, onset %s, %d candidates", rep.Summary.FirstMover, rep.Summary.Target.Onset, rep.Candidates)
	for _, r := range rep.Summary.Results[:5] {
		l := r.Labels
		related := l["job"] == "api" && l["region"] == "eu-west-1" && strings.HasPrefix(l["metric"], "http_request_duration_seconds")
		if !related {
			var got []string
			for _, x := range rep.Summary.Results[:10] {
				got = append(got, x.Labels["metric"]+"/"+x.Labels["job"]+"/"+x.Labels["le"])
			}
			t.Fatalf("rank %d is %v (score %.2f), not one of api's latency series; top 10: %v", r.Rank, l, r.Score, got)
		}
	}
	// The alert's history and page show it, linked to the report.
	var hist []alerting.Transition
	srv.Do("GET", "/api/v1/alerting/rules/demo-api-latency/history?since=4d", tok, nil).JSON(t, &hist)
	fired := 0
	for _, h := range hist {
		if h.To == alerting.StateFiring {
			fired++
			if h.Labels["job"] != "api" || h.Labels["region"] != "eu-west-1" {
				t.Errorf("fired for %v", h.Labels)
			}
		}
	}
	if fired != 1 {
		t.Errorf("fired %d times in the demo's three days, want once: %+v", fired, hist)
	}
	page := srv.Do("GET", "/alerting/rules/demo-api-latency?s=4d", tok, nil)
	if !strings.Contains(string(page.Body), "/analysis/reports/"+rep.ID) {
		t.Errorf("rule page does not link the report")
	}
}
