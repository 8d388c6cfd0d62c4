package benchserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/cli"
)

// TestWaitReady waits through 503 answers to the first 200.
func TestWaitReady(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	c, err := (&cli.ClientFlags{Server: srv.URL, Timeout: 5 * time.Second}).PublicClient()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := WaitReady(ctx, c); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d probes, want 3 (two 503s, then 200)", n)
	}
}

// TestWaitReadyGivesUp returns the context's error, with the last
// answer, when the server never gets ready.
func TestWaitReadyGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := (&cli.ClientFlags{Server: srv.URL, Timeout: 5 * time.Second}).PublicClient()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = WaitReady(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "/readyz") {
		t.Fatalf("WaitReady = %v, want the deadline and the last answer of /readyz", err)
	}
	if calls.Load() == 0 {
		t.Fatal("WaitReady gave up without asking")
	}
}

// TestPooled keeps the server, token and TLS pin and replaces only the
// HTTP client.
func TestPooled(t *testing.T) {
	c := &cli.Client{Server: "http://127.0.0.1:1", Token: "gft_x", HTTP: &http.Client{}}
	p := Pooled(c, 32, 7*time.Second)
	if p.Server != c.Server || p.Token != c.Token || p.TLS != c.TLS {
		t.Fatalf("Pooled changed the target: %+v", p)
	}
	if p.HTTP == c.HTTP || p.HTTP.Timeout != 7*time.Second {
		t.Fatalf("Pooled HTTP client: %+v", p.HTTP)
	}
	tr, ok := p.HTTP.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost != 32 {
		t.Fatalf("Pooled transport: %#v", p.HTTP.Transport)
	}
	if c.HTTP.Timeout != 0 || c.HTTP.Transport != nil {
		t.Fatal("Pooled changed the original client")
	}
}

// TestStartMissingBinary names the binary that could not start.
func TestStartMissingBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "no-gaffer")
	if _, err := Start(Config{Bin: bin, DataDir: t.TempDir()}); err == nil {
		t.Fatal("Start of a missing binary succeeded")
	}
}
