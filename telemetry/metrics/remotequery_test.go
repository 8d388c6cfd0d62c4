package metrics_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/prom/promtest"
)

// startMetrics runs a metrics service with set, allowed to reach
// loopback, until the test ends; as in `gaffer worker` when worker.
func startMetrics(t *testing.T, set *metrics.Settings, worker bool) *metrics.Service {
	t.Helper()
	pol, err := egress.Parse(platformtest.AllowLoopback)
	if err != nil {
		t.Fatal(err)
	}
	deps := &platform.Deps{Log: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), Egress: pol, Worker: worker,
		Settings: map[string]any{metrics.Name: set}}
	svc, err := metrics.New(context.Background(), deps)
	if err != nil {
		t.Fatal(err)
	}
	m := svc.(*metrics.Service)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()) })
	return m
}

// TestRemoteQueryThroughGafferAPI: a Gaffer reading another Gaffer's
// Prometheus API (with a bearer token file) answers queries, series,
// label names and values as that Gaffer does, and a wrong token is an
// error that names the remote, not an empty answer.
func TestRemoteQueryThroughGafferAPI(t *testing.T) {
	src := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}})
	end := time.Now().Truncate(time.Minute)
	for _, batch := range promtest.AlertData(end) {
		if r := remoteWrite(t, src, src.Token("metrics:write"), batch); r.Status != 204 {
			t.Fatalf("remote write: %d %s", r.Status, r.Body)
		}
	}
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(src.Token("metrics:read")+"\n"), 0o600)
	set := metrics.DefaultSettings()
	set.Query.URL, set.Query.BearerTokenFile = src.URL, tokFile
	viaRemote := startMetrics(t, set, false)
	// A worker has no store of its own; with the remote it answers
	// queries, which is how analysis runs on workers.
	worker := startMetrics(t, set, true)
	if worker.DB() != nil {
		t.Fatal("a worker opened a store")
	}
	reader := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}, EgressAllow: platformtest.AllowLoopback,
		Args: []string{"--metrics-query-url", src.URL, "--metrics-query-bearer-token-file", tokFile}})

	for _, expr := range []string{`sum by (job) (rate(rq_requests_total[5m]))`, `rq_latency_seconds`, `max_over_time(rq_latency_seconds[7m])`} {
		want, err := src.Deps().Lookup(metrics.Name)
		if !err {
			t.Fatal("no metrics service")
		}
		w, err2 := want.(*metrics.Service).QueryRange(context.Background(), expr, end.Add(-40*time.Minute), end, time.Minute)
		g, err3 := viaRemote.QueryRange(context.Background(), expr, end.Add(-40*time.Minute), end, time.Minute)
		wk, err4 := worker.QueryRange(context.Background(), expr, end.Add(-40*time.Minute), end, time.Minute)
		if err2 != nil || err3 != nil || err4 != nil {
			t.Fatalf("%s: %v, %v, %v", expr, err2, err3, err4)
		}
		if len(w.Series) == 0 || !reflect.DeepEqual(g.Series, w.Series) || !reflect.DeepEqual(wk.Series, w.Series) {
			t.Errorf("%s through the remote:\n got  %v\n worker %v\n want %v", expr, g.Series, wk.Series, w.Series)
		}
	}
	for _, path := range []string{
		"/api/v1/series?match[]=rq_latency_seconds",
		"/api/v1/labels",
		"/api/v1/label/instance/values?match[]=rq_requests_total",
		"/api/v1/query?query=count(rq_latency_seconds)&time=" + prom.FormatTime(end),
	} {
		w := src.Do("GET", path, src.Token("metrics:read"), nil)
		g := reader.Do("GET", path, reader.Token("metrics:read"), nil)
		if w.Status != 200 || g.Status != 200 || string(g.Body) != string(w.Body) {
			t.Errorf("GET %s: the reader answers %d %s, the source %d %s", path, g.Status, g.Body, w.Status, w.Body)
		}
	}

	os.WriteFile(tokFile, []byte("not-a-token"), 0o600)
	if _, err := viaRemote.Query(context.Background(), "rq_latency_seconds", end); err == nil || !strings.Contains(err.Error(), src.URL) {
		t.Fatalf("query with a bad token: %v; want an error naming the remote", err)
	}
}
