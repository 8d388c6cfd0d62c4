package failover_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/demand/failover"
	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestDemoAndPages loads the demo and visits every failover page: the
// regions, plans (with the diff), executions and exercises (with the
// timeline chart), and posts each form.
func TestDemoAndPages(t *testing.T) {
	// 05:57 on a Monday: the hour at which the demo's latest incident
	// was once too old for its last-week baseline.
	now := platformtest.Anchored(time.Date(2026, 12, 7, 5, 57, 0, 0, time.UTC))
	srv, svc := start(t, platformtest.Options{Demo: true, Now: now})
	// The demo's recommendation of the latest us-west-2 incident.
	var recs struct{ Items []failover.Recommendation }
	call(t, srv, "GET", "/api/v1/failover/recommendations?fleet=demo", nil, 200, &recs)
	if len(recs.Items) != 1 || recs.Items[0].Region != "us-west-2" || recs.Items[0].Evidence.LastWeek == nil {
		t.Fatalf("demo recommendations: %+v", recs.Items)
	}
	// Its exercises finish, with and without dark capacity.
	xs, err := svc.Exercises(t.Context(), 10)
	if err != nil || len(xs) != 2 {
		t.Fatalf("demo exercises: %v %v", xs, err)
	}
	for _, x := range xs {
		x = ptr(waitExercise(t, srv, x.ID))
		if !x.Report.Evacuated {
			t.Errorf("demo exercise %s: %+v", x.ID, x.Report)
		}
	}
	var plans struct{ Items []failover.PlanSummary }
	call(t, srv, "GET", "/api/v1/failover/plans?fleet=demo", nil, 200, &plans)
	if len(plans.Items) != 1 || plans.Items[0].Status != "feasible" {
		t.Fatalf("demo plans: %+v", plans.Items)
	}
	var rec failover.PlanRecord
	call(t, srv, "GET", "/api/v1/failover/plans/"+plans.Items[0].ID, nil, 200, &rec)
	for g, src := range rec.Forecast {
		if src != "history" {
			t.Errorf("demo plan's %s demand is %s, want a forecast from the metric's history", g, src)
		}
	}

	page := func(path, want string) string {
		t.Helper()
		resp := srv.Do("GET", path, srv.AdminToken, nil)
		if resp.Status != 200 || !strings.Contains(string(resp.Body), want) {
			t.Fatalf("GET %s: %d, want %q in:\n%.3000s", path, resp.Status, want, resp.Body)
		}
		return string(resp.Body)
	}
	page("/failover", `id="recommendations"`)
	page("/failover/fleets/demo", `id="clusters"`)
	page("/failover/fleets/demo?q=playback", "playback-us-west-2")
	page("/failover/plans", rec.ID)
	body := page("/failover/plans/"+rec.ID, `id="diff"`)
	for _, want := range []string{"steering na-west", `id="execute"`, "Flip DNS"} {
		if !strings.Contains(body, want) {
			t.Errorf("plan page lacks %q", want)
		}
	}
	page("/failover/exercises", "Run exercise")
	body = page("/failover/exercises/"+xs[0].ID, `<svg class="chart" id="timeline"`)
	if n := strings.Count(body, "<rect "); n < 5 {
		t.Errorf("timeline has %d bars", n)
	}
	page("/failover/executions", xs[0].ExecutionID)
	page("/failover/executions/"+xs[0].ExecutionID, `id="steps"`)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(path string, values url.Values, want int) *platformtest.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		r, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d: %.2000s", path, r.StatusCode, want, b)
		}
		return &platformtest.Response{Status: r.StatusCode, Header: r.Header, Body: b}
	}
	// Import: a mistake is shown with its line; a good document redirects.
	resp := form("/failover/fleets", url.Values{"yaml": {"name: x\nregions: [{name: r, max_share: 3}]\n"}}, http.StatusBadRequest)
	if !strings.Contains(string(resp.Body), "line 2: <span class=\"mono\">regions[0].max_share</span>") {
		t.Errorf("import error not shown:\n%s", resp.Body)
	}
	resp = form("/failover/fleets", url.Values{"yaml": {string(testYAML(t))}}, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/failover/fleets/streaming" {
		t.Errorf("import redirects to %q", resp.Header.Get("Location"))
	}
	form("/failover/fleets/streaming/clusters", url.Values{"cluster": {"api-us-east-1"}, "size": {"95"}, "startup": {"3m"}}, http.StatusSeeOther)
	resp = form("/failover/fleets/streaming/clusters", url.Values{"cluster": {"api-us-east-1"}, "size": {"9999"}}, http.StatusBadRequest)
	if !strings.Contains(string(resp.Body), "services[1].clusters[0].size") {
		t.Errorf("cluster error not shown")
	}
	resp = form("/failover/fleets/streaming/plans", url.Values{"region": {"eu-west-1"}, "percent": {"40"}}, http.StatusSeeOther)
	planPath := resp.Header.Get("Location")
	resp = form(planPath+"/execute", nil, http.StatusSeeOther)
	execPath := resp.Header.Get("Location")
	id := strings.TrimPrefix(execPath, "/failover/executions/")
	ex := waitExecution(t, srv, id, "the end", statusIs(failover.ExecSucceeded, failover.ExecFailed))
	if ex.Status != failover.ExecSucceeded {
		t.Fatalf("%s", describe(ex))
	}
	form(execPath+"/rollback", nil, http.StatusSeeOther)
	waitExecution(t, srv, id, "rolled back", statusIs(failover.ExecRolledBack))
	resp = form(execPath+"/resume", nil, http.StatusConflict)
	if !strings.Contains(string(resp.Body), "not paused") {
		t.Errorf("conflict not shown")
	}
	resp = form("/failover/exercises", url.Values{"regions": {"3"}, "clusters": {"5"}, "evacuate": {"eu-west-1"}, "dark": {"1"}}, http.StatusSeeOther)
	if !regexp.MustCompile(`^/failover/exercises/xr_[0-9a-f]+$`).MatchString(resp.Header.Get("Location")) {
		t.Errorf("exercise redirects to %q", resp.Header.Get("Location"))
	}
	form("/failover/exercises", url.Values{"regions": {"1"}}, http.StatusBadRequest)
	form("/failover/fleets/streaming/darkpools", nil, http.StatusSeeOther)
}

func ptr[T any](v T) *T { return &v }

// TestDemoRecommendationAcrossPeriod starts the demo at four times spread
// over its three-day incident period (at hours that are not multiples of
// one another): each time, the latest us-west-2 incident is recommended
// with both baselines. TestDemoDetectAtAnyTime checks the window
// arithmetic at every 7 minutes; this checks the data behind it.
func TestDemoRecommendationAcrossPeriod(t *testing.T) {
	var times []time.Time
	for k := range 4 {
		times = append(times, clocktest.Base.Add(time.Duration(k)*(18*time.Hour+7*time.Minute)))
	}
	clocktest.Sweep(t, times, func(t *testing.T, at time.Time) {
		srv, _ := start(t, platformtest.Options{Demo: true, Now: platformtest.Anchored(at)})
		var recs struct{ Items []failover.Recommendation }
		call(t, srv, "GET", "/api/v1/failover/recommendations?fleet=demo", nil, 200, &recs)
		if len(recs.Items) != 1 {
			t.Fatalf("at %s: %d recommendations, want 1: %+v", at, len(recs.Items), recs.Items)
		}
		e := recs.Items[0].Evidence
		if recs.Items[0].Region != "us-west-2" || e.Yesterday == nil || e.LastWeek == nil {
			t.Fatalf("at %s: recommendation %+v", at, recs.Items[0])
		}
	})
}
