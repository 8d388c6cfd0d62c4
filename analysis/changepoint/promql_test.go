package changepoint

import (
	"context"
	"html"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// TestSeriesPromQL segments PromQL range queries over the real metrics
// system: a counter whose rate doubles, read as rate(), and a sum.
func TestSeriesPromQL(t *testing.T) {
	srv, tok, _ := start(t)
	svc, ok := srv.Deps().Lookup("metrics")
	if !ok {
		t.Fatal("metrics system not running")
	}
	now := time.Now().Truncate(time.Minute)
	first := now.Add(-150 * time.Minute)
	shift := first.Add(90 * time.Minute)
	var reqs, lat prom.TimeSeries
	reqs.Labels = tsdb.FromStrings(tsdb.MetricName, "reqs_total", "job", "api")
	lat.Labels = tsdb.FromStrings(tsdb.MetricName, "latency", "job", "api")
	count := 0.0
	rng := rand.New(rand.NewPCG(1, 2))
	for ts := first; !ts.After(now.Add(-time.Minute)); ts = ts.Add(15 * time.Second) {
		rate, l := 10.0, 0.2 // per second; seconds
		if !ts.Before(shift) {
			rate, l = 20, 0.5
		}
		rate += 2 * rng.NormFloat64()
		l += 0.03 * rng.NormFloat64()
		count += rate * 15
		reqs.Samples = append(reqs.Samples, prom.Sample{Value: count, Timestamp: ts.UnixMilli()})
		lat.Samples = append(lat.Samples, prom.Sample{Value: l, Timestamp: ts.UnixMilli()})
	}
	if _, err := svc.(*metrics.Service).Append(context.Background(), []prom.TimeSeries{reqs, lat}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q, method, nBkps string
		means            [2]float64
		changeAfter      time.Duration // the change is reported within this of shift
	}{
		{`rate(reqs_total{job="api"}[1m])`, "binseg", "1", [2]float64{10, 20}, time.Minute},
		{`sum by (job) (latency)`, "", "", [2]float64{0.2, 0.5}, 0}, // Pelt with the BIC penalty
	} {
		q := url.Values{"q": {c.q}, "s": {"now-140m"}, "e": {"now-2m"}, "step": {"1m"}, "jump": {"1"},
			"method": {c.method}, "n_bkps": {c.nBkps}}
		resp := srv.Do("GET", "/api/v1/changepoint/series?"+q.Encode(), tok, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", c.q, resp.Status, resp.Body)
		}
		var got SeriesResponse
		resp.JSON(t, &got)
		if len(got.Series) != 1 || got.Series[0].Labels["job"] != "api" {
			t.Fatalf("%s: %+v", c.q, got)
		}
		sr := got.Series[0]
		if len(sr.ChangePoints) != 1 || sr.ChangePoints[0].Before(shift) || sr.ChangePoints[0].After(shift.Add(c.changeAfter)) {
			t.Errorf("%s: change points %v, want one at %v (+%v)", c.q, sr.ChangePoints, shift, c.changeAfter)
		}
		for i, want := range c.means {
			if len(sr.Segments) != 2 || math.Abs(sr.Segments[i].Mean-want) > 0.05*want {
				t.Errorf("%s: segments %+v, want means %v", c.q, sr.Segments, c.means)
				break
			}
		}
	}
	for q, want := range map[string]int{
		`rate(reqs_total[`:        http.StatusBadRequest,
		`reqs_total[5m]`:          http.StatusBadRequest,
		`"a string"`:              http.StatusBadRequest,
		`nothing_here`:            http.StatusOK,
		`sum(reqs_total) / on(x)`: http.StatusBadRequest,
	} {
		resp := srv.Do("GET", "/api/v1/changepoint/series?"+url.Values{"q": {q}}.Encode(), tok, nil)
		if resp.Status != want {
			t.Errorf("%s: status %d, want %d: %s", q, resp.Status, want, resp.Body)
		}
	}
}

// TestPageDemoExample follows the page's example link on a demo server:
// the demo's error incident is found.
func TestPageDemoExample(t *testing.T) {
	srv, tok, _ := startWith(t, platformtest.Options{Demo: true})
	page := srv.Do("GET", "/changepoint", tok, nil)
	link := regexp.MustCompile(`href="(/changepoint\?[^"]+)" id="cp-example"`).FindSubmatch(page.Body)
	if link == nil {
		t.Fatal("no example link")
	}
	resp := srv.Do("GET", html.UnescapeString(string(link[1])), tok, nil)
	body := html.UnescapeString(string(resp.Body))
	if resp.Status != http.StatusOK || !strings.Contains(body, `class="mono bkp"`) || strings.Contains(body, `class="error"`) {
		t.Fatalf("example: status %d: %s", resp.Status, body)
	}
	// The incident is a change (two when it lies inside the range).
	if n := strings.Count(body, `class="mono bkp"`); n < 2 {
		t.Errorf("example: %d segments, want the incident's change", n)
	}
}
