package metrics_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
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
		return len(out) == 1 && out[0].Retries > 0 && out[0].Pending == 60
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
}
