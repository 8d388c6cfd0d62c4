package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// startPKI starts a server with a root and an issuing intermediate
// ("issuing", allowed under .example.test and .svc.internal) and returns it
// with an admin token. Its egress policy allows loopback unless o says
// otherwise: the tests' TLS endpoints, webhooks and ACME clients listen on
// 127.0.0.1. o.Backend picks the database (platformtest.EachBackend).
func startPKI(t *testing.T, o platformtest.Options) (*platformtest.Server, string) {
	t.Helper()
	if o.EgressAllow == nil {
		o.EgressAllow = platformtest.AllowLoopback
	}
	return setupPKI(t, platformtest.Start(t, o))
}

// setupPKI creates a root and an issuing authority on srv.
func setupPKI(t *testing.T, srv *platformtest.Server) (*platformtest.Server, string) {
	t.Helper()
	tok := srv.AdminToken
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{
		Name: "root", Kind: "root", CommonName: "Gaffer Test Root", Organization: "Gaffer"}, http.StatusCreated)
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{
		Name: "issuing", Kind: "intermediate", Parent: "root", CommonName: "Gaffer Test Issuing CA",
		Policy: certs.Policy{AllowedDomains: []string{".example.test", "example.test", ".svc.internal", "localhost"},
			AllowWildcards: true, AllowIPs: true, MaxValidity: certs.Duration(400 * 24 * 3600e9)}}, http.StatusCreated)
	return srv, tok
}

func mustDo(t *testing.T, srv *platformtest.Server, method, path, tok string, body any, want int) *platformtest.Response {
	t.Helper()
	resp := srv.Do(method, path, tok, body)
	if resp.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	return resp
}

func issue(t *testing.T, srv *platformtest.Server, tok string, req certs.IssueRequest) certs.Certificate {
	t.Helper()
	var c certs.Certificate
	mustDo(t, srv, "POST", "/api/v1/certs/certificates", tok, req, http.StatusCreated).JSON(t, &c)
	return c
}

func needOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed: the real-client test is skipped (apt-get install openssl)")
	}
	return p
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func runAllowFail(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// tlsFront puts an HTTPS reverse proxy in front of srv, serving a
// certificate for 127.0.0.1 that Gaffer itself issued (as a TLS-terminating
// proxy would in production), and returns its URL and a client that
// trusts Gaffer's root.
func tlsFront(t *testing.T, srv *platformtest.Server, tok string) (string, *http.Client) {
	t.Helper()
	c := issue(t, srv, tok, certs.IssueRequest{Authority: "issuing", CommonName: "localhost", SANs: []string{"127.0.0.1"}})
	pemOut := mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/export", srv.AdminToken, nil, http.StatusOK).Body
	pair, err := tls.X509KeyPair(pemOut, pemOut)
	if err != nil {
		t.Fatalf("key pair from export: %v", err)
	}
	var root certs.Authority
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/root", tok, nil, http.StatusOK).JSON(t, &root)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(root.Certificate))
	target, _ := url.Parse(srv.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
		pr.Out.Host = pr.In.Host
	}}
	front := httptest.NewUnstartedServer(proxy)
	front.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	front.StartTLS()
	t.Cleanup(front.Close)
	return front.URL, &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// auditEntries returns audit entries whose action starts with action.
func auditEntries(t *testing.T, srv *platformtest.Server, action string) []audit.Entry {
	t.Helper()
	var page httpapi.Page[audit.Entry]
	mustDo(t, srv, "GET", "/api/v1/audit?limit=1000&action="+url.QueryEscape(action), srv.AdminToken, nil, http.StatusOK).JSON(t, &page)
	return page.Items
}

func listCerts(t *testing.T, srv *platformtest.Server, tok, query string) []certs.Certificate {
	t.Helper()
	var page certs.ListResponse
	mustDo(t, srv, "GET", "/api/v1/certs/certificates?"+query, tok, nil, http.StatusOK).JSON(t, &page)
	return page.Items
}
