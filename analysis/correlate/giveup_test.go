package correlate_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/analysis/correlate"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// TestIdleQueueCompletes: a candidate whose median before the onset is
// 0 — an idle queue that fills with the incident — ranks first, and the
// report completes with its relative shift "n/a" and the reason (a NaN
// there once failed every finalize attempt and left the report running).
func TestIdleQueueCompletes(t *testing.T) {
	end := clocktest.Base.Truncate(time.Minute).Add(-time.Minute)
	srv := platformtest.Start(t, platformtest.Options{Now: clocktest.Fixed(end.Add(time.Minute))})
	incident(t, srv, end)
	svc, _ := srv.Deps().Lookup("metrics")
	app := svc.(*metrics.Service).DB().Appender()
	start := end.Add(-399 * time.Minute)
	for m := range 400 {
		for q := range 8 {
			v := 0.0
			if q == 0 && m >= 299 {
				v = float64(20 + (m*7)%5)
			}
			ls := tsdb.FromStrings("__name__", "queue_depth", "queue", fmt.Sprintf("q%d", q))
			if _, err := app.Append(0, ls, start.Add(time.Duration(m)*time.Minute).UnixMilli(), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	req := request(end, "jobs")
	req["candidates"] = map[string]any{"query": "queue_depth"}
	var rep correlate.Report
	resp := srv.Do("POST", "/api/v1/analysis/correlate?wait=60", srv.Token(correlate.WriteScope), req)
	if resp.Status != http.StatusOK {
		t.Fatalf("correlate: %d %s", resp.Status, resp.Body)
	}
	resp.JSON(t, &rep)
	if rep.Status != correlate.StatusComplete {
		t.Fatalf("report %s: status %s (%s)", rep.ID, rep.Status, rep.Error)
	}
	top := rep.Summary.Results[0]
	if top.Labels["queue"] != "q0" {
		t.Fatalf("top result %v, want queue q0", top.Labels)
	}
	if ex := top.Explanation; ex.Relative != nil || !strings.HasPrefix(ex.RelativeNote, "n/a: ") {
		t.Errorf("relative shift of an idle queue = %v, note %q; want n/a and why", ex.Relative, ex.RelativeNote)
	}
}

// TestReportFailsWhenItsJobGivesUp: a finalize job that cannot succeed
// (here: the report's inputs are gone) fails the report with the
// reason, which the API, the CLI and the page show, instead of leaving
// it running.
func TestReportFailsWhenItsJobGivesUp(t *testing.T) {
	end := clocktest.Base.Truncate(time.Minute).Add(-time.Minute)
	srv := platformtest.Start(t, platformtest.Options{Now: clocktest.Fixed(end.Add(time.Minute))})
	incident(t, srv, end)
	tok := srv.Token(correlate.WriteScope)
	var rep correlate.Report
	srv.Do("POST", "/api/v1/analysis/correlate?wait=60", tok, request(end, "jobs")).JSON(t, &rep)
	if rep.Status != correlate.StatusComplete {
		t.Fatalf("report %s: status %s (%s)", rep.ID, rep.Status, rep.Error)
	}
	// Make it look interrupted before its finalize ran, with its inputs
	// lost, then run the finalize job again.
	if _, err := srv.Deps().Store.ExecContext(t.Context(), "UPDATE analysis_reports SET status = ? WHERE id = ?", correlate.StatusRunning, rep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Deps().Jobs.Enqueue(t.Context(), correlate.FinalizeJob, map[string]any{"report_id": rep.ID}, nil); err != nil {
		t.Fatal(err)
	}
	var got correlate.Report
	platformtest.Eventually(t, "the report to fail", func() bool {
		srv.Do("GET", "/api/v1/analysis/reports/"+rep.ID, tok, nil).JSON(t, &got)
		return got.Status == correlate.StatusFailed
	})
	if want := "analysis.correlate.finalize job gave up at attempt 1: report " + rep.ID + ": gone"; !strings.Contains(got.Error, want) {
		t.Errorf("error %q, want it to contain %q", got.Error, want)
	}
	page := srv.Do("GET", "/analysis/reports/"+rep.ID, tok, nil)
	if !strings.Contains(string(page.Body), `id="report-error"`) || !strings.Contains(string(page.Body), "gave up") {
		t.Errorf("the report page does not show the failure:\n%s", page.Body)
	}
}
