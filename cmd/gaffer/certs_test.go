package main

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestCertsCLI drives gaffer certs against a server: create authorities,
// issue with a local key, list, rotate, scan, export and revoke.
func TestCertsCLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"certs"}, EgressAllow: platformtest.AllowLoopback}) // scans 127.0.0.1
	admin := srv.AdminToken
	mustCLI(t, srv, admin, "certs", "ca", "create", "root", "--kind", "root", "--org", "Gaffer")
	mustCLI(t, srv, admin, "certs", "ca", "create", "issuing", "--parent", "root", "--allowed-domain", ".example.test", "--allow-ips")
	if out := mustCLI(t, srv, admin, "certs", "ca", "list"); !strings.Contains(out, "issuing") || !strings.Contains(out, "root") {
		t.Fatalf("ca list: %s", out)
	}
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "web.crt"), filepath.Join(dir, "web.key")
	mustCLI(t, srv, admin, "certs", "issue", "--cn", "web.example.test", "--san", "127.0.0.1", "--validity", "20d",
		"--owner", "alice", "--out-cert", crt, "--out-key", key)
	pair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatalf("issued files do not form a key pair: %v", err)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode())
	}
	if _, err := gafferCLI(t, srv, admin, "certs", "issue", "--cn", "web.evil.com", "--out-key", filepath.Join(dir, "x")); err == nil ||
		!strings.Contains(err.Error(), "allowed domains") {
		t.Errorf("issue outside the policy: %v", err)
	}
	mustCLI(t, srv, admin, "certs", "issue", "--cn", "kept.example.test", "--server-key", "--out-cert", filepath.Join(dir, "kept.crt"))
	out := mustCLI(t, srv, admin, "certs", "list", "--expiring", "30d", "-o", "json")
	var listed []certs.Certificate
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 || listed[0].CommonName != "web.example.test" {
		t.Fatalf("list --expiring 30d: %v %s", err, out)
	}
	serial := listed[0].Serial
	if out := mustCLI(t, srv, admin, "certs", "list"); strings.Count(out, "example.test") != 2 {
		t.Errorf("list: %s", out)
	}
	// Scan a TLS server that uses the issued pair.
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	ts.StartTLS()
	defer ts.Close()
	if out := mustCLI(t, srv, admin, "certs", "scan", ts.Listener.Addr().String()); !strings.Contains(out, serial) {
		t.Errorf("scan: %s", out)
	}
	if out := mustCLI(t, srv, admin, "certs", "show", serial); !strings.Contains(out, ts.Listener.Addr().String()) && !strings.Contains(out, "alice") {
		t.Errorf("show: %s", out)
	}
	kept := mustCLI(t, srv, admin, "certs", "list", "--q", "kept", "-o", "json")
	var k []certs.Certificate
	json.Unmarshal([]byte(kept), &k)
	if out := mustCLI(t, srv, admin, "certs", "rotate", k[0].Serial); !strings.Contains(out, k[0].Serial) {
		t.Errorf("rotate: %s", out)
	}
	exp := filepath.Join(dir, "kept.pem")
	mustCLI(t, srv, admin, "certs", "export", k[0].Serial, "--out", exp)
	if b, _ := os.ReadFile(exp); !strings.Contains(string(b), "PRIVATE KEY") {
		t.Errorf("export wrote %q", b)
	}
	if _, err := gafferCLI(t, srv, srv.Token(certs.ScopeWrite), "certs", "export", k[0].Serial); err == nil {
		t.Error("export with certs:write succeeded")
	}
	if out := mustCLI(t, srv, admin, "certs", "revoke", serial, "--reason", "key_compromise"); !strings.Contains(out, "key_compromise") {
		t.Errorf("revoke: %s", out)
	}
	if out := mustCLI(t, srv, admin, "certs", "list", "--status", "revoked"); !strings.Contains(out, serial) {
		t.Errorf("list --status revoked: %s", out)
	}
	if out := mustCLI(t, srv, admin, "certs", "bulk", "revoke", "--owner", "nobody"); !strings.Contains(out, "0 certificates") {
		t.Errorf("bulk: %s", out)
	}
}

// TestCertsExpiryRoutedByEvents checks the seam between the certificate
// manager and the event platform: an expiry notification is a CloudEvent
// that an events rule routes to a webhook.
func TestCertsExpiryRoutedByEvents(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"certs", "events"}, EgressAllow: platformtest.AllowLoopback}) // the webhook is on 127.0.0.1
	admin := srv.AdminToken
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}))
	defer hook.Close()
	resp := srv.Do("POST", "/api/v1/events/rules", admin, map[string]any{"name": "certs expiring",
		"condition": `type == "gaffer.certs.expiring" && data.days_left < 20 && !data.auto_rotate`,
		"actions":   []map[string]any{{"type": "webhook", "url": hook.URL}}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", resp.Status, resp.Body)
	}
	mustCLI(t, srv, admin, "certs", "ca", "create", "root", "--kind", "root")
	mustCLI(t, srv, admin, "certs", "ca", "create", "issuing", "--parent", "root", "--allowed-domain", ".example.test")
	mustCLI(t, srv, admin, "certs", "issue", "--cn", "soon.example.test", "--validity", "10d", "--owner", "alice", "--server-key")
	mustCLI(t, srv, admin, "certs", "issue", "--cn", "later.example.test", "--validity", "60d", "--server-key")
	if resp := srv.Do("POST", "/api/v1/certs/check", admin, nil); resp.Status != http.StatusOK {
		t.Fatalf("check: %d %s", resp.Status, resp.Body)
	}
	platformtest.Eventually(t, "the expiry event at the webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	data, _ := got[0]["data"].(map[string]any)
	if got[0]["type"] != certs.ExpiringEventType || data["common_name"] != "soon.example.test" || data["owner"] != "alice" || len(got) != 1 {
		t.Errorf("delivered %v", got)
	}
}
