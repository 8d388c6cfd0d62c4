package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestGafferMeasuresItself checks that requests and jobs are measured,
// served on /metrics in Prometheus's format, and stored in Gaffer's own
// time-series store, where PromQL finds them.
func TestGafferMeasuresItself(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{})
	for i := 0; i < 5; i++ {
		srv.Do("GET", "/api/v1/whoami", srv.AdminToken, nil)
	}
	srv.Do("GET", "/api/v1/jobs", "", nil) // a 401
	srv.MeasureNow(time.Now())

	resp := srv.Do("GET", "/metrics", "", nil)
	if resp.Status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	body := string(resp.Body)
	for _, want := range []string{
		`gaffer_http_requests{method="GET",nf_app="gaffer",route="api.v1.whoami",statistic="count",status="200"} 0.5 `,
		`route="api.v1.jobs",statistic="count",status="401"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}

	// Stored under Spectator's dotted name, as spectatord ingest stores it.
	q := url.Values{"query": {`{__name__="gaffer.http.requests",statistic="count",route="api.v1.whoami"}`}}
	resp = srv.Do("GET", "/api/v1/query?"+q.Encode(), srv.Token("metrics:read"), nil)
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"route":"api.v1.whoami"`) {
		t.Fatalf("own metrics not in the store: %d %s", resp.Status, resp.Body)
	}
}
