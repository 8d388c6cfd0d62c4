package certs_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestDefaultAuthorityIsExplicit is issue #17 item 7: with one issuing
// authority a request may name none; with two it must name one (or the
// server names a default), instead of silently getting the oldest.
func TestDefaultAuthorityIsExplicit(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	req := certs.IssueRequest{CommonName: "api.example.test"}
	if c := issue(t, srv, tok, req); c.Authority != "issuing" {
		t.Fatalf("the only intermediate did not issue: %s", c.Authority)
	}
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{
		Name: "second", Kind: "intermediate", Parent: "root",
		Policy: certs.Policy{AllowedDomains: []string{".example.test"}}}, http.StatusCreated)
	r := mustDo(t, srv, "POST", "/api/v1/certs/certificates", tok, req, http.StatusBadRequest)
	for _, want := range []string{"authority", "issuing, second", "--certs-default-authority"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("ambiguous default: %s; want it to say %q", r.Body, want)
		}
	}
	req.Authority = "second"
	if c := issue(t, srv, tok, req); c.Authority != "second" {
		t.Fatalf("named authority: issued by %s", c.Authority)
	}

	named, ntok := startPKI(t, platformtest.Options{Args: []string{"--certs-default-authority", "issuing"}})
	mustDo(t, named, "POST", "/api/v1/certs/authorities", ntok, certs.CreateAuthorityRequest{
		Name: "second", Kind: "intermediate", Parent: "root"}, http.StatusCreated)
	if c := issue(t, named, ntok, certs.IssueRequest{CommonName: "api.example.test"}); c.Authority != "issuing" {
		t.Fatalf("--certs-default-authority issuing: issued by %s", c.Authority)
	}
}
