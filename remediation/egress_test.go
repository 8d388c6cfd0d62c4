package remediation_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// startAllowing starts a test server whose outbound requests may also
// reach the --egress-allow entries allow (e.g. platformtest.AllowLoopback
// for steps that call a test server on 127.0.0.1).
func startAllowing(t testing.TB, allow []string, args ...string) *server {
	t.Helper()
	return startWith(t, platformtest.Options{EgressAllow: allow}, args...)
}

const fetchRunbook = `
name: fetch
params: {type: object, properties: {url: {type: string}}}
steps:
  - name: get
    type: http
    url: "${{ params.url }}"
    retry: {attempts: 3, backoff: 10ms}
`

// TestHTTPStepEgressPolicy: by default an http step cannot reach a
// loopback server (a metadata-like endpoint with a secret), nor
// link-local or private addresses; the step fails at once, without
// retries, saying why and how to allow it. With --egress-allow it can.
func TestHTTPStepEgressPolicy(t *testing.T) {
	var hits atomic.Int32
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"AccessKeyId": "AKIAEXAMPLESECRET"}`)
	}))
	defer secret.Close()

	s := start(t)
	s.apply(fetchRunbook)
	for _, c := range []struct{ url, reason string }{
		{secret.URL + "/latest/meta-data", "loopback"},
		{"http://localhost:" + secret.URL[strings.LastIndex(secret.URL, ":")+1:] + "/", "loopback"},
		{"http://169.254.169.254/latest/meta-data/", "link-local"},
		{"http://10.0.0.1/", "private"},
		{"http://[fd00::1]/", "private"},
	} {
		ex := s.waitStatus(s.run("fetch", map[string]any{"url": c.url}), "failed", "succeeded")
		st := step(ex, "get")
		if ex.Status != "failed" || !strings.Contains(st.Error, "egress policy") || !strings.Contains(st.Error, c.reason) ||
			!strings.Contains(st.Error, "--egress-allow") {
			t.Errorf("%s: %s, step error %q; want failed by the egress policy (%s)", c.url, ex.Status, st.Error, c.reason)
		}
		if st.Attempt != 1 {
			t.Errorf("%s: %d attempts; a refused address is not retried", c.url, st.Attempt)
		}
		if strings.Contains(string(st.Output), "AKIA") {
			t.Errorf("%s: the secret reached the step output: %s", c.url, st.Output)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server was reached %d times under the default policy", n)
	}

	open := startAllowing(t, platformtest.AllowLoopback)
	open.apply(fetchRunbook)
	ex := open.waitStatus(open.run("fetch", map[string]any{"url": secret.URL}), "failed", "succeeded")
	if ex.Status != "succeeded" || hits.Load() != 1 {
		t.Fatalf("with --egress-allow 127.0.0.0/8: %s %s, %d hits", ex.Status, ex.Error, hits.Load())
	}
	// The server's own listener stays refused even with loopback allowed.
	ex = open.waitStatus(open.run("fetch", map[string]any{"url": open.URL + "/api/v1/remediation/runbooks"}), "failed", "succeeded")
	if st := step(ex, "get"); ex.Status != "failed" || !strings.Contains(st.Error, "own listeners") {
		t.Fatalf("own listener: %s, step error %q", ex.Status, st.Error)
	}
}

// TestHTTPStepRedirectIsCheckedAgain: an allowed server that redirects to
// a refused one does not lead the step there.
func TestHTTPStepRedirectIsCheckedAgain(t *testing.T) {
	var hits atomic.Int32
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "secret")
	}))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL, http.StatusFound)
	}))
	defer outer.Close()
	s := startAllowing(t, []string{outer.Listener.Addr().String()}) // only the redirecting server
	s.apply(fetchRunbook)
	ex := s.waitStatus(s.run("fetch", map[string]any{"url": outer.URL}), "failed", "succeeded")
	if st := step(ex, "get"); ex.Status != "failed" || !strings.Contains(st.Error, "loopback") || hits.Load() != 0 {
		t.Fatalf("redirect to a refused address: %s, step error %q, %d hits", ex.Status, st.Error, hits.Load())
	}
}
