package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/remediation"
)

// TestEgressRunbookHTTPStepEndToEnd runs the real binary: a runbook http
// step aimed at a loopback server holding a secret fails under the
// default policy without reaching it, and succeeds once the server is
// restarted with --egress-allow naming the address.
func TestEgressRunbookHTTPStepEndToEnd(t *testing.T) {
	var hits atomic.Int32
	metadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"SecretAccessKey": "wJalrXUtnFEMI-example"}`)
	}))
	defer metadata.Close()
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	s := &remediationServer{bin: bin, dir: dir}
	serve := func(extra ...string) {
		s.proc = platformtest.StartServe(t, bin, dir, append([]string{"--job-poll-interval", "50ms"}, extra...)...)
		b, err := os.ReadFile(filepath.Join(dir, "admin.token"))
		if err != nil {
			t.Fatal(err)
		}
		s.admin = strings.TrimSpace(string(b))
	}
	serve()
	applyRunbook(t, s, `name: metadata
steps:
  - name: fetch
    type: http
    url: "`+metadata.URL+`/latest/meta-data/iam/security-credentials/"
    retry: {attempts: 3, backoff: 10ms}
`)
	ex := s.waitExec(t, runRunbook(t, s, "metadata", nil), func(e remediation.Execution) bool { return e.FinishedAt != nil })
	st := stepNamed(ex, "fetch")
	if ex.Status != "failed" || !strings.Contains(st.Error, "egress policy") || !strings.Contains(st.Error, "loopback") ||
		!strings.Contains(st.Error, "--egress-allow") {
		t.Fatalf("default policy: %s, step error %q; want refused as a loopback address", ex.Status, st.Error)
	}
	if hits.Load() != 0 || strings.Contains(string(st.Output), "wJalr") {
		t.Fatalf("default policy: the loopback server was reached %d times; output %s", hits.Load(), st.Output)
	}

	if err := s.proc.Signal(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	host := strings.TrimPrefix(metadata.URL, "http://")
	serve("--egress-allow", host)
	ex = s.waitExec(t, runRunbook(t, s, "metadata", nil), func(e remediation.Execution) bool { return e.FinishedAt != nil })
	if ex.Status != "succeeded" || hits.Load() != 1 {
		t.Fatalf("--egress-allow %s: %s %s, %d hits", host, ex.Status, ex.Error, hits.Load())
	}
}
