package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/clocktest"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

type querier interface {
	Query(context.Context, string, time.Time) (prom.Result, error)
	QueryRange(context.Context, string, time.Time, time.Time, time.Duration) (prom.Result, error)
	DB() *tsdb.DB
}

func metricsService(t *testing.T, srv *platformtest.Server) querier {
	t.Helper()
	svc, ok := srv.Deps().Lookup("metrics")
	if !ok {
		t.Fatal("no metrics service")
	}
	return svc.(querier)
}

func scalar(t *testing.T, q querier, expr string, at time.Time) float64 {
	t.Helper()
	res, err := q.Query(context.Background(), expr, at)
	if err != nil || len(res.Series) != 1 {
		t.Fatalf("%s: %+v %v", expr, res, err)
	}
	return res.Series[0].Points[0].V
}

// TestDemo loads the demo, checks it covers three days at one-minute
// resolution with its incidents, and loads it again into the same data
// directory without changing what is stored.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	// Both servers and the queries read one fixed time, just after a
	// minute boundary: with the wall clock, a second load that started a
	// minute later wrote one more minute inside the queried range.
	now := time.Date(2026, 12, 7, 14, 55, 0, 50e6, time.UTC)
	srv := platformtest.Start(t, platformtest.Options{Demo: true, DataDir: dir, Now: clocktest.Fixed(now)})
	q := metricsService(t, srv)
	if n := scalar(t, q, `count(up)`, now); n != 24 {
		t.Fatalf("%v instances up, want 24", n)
	}
	samples := scalar(t, q, `sum(count_over_time(up[3d]))`, now)
	if samples < 24*(3*1440-1) {
		t.Fatalf("%v samples of up over three days, want one a minute for 24 instances", samples)
	}
	// Each incident shows once in the last three days: a latency spike in
	// eu-west-1's api, a traffic drop in us-west-2's playback.
	lat, err := q.QueryRange(context.Background(),
		`histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{job="api",region="eu-west-1"}[5m])))`,
		now.Add(-72*time.Hour), now, 5*time.Minute)
	if err != nil || len(lat.Series) != 1 {
		t.Fatalf("latency: %v %v", lat, err)
	}
	var lo, hi float64 = 1e9, 0
	for _, p := range lat.Series[0].Points {
		lo, hi = min(lo, p.V), max(hi, p.V)
	}
	if hi < 3*lo {
		t.Errorf("api eu-west-1 p90 latency ranges %.3f..%.3f s: no clear spike", lo, hi)
	}
	// The incident the demo opens on: since a quarter of an hour before
	// the demo started (now), a tenth of web's requests in us-east-1 fail;
	// before it, and elsewhere, almost none do.
	ratio := func(region string, at time.Time) float64 {
		return scalar(t, q, `sum(rate(http_requests_total{job="web",region="`+region+`",code="500"}[5m]))`+
			` / sum(rate(http_requests_total{job="web",region="`+region+`"}[5m]))`, at)
	}
	if r := ratio("us-east-1", now); r < 0.08 || r > 0.12 {
		t.Errorf("web in us-east-1 fails %.3f of its requests at the demo's start, want about 0.1", r)
	}
	if r := ratio("us-east-1", now.Add(-30*time.Minute)); r > 0.01 {
		t.Errorf("web in us-east-1 fails %.3f of its requests before the incident", r)
	}
	if r := ratio("us-west-2", now); r > 0.01 {
		t.Errorf("web in us-west-2 fails %.3f of its requests during us-east-1's incident", r)
	}
	before := scalar(t, q, `sum(count_over_time(http_requests_total[3d]))`, now)
	srv.Shutdown()

	srv2 := platformtest.Start(t, platformtest.Options{Demo: true, DataDir: dir, Now: clocktest.Fixed(now.Add(90 * time.Second))})
	q2 := metricsService(t, srv2)
	after := scalar(t, q2, `sum(count_over_time(http_requests_total[3d]))`, now)
	if after != before {
		t.Fatalf("loading the demo again changed the sample count of the same range: %v, then %v", before, after)
	}
	page := srv2.Do("GET", "/metrics/explore?q="+`sum+by+(region)+(rate(http_requests_total[5m]))`+"&range=3d", srv2.AdminToken, nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), "data-chart-json") || !strings.Contains(string(page.Body), "http_request_duration_seconds_bucket") ||
		!strings.Contains(string(page.Body), "3 series") {
		t.Fatalf("metrics page: %d\n%s", page.Status, page.Body)
	}
	bad := srv2.Do("GET", "/metrics/explore?q=sum(", srv2.AdminToken, nil)
	if bad.Status != 200 || !strings.Contains(string(bad.Body), `id="query-error"`) {
		t.Fatalf("bad query on the page: %d", bad.Status)
	}
}
