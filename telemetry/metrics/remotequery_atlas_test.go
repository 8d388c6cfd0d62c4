package metrics_test

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	_ "github.com/gaffer-sre/gaffer/telemetry/atlas"
	"github.com/gaffer-sre/gaffer/telemetry/prom/promtest"
)

// TestAtlasGraphsReadTheRemote: with --metrics-query-url, Atlas graphs
// read the remote backend (here another Gaffer's Prometheus API) and
// answer exactly as the remote's own Atlas does from its store: the same
// series, legends and values, step windows and means included, and the
// same tag keys and values.
func TestAtlasGraphsReadTheRemote(t *testing.T) {
	src := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics", "atlas"}})
	end := time.Now().Truncate(time.Minute)
	for _, batch := range promtest.AlertData(end) {
		if r := remoteWrite(t, src, src.Token("metrics:write"), batch); r.Status != 204 {
			t.Fatalf("remote write: %d %s", r.Status, r.Body)
		}
	}
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(src.Token("metrics:read")), 0o600)
	reader := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics", "atlas"}, EgressAllow: platformtest.AllowLoopback,
		Args: []string{"--metrics-query-url", src.URL, "--metrics-query-bearer-token-file", tokFile}})
	e := end.Format(time.RFC3339)
	for _, q := range []string{
		"name,rq_latency_seconds,:eq,(,job,),:by",
		"name,rq_latency_seconds,:eq,instance,i[0-2],:re,:and,:max",
		"name,rq_requests_total,:eq,:sum",
		"name,rq_latency_seconds,:eq,job,job1,:eq,:or,:count",
	} {
		for _, step := range []string{"1m", "90s"} {
			v := url.Values{"q": {q}, "s": {"e-45m"}, "e": {e}, "step": {step}, "format": {"json"}}
			path := "/api/v1/graph?" + v.Encode()
			w := src.Do("GET", path, src.Token("atlas:read"), nil)
			g := reader.Do("GET", path, reader.Token("atlas:read"), nil)
			if w.Status != 200 || g.Status != 200 || string(g.Body) != string(w.Body) {
				t.Errorf("%s step %s: through the remote %d %.300s\n from the store %d %.300s", q, step, g.Status, g.Body, w.Status, w.Body)
			}
		}
	}
	for _, path := range []string{"/api/v1/tags?q=name,rq_latency_seconds,:eq", "/api/v1/tags/instance?q=name,rq_requests_total,:eq"} {
		w := src.Do("GET", path, src.Token("atlas:read"), nil)
		g := reader.Do("GET", path, reader.Token("atlas:read"), nil)
		if w.Status != 200 || string(g.Body) != string(w.Body) {
			t.Errorf("GET %s: through the remote %d %s, from the store %d %s", path, g.Status, g.Body, w.Status, w.Body)
		}
	}
}
