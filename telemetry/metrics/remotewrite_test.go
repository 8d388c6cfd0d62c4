package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// sampleSink is a remote-write receiver that keeps every sample by series
// and timestamp, and answers 503 while down is set.
type sampleSink struct {
	down atomic.Bool
	mu   sync.Mutex
	got  map[string]map[int64]float64
}

func (s *sampleSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.down.Load() {
		http.Error(w, "down for the test", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	var req prom.WriteRequest
	if err == nil {
		err = prom.DecodeWriteRequest(raw, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range req.Series {
		k := ts.Labels.String()
		if s.got[k] == nil {
			s.got[k] = map[int64]float64{}
		}
		for _, smp := range ts.Samples {
			s.got[k][smp.Timestamp] = smp.Value
		}
	}
}

// has reports whether the sink holds every sample of series.
func (s *sampleSink) has(series []prom.TimeSeries) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range series {
		got := s.got[ts.Labels.String()]
		for _, smp := range ts.Samples {
			if v, ok := got[smp.Timestamp]; !ok || v != smp.Value {
				return false
			}
		}
	}
	return true
}

func remoteWriteOut(t *testing.T, srv *platformtest.Server) []metrics.RemoteWriteOutStats {
	t.Helper()
	var st metrics.Stats
	r := srv.Do("GET", "/api/v1/metrics/stats", srv.AdminToken, nil)
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatalf("stats: %d %s: %v", r.Status, r.Body, err)
	}
	return st.RemoteWriteOut
}

// TestRemoteWriteOutSurvivesRestart: samples remote-written into Gaffer
// while the receiver is down stay queued on disk through a restart of
// Gaffer and reach the receiver once it is back; retries are counted.
func TestRemoteWriteOutSurvivesRestart(t *testing.T) {
	sink := &sampleSink{got: map[string]map[int64]float64{}}
	rcv := httptest.NewServer(sink)
	defer rcv.Close()
	args := []string{"--metrics-remote-write", rcv.URL + "/api/v1/write", "--metrics-remote-write-max-backoff", "50ms"}
	dir := t.TempDir()
	now := time.Now()
	first, second := counterSeries(now.Add(-time.Hour), 3), counterSeries(now, 3)

	sink.down.Store(true)
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}, DataDir: dir, Args: args, EgressAllow: platformtest.AllowLoopback})
	tok := srv.Token("metrics:write")
	if r := remoteWrite(t, srv, tok, first); r.Status != http.StatusNoContent {
		t.Fatalf("remote write: %d %s", r.Status, r.Body)
	}
	platformtest.Eventually(t, "a retry against the receiver that is down", func() bool {
		out := remoteWriteOut(t, srv)
		return len(out) == 1 && out[0].Retries > 0 && out[0].Pending >= 60
	})
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}

	sink.down.Store(false)
	srv = platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}, DataDir: dir, Args: args, EgressAllow: platformtest.AllowLoopback})
	if r := remoteWrite(t, srv, srv.Token("metrics:write"), second); r.Status != http.StatusNoContent {
		t.Fatalf("remote write: %d %s", r.Status, r.Body)
	}
	platformtest.Eventually(t, "every sample at the receiver", func() bool { return sink.has(first) && sink.has(second) })
	platformtest.Eventually(t, "an empty queue", func() bool {
		out := remoteWriteOut(t, srv)
		return out[0].Pending == 0 && out[0].Dropped == 0 && out[0].Failed == 0
	})
	// The counts are Gaffer's own metrics too (reported every few seconds).
	sent := regexp.MustCompile(`(?m)^gaffer_metrics_remote_write_sent_samples_total\{[^}]*remote="http___127\.0\.0\.1_\d+_api_v1_write"[^}]*\} (\d+)`)
	platformtest.Eventually(t, "the sent samples on /metrics", func() bool {
		srv.MeasureNow(time.Now())
		m := sent.FindStringSubmatch(string(srv.Do("GET", "/metrics", srv.AdminToken, nil).Body))
		if m == nil {
			return false
		}
		// Both batches (one queued through the restart), and the
		// self-metrics that Gaffer stores and so forwards too.
		n, _ := strconv.Atoi(m[1])
		return n >= 120
	})
	body := string(srv.Do("GET", "/metrics", srv.AdminToken, nil).Body)
	for _, name := range []string{"pending_samples", "failed_samples_total", "retries_total", "dropped_samples_total", "queue_bytes"} {
		if !strings.Contains(body, "gaffer_metrics_remote_write_"+name+"{") {
			t.Errorf("/metrics lacks gaffer_metrics_remote_write_%s", name)
		}
	}
}

// rwSeries returns n series, counters and gauges by turns, each with the
// samples k in [from, to) of a 15 s grid whose sample last is at end.
func rwSeries(end time.Time, n, from, to, last int) []prom.TimeSeries {
	var out []prom.TimeSeries
	for i := 0; i < n; i++ {
		ts := prom.TimeSeries{Labels: tsdb.FromStrings("__name__", "rw3_requests_total", "job", "api", "instance", fmt.Sprintf("host-%02d", i))}
		if i%2 == 1 {
			ts.Labels = tsdb.FromStrings("__name__", "rw3_temperature", "job", "api", "instance", fmt.Sprintf("host-%02d", i))
		}
		for k := from; k < to; k++ {
			v := float64(k*(i+1)) + 0.25
			if i%2 == 1 {
				v = 20 + math.Sin(float64(k+i))
			}
			ts.Samples = append(ts.Samples, prom.Sample{Timestamp: end.Add(time.Duration(k-last) * 15 * time.Second).UnixMilli(), Value: v})
		}
		out = append(out, ts)
	}
	return out
}

// rawSamples returns every raw sample of the rw3_ series over the 30
// minutes before at, by series, as the API answers a range selector.
func rawSamples(t *testing.T, c *prom.Client, at time.Time) map[string][]prom.Point {
	t.Helper()
	res, err := c.Query(context.Background(), `{__name__=~"rw3_.*"}[30m]`, at)
	if err != nil {
		t.Fatalf("query %s: %v", c.URL, err)
	}
	out := map[string][]prom.Point{}
	for _, s := range res.Series {
		out[s.Labels.String()] = s.Points
	}
	return out
}

// TestRemoteWriteOutToPrometheus3: what is remote-written into Gaffer
// reaches a real Prometheus 3 receiver sample for sample, including what
// arrives while the receiver is stopped and restarted on the same port
// and data directory.
func TestRemoteWriteOutToPrometheus3(t *testing.T) {
	p := platformtest.StartPrometheus3(t)
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics"}, EgressAllow: platformtest.AllowLoopback,
		Args: []string{"--metrics-remote-write", "http://" + p.Addr + "/api/v1/write", "--metrics-remote-write-max-backoff", "200ms",
			"--metrics-remote-write-batch-samples", "500"}})
	tok := srv.Token("metrics:write")
	end := time.Now().Truncate(time.Second)
	const n, perPhase = 40, 20
	// Every remote write returns once its samples are queued, so nothing
	// pending means all written so far was acknowledged by the receiver
	// (Gaffer's own self-metrics go the same way, hence at least).
	drained := func(want int64) func() bool {
		return func() bool {
			out := remoteWriteOut(t, srv)
			return len(out) == 1 && out[0].Pending == 0 && out[0].Sent >= want && out[0].Failed == 0 && out[0].Dropped == 0
		}
	}
	// writePhase remote-writes a third of the samples, in requests of 5
	// samples per series, as a scraper's remote write sends them.
	writePhase := func(phase int) {
		t.Helper()
		for k := phase * perPhase; k < (phase+1)*perPhase; k += 5 {
			if r := remoteWrite(t, srv, tok, rwSeries(end, n, k, min(k+5, (phase+1)*perPhase), 3*perPhase-1)); r.Status != http.StatusNoContent {
				t.Fatalf("remote write: %d %s", r.Status, r.Body)
			}
		}
	}

	// Phase 1: the receiver is up.
	writePhase(0)
	platformtest.Eventually(t, "phase 1 at the receiver", drained(n*perPhase))

	// Phase 2: the receiver is stopped; Gaffer keeps accepting and queues.
	retries := remoteWriteOut(t, srv)[0].Retries
	p.Stop()
	writePhase(1)
	platformtest.Eventually(t, "a failed attempt while the receiver is down", func() bool {
		out := remoteWriteOut(t, srv)
		return out[0].Retries > retries && out[0].Pending >= n*perPhase
	})
	p.Start()
	// Phase 3: the receiver is back; the queue drains and new samples follow.
	writePhase(2)
	platformtest.Eventually(t, "every sample at the receiver", drained(3*n*perPhase))
	if out := remoteWriteOut(t, srv)[0]; out.Dropped != 0 || out.Failed != 0 {
		t.Fatalf("remote write lost samples: %+v", out)
	}

	gaffer := rawSamples(t, &prom.Client{URL: srv.URL, Token: srv.Token("metrics:read")}, end)
	// Prometheus answers from its head what it has acknowledged, and the
	// sender has seen every acknowledgement.
	receiver := rawSamples(t, &prom.Client{URL: p.URL}, end)
	if len(gaffer) != n || len(receiver) != n {
		t.Fatalf("series: Gaffer %d, receiver %d; want %d each", len(gaffer), len(receiver), n)
	}
	for k, g := range gaffer {
		r := receiver[k]
		if len(g) != 3*perPhase || len(r) != len(g) {
			t.Fatalf("%s: Gaffer holds %d samples, the receiver %d; want %d each", k, len(g), len(r), 3*perPhase)
		}
		for i := range g {
			if g[i] != r[i] {
				t.Fatalf("%s sample %d: Gaffer %+v, receiver %+v", k, i, g[i], r[i])
			}
		}
	}
}
