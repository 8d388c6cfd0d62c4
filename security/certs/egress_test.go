package certs_test

import (
	"context"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// trustFile writes the test server's certificate to a PEM file for
// --certs-destination-ca-file.
func trustFile(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "destination-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// countingTLS is an https server that counts the requests it gets.
func countingTLS(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(ts.Close)
	return ts, &hits
}

// TestWebhookDestinationsAreHTTPSOnly: a webhook destination receives the
// private key, so a plain-HTTP URL is refused naming the field, and one
// stored before the rule is not sent to.
func TestWebhookDestinationsAreHTTPSOnly(t *testing.T) {
	hook, hits := countingTLS(t)
	srv, tok := startPKI(t, platformtest.Options{Args: []string{"--certs-destination-ca-file", trustFile(t, hook)}})
	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "web.example.test"})
	path := "/api/v1/certs/certificates/" + c.Serial + "/destinations"
	for _, u := range []string{"http://hooks.example.test/deploy", "HTTP://hooks.example.test/", "ftp://hooks.example.test/", "https://"} {
		resp := mustDo(t, srv, "POST", path, tok, certs.Destination{Kind: "webhook", URL: u}, http.StatusBadRequest)
		if msg := string(resp.Body); !strings.Contains(msg, "url") || !strings.Contains(msg, "https://") {
			t.Errorf("%s: %s, want an error naming url and https://", u, msg)
		}
	}
	mustDo(t, srv, "POST", path, tok, certs.Destination{Kind: "webhook", URL: hook.URL + "/deploy"}, http.StatusCreated)

	// A plain-HTTP destination stored by an older version is not sent to.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(100) }))
	defer plain.Close()
	if _, err := srv.Deps().Store.ExecContext(context.Background(), `INSERT INTO certs_destinations (cert_id, kind, cert_path, key_path, reload_command, url, created_at)
		VALUES (?, 'webhook', '', '', '', ?, 0)`, c.ID, plain.URL); err != nil {
		t.Fatal(err)
	}
	var rot certs.RotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", tok, certs.RotateRequest{Certificates: []string{c.Serial}}, http.StatusMultiStatus).JSON(t, &rot)
	r := rot.Rotated[0]
	if len(r.Deployed) != 1 || len(r.Failed) != 1 || !strings.Contains(r.Failed[0], "https://") {
		t.Fatalf("deployed %v, failed %v; want the https destination deployed and the http one refused", r.Deployed, r.Failed)
	}
	if hits.Load() != 1 {
		t.Fatalf("%d hits: want one on the https destination and none on the plain-HTTP one", hits.Load())
	}
}

// TestCertificateEgressPolicy: under the default policy, scans of
// loopback and link-local addresses are refused up front, a scan target
// named by a name that resolves to loopback is refused when dialled, and
// a webhook destination on loopback is not deployed to.
func TestCertificateEgressPolicy(t *testing.T) {
	tlsSrv, hits := countingTLS(t)
	srv, tok := setupPKI(t, platformtest.Start(t, platformtest.Options{Args: []string{"--certs-destination-ca-file", trustFile(t, tlsSrv)}}))
	addr := tlsSrv.Listener.Addr().String()
	_, port, _ := strings.Cut(addr, "127.0.0.1:")
	for target, reason := range map[string]string{addr: "loopback", "127.0.0.0/30": "loopback", "169.254.169.254:80": "link-local",
		"192.168.0.0/28": "private"} {
		resp := mustDo(t, srv, "POST", "/api/v1/certs/scans", tok, certs.ScanAPIRequest{ScanRequest: certs.ScanRequest{Targets: []string{target}}},
			http.StatusBadRequest)
		if msg := string(resp.Body); !strings.Contains(msg, "egress policy") || !strings.Contains(msg, reason) {
			t.Errorf("scan %s: %s, want refused as %s", target, msg, reason)
		}
	}
	var res certs.ScanResponse
	mustDo(t, srv, "POST", "/api/v1/certs/scans", tok, certs.ScanAPIRequest{ScanRequest: certs.ScanRequest{Targets: []string{"localhost:" + port}}},
		http.StatusOK).JSON(t, &res)
	if res.Found != 0 || len(res.Results) != 1 || !strings.Contains(res.Results[0].Error, "egress policy") {
		t.Errorf("scan of localhost: %+v, want one result refused by the egress policy", res)
	}
	if n := len(listCerts(t, srv, tok, "source=discovered")); n != 0 {
		t.Errorf("%d certificates discovered under the default policy", n)
	}

	c := issue(t, srv, tok, certs.IssueRequest{CommonName: "web.example.test"})
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+c.Serial+"/destinations", tok, certs.Destination{Kind: "webhook", URL: tlsSrv.URL},
		http.StatusCreated)
	var rot certs.RotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/rotate", tok, certs.RotateRequest{Certificates: []string{c.Serial}}, http.StatusMultiStatus).JSON(t, &rot)
	if r := rot.Rotated[0]; len(r.Failed) != 1 || !strings.Contains(r.Failed[0], "egress policy") || !strings.Contains(r.Failed[0], "loopback") {
		t.Fatalf("deploy to a loopback webhook: deployed %v, failed %v", r.Deployed, r.Failed)
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server was reached %d times under the default policy", hits.Load())
	}
}

// TestScheduledScanTargetsMustPassEgress: a server whose
// --certs-scan-targets include an address the egress policy refuses does
// not start, naming the setting; with --egress-allow it does.
func TestScheduledScanTargetsMustPassEgress(t *testing.T) {
	newServer := func(allow []string) error {
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		settings, err := platform.AddModuleFlags(fs)
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.Parse([]string{"--certs-scan-targets", "10.9.0.0/30"}); err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), Roles: []string{certs.Name},
			Settings: settings, EgressAllow: allow}, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
		if err == nil {
			srv.Shutdown()
		}
		return err
	}
	err := newServer(nil)
	if err == nil || !strings.Contains(err.Error(), "--certs-scan-targets") || !strings.Contains(err.Error(), "egress policy") {
		t.Fatalf("refused scan target: %v, want an error naming --certs-scan-targets and the egress policy", err)
	}
	if err := newServer([]string{"10.9.0.0/24"}); err != nil {
		t.Fatalf("with --egress-allow 10.9.0.0/24: %v", err)
	}
}
