package remotewrite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
)

// fakeReceiver decodes remote-write requests and answers each with the
// next status of script (200 once it runs out).
type fakeReceiver struct {
	mu      sync.Mutex
	script  []int
	got     map[string][]int64 // timestamps by metric name
	headers http.Header
	calls   int
}

func (f *fakeReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.headers = r.Header.Clone()
	status := http.StatusOK
	if len(f.script) > 0 {
		status, f.script = f.script[0], f.script[1:]
	}
	if status != http.StatusOK {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		http.Error(w, "scripted failure", status)
		return
	}
	body, _ := io.ReadAll(r.Body)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var req prom.WriteRequest
	if err := prom.DecodeWriteRequest(raw, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	for _, ts := range req.Series {
		for _, s := range ts.Samples {
			f.got[ts.Labels.Metric()] = append(f.got[ts.Labels.Metric()], s.Timestamp)
		}
	}
}

func (f *fakeReceiver) samples() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ts := range f.got {
		n += len(ts)
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !platformtest.WaitFor(20*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSenderRetriesThenDelivers(t *testing.T) {
	rcv := &fakeReceiver{script: []int{503, 503, 429, 500}, got: map[string][]int64{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("s3cret\n"), 0o600)
	q, err := OpenQueue(t.TempDir(), 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var waits []time.Duration
	var wmu sync.Mutex
	s := &Sender{Endpoint: Endpoint{URL: srv.URL + "/api/v1/write", Headers: map[string]string{"X-Scope-OrgID": "team-a"}, BearerTokenFile: tok},
		Queue: q, Options: Options{Shards: 1, BatchSamples: 7, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond},
		HTTP: srv.Client(),
		Wait: func(ctx context.Context, d time.Duration) error {
			wmu.Lock()
			waits = append(waits, d)
			wmu.Unlock()
			return ctx.Err()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for i := 0; i < 5; i++ {
		q.Append(series("a", i*10, 10))
	}
	waitFor(t, "50 samples at the receiver", func() bool { return rcv.samples() == 50 })
	waitFor(t, "the queue to empty", func() bool { return q.Stats().Pending == 0 })
	if got := s.Stats.Retries.Load(); got != 4 {
		t.Errorf("retries = %d, want 4 (503, 503, 429, 500)", got)
	}
	wmu.Lock()
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}
	for i := range want { // the 429's Retry-After: 1 s is capped at the maximum backoff
		if i >= len(waits) || waits[i] != want[i] {
			t.Fatalf("waits = %v, want %v", waits, want)
		}
	}
	wmu.Unlock()
	if s.Stats.Sent.Load() != 50 || s.Stats.Failed.Load() != 0 {
		t.Errorf("sent %d failed %d, want 50 and 0", s.Stats.Sent.Load(), s.Stats.Failed.Load())
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	ts := rcv.got["a"]
	for i := range ts {
		if ts[i] != int64(i)*1000 {
			t.Fatalf("receiver got %v, want 0..49 s in order", ts)
		}
	}
	if h := rcv.headers; h.Get("Authorization") != "Bearer s3cret" || h.Get("X-Scope-OrgID") != "team-a" ||
		h.Get("Content-Encoding") != "snappy" || h.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" {
		t.Errorf("request headers %v lack the bearer token, the configured header or remote write's own", h)
	}
}

func TestSenderDoesNotRetryA4xx(t *testing.T) {
	rcv := &fakeReceiver{script: []int{400}, got: map[string][]int64{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	q, err := OpenQueue(t.TempDir(), 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	s := &Sender{Endpoint: Endpoint{URL: srv.URL}, Queue: q, HTTP: srv.Client(),
		Options: Options{Shards: 3, BatchSamples: 1000, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	q.Append(series("a", 0, 10))
	waitFor(t, "the refused batch to leave the queue", func() bool { return q.Stats().Pending == 0 })
	if s.Stats.Failed.Load() != 10 || s.Stats.Retries.Load() != 0 {
		t.Fatalf("failed %d retries %d, want 10 failed and no retry", s.Stats.Failed.Load(), s.Stats.Retries.Load())
	}
	q.Append(series("b", 0, 10))
	waitFor(t, "the next batch at the receiver", func() bool { return rcv.samples() == 10 })
}

func TestSplitKeepsOrderAndBound(t *testing.T) {
	in := append(series("a", 0, 5), series("b", 0, 4)...)
	reqs := split(in, 3)
	var n []int
	for _, r := range reqs {
		n = append(n, countSamples(r))
	}
	if len(reqs) != 3 || n[0] != 3 || n[1] != 3 || n[2] != 3 {
		t.Fatalf("split into %v samples per request, want [3 3 3]", n)
	}
	if reqs[1][0].Labels.Metric() != "a" || reqs[1][1].Labels.Metric() != "b" || reqs[1][0].Samples[0].Timestamp != 3000 {
		t.Fatalf("second request %+v, want a's last two samples then b's first", reqs[1])
	}
}
