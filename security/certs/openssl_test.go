package certs_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestOpenSSLVerifyOCSPAndCRL checks issued chains, OCSP and CRLs with the
// openssl command-line client: verify accepts the chain; OCSP answers good,
// then revoked after a revocation, when the CRL lists the serial too.
func TestOpenSSLVerifyOCSPAndCRL(t *testing.T) { platformtest.EachBackend(t, openSSLVerifyOCSPAndCRL) }

func openSSLVerifyOCSPAndCRL(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	openssl := needOpenSSL(t)
	srv, tok := startPKI(t, o)
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "api.example.test", SANs: []string{"www.example.test", "127.0.0.1"}})
	dir := t.TempDir()
	var root, issuing certs.Authority
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/root", tok, nil, 200).JSON(t, &root)
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/issuing", tok, nil, 200).JSON(t, &issuing)
	rootF := writeFile(t, dir, "root.pem", root.Certificate)
	issuerF := writeFile(t, dir, "issuing.pem", issuing.Certificate)
	leafF := writeFile(t, dir, "leaf.pem", c.Certificate)
	chainF := writeFile(t, dir, "chain.pem", c.Chain)
	if c.Chain != issuing.Certificate {
		t.Errorf("chain is not the issuing CA's certificate")
	}
	out := run(t, openssl, "verify", "-CAfile", rootF, "-untrusted", chainF, "-purpose", "sslserver", leafF)
	if !strings.Contains(out, "OK") {
		t.Fatalf("openssl verify: %s", out)
	}
	askOCSP := func() string {
		return run(t, openssl, "ocsp", "-issuer", issuerF, "-cert", leafF, "-CAfile", rootF,
			"-url", srv.URL+"/api/v1/certs/ocsp/issuing")
	}
	if out := askOCSP(); !strings.Contains(out, leafF+": good") {
		t.Fatalf("openssl ocsp before revocation: %s", out)
	}
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/revoke", tok,
		certs.RevokeRequest{Reason: "key_compromise"}, 200)
	if out := askOCSP(); !strings.Contains(out, leafF+": revoked") || !strings.Contains(out, "keyCompromise") {
		t.Fatalf("openssl ocsp after revocation: %s", out)
	}
	crl := srv.Do("GET", "/api/v1/certs/crl/issuing", "", nil)
	if crl.Status != 200 || crl.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET crl: %d %s", crl.Status, crl.Header.Get("Content-Type"))
	}
	crlF := writeFile(t, dir, "issuing.crl", string(crl.Body))
	text := run(t, openssl, "crl", "-inform", "DER", "-in", crlF, "-noout", "-text", "-CAfile", issuerF)
	if !strings.Contains(strings.ToLower(strings.ReplaceAll(text, ":", "")), c.Serial) {
		t.Fatalf("openssl crl does not list %s:\n%s", c.Serial, text)
	}
	if !strings.Contains(text, "verify OK") {
		t.Errorf("openssl crl did not verify the CRL's signature:\n%s", text)
	}
	// With the CRL, openssl verify now refuses the certificate.
	crlPEM := run(t, openssl, "crl", "-inform", "DER", "-in", crlF)
	crlPEMF := writeFile(t, dir, "issuing-crl.pem", crlPEM)
	cmdOut, _ := runAllowFail(openssl, "verify", "-crl_check", "-CAfile", rootF, "-untrusted", chainF, "-CRLfile", crlPEMF, leafF)
	if !strings.Contains(cmdOut, "certificate revoked") {
		t.Errorf("openssl verify -crl_check: %s", cmdOut)
	}
	// The OCSP GET form (RFC 6960 appendix A.1) answers too.
	run(t, openssl, "ocsp", "-issuer", issuerF, "-cert", leafF, "-CAfile", rootF, "-reqout", filepath.Join(dir, "req.der"), "-url", srv.URL+"/api/v1/certs/ocsp/issuing")
	reqDER, err := os.ReadFile(filepath.Join(dir, "req.der"))
	if err != nil {
		t.Fatal(err)
	}
	resp := srv.Do("GET", "/api/v1/certs/ocsp/issuing/"+url.PathEscape(base64.StdEncoding.EncodeToString(reqDER)), "", nil)
	if resp.Status != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP GET: %d %s", resp.Status, resp.Body)
	}
	parsed, err := ocsp.ParseResponse(resp.Body, nil)
	if err != nil || parsed.Status != ocsp.Revoked || parsed.RevocationReason != ocsp.KeyCompromise {
		t.Errorf("OCSP GET: %v %+v", err, parsed)
	}
	if resp := srv.Do("GET", "/api/v1/certs/ca/issuing", "", nil); resp.Status != http.StatusOK {
		t.Errorf("GET issuer certificate: %d", resp.Status)
	}
}
