package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
)

type countingRecorder struct{ n int }

func (c *countingRecorder) Record(context.Context, audit.Entry) error { c.n++; return nil }

// TestUnauditedRoutes checks that a public POST marked Unaudited is not
// written to the audit log while other POSTs are, and that a guarded route
// cannot be unaudited.
func TestUnauditedRoutes(t *testing.T) {
	rec := &countingRecorder{}
	rt := NewRouter(Options{Audit: rec})
	ok := func(http.ResponseWriter, *http.Request) error { return nil }
	rt.Handle(Route{Method: "POST", Path: "/ocsp", Public: true, Unaudited: true, Handler: ok})
	rt.Handle(Route{Method: "POST", Path: "/login", Public: true, Handler: ok})
	for _, p := range []string{"/ocsp", "/ocsp", "/login"} {
		rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", p, nil))
	}
	if rec.n != 1 {
		t.Errorf("audited %d calls, want 1 (the login)", rec.n)
	}
	defer func() {
		if recover() == nil {
			t.Error("a guarded route marked Unaudited was accepted")
		}
	}()
	rt.Handle(Route{Method: "POST", Path: "/x", Scope: "events:write", Unaudited: true, Handler: ok})
}

func TestReadScopedRoutesMayBeUnaudited(t *testing.T) {
	rt := NewRouter(Options{})
	ok := func(http.ResponseWriter, *http.Request) error { return nil }
	rt.Handle(Route{Method: "POST", Path: "/query", Scope: "metrics:read", Unaudited: true, Handler: ok})
	defer func() {
		if recover() == nil {
			t.Error("a write-scoped route marked Unaudited was accepted")
		}
	}()
	rt.Handle(Route{Method: "POST", Path: "/write", Scope: "metrics:write", Unaudited: true, Handler: ok})
}

func TestAuditSummaryCountsSuccessesAndKeepsFailures(t *testing.T) {
	rec := &countingRecorder{}
	rt := NewRouter(Options{Audit: rec})
	rt.Handle(Route{Method: "POST", Path: "/ingest", Public: true, AuditSummary: true,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			if r.URL.Query().Get("bad") != "" {
				return BadRequest("bad batch")
			}
			return nil
		}})
	for i := 0; i < 100; i++ {
		rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/ingest", nil))
	}
	rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/ingest?bad=1", nil))
	if rec.n != 1 {
		t.Fatalf("audited %d entries before the flush, want 1 (the failure)", rec.n)
	}
	rt.FlushAudit(context.Background())
	if rec.n != 2 {
		t.Fatalf("audited %d entries after the flush, want 2", rec.n)
	}
}
