package certs_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestDemoAndPages loads the demo data (twice: it is idempotent) and
// renders every page.
func TestDemoAndPages(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Demo: true})
	svc, _ := srv.Deps().Lookup(certs.Name)
	if err := svc.(platform.DemoLoader).LoadDemo(t.Context()); err != nil {
		t.Fatalf("second demo load: %v", err)
	}
	tok := srv.Token(certs.ScopeRead)
	all := listCerts(t, srv, tok, "")
	if len(all) != 8 {
		t.Fatalf("demo inventory has %d certificates, want 8", len(all))
	}
	if n := len(listCerts(t, srv, tok, "expiring=11d")); n != 1 {
		t.Errorf("%d live demo certificates expire within 11 days, want 1", n)
	}
	if n := len(listCerts(t, srv, tok, "status=revoked")); n != 1 {
		t.Errorf("%d revoked", n)
	}
	var replaced certs.Certificate
	for _, c := range listCerts(t, srv, tok, "status=replaced") {
		replaced = c
	}
	pages := map[string][]string{
		"/certs":                {"Expiry timeline", "api.example.com", "data-chart-json"},
		"/certs?status=revoked": {"legacy.demo.internal"},
		"/certs/authorities":    {"demo-root", "demo-issuing", ".demo.internal"},
		"/certs/notifications":  {"api.example.com", "15d"},
		"/certs/c/" + strconv.FormatInt(replaced.ID, 10): {"Lineage", "search.example.com", "replaced"},
	}
	for path, want := range pages {
		resp := srv.Do("GET", path, tok, nil)
		if resp.Status != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.Status)
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(resp.Body), w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
	}
	if resp := srv.Do("GET", "/certs/c/99999", tok, nil); resp.Status != http.StatusNotFound {
		t.Errorf("missing certificate page: %d", resp.Status)
	}
}
