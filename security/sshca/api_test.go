package sshca

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// testServer is a Gaffer server with the SSH CA.
type testServer struct {
	*platformtest.Server
	t testing.TB
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	return startOn(t, platformtest.Backend{})
}

// startOn starts the server on a backend of platformtest.EachBackend (the
// zero Backend is SQLite in the data directory).
func startOn(t testing.TB, b platformtest.Backend) *testServer {
	t.Helper()
	t.Setenv(KEKEnv, "")
	t.Setenv(KEKFileEnv, "")
	srv := platformtest.Start(t, platformtest.Options{Backend: b, Roles: []string{"sshca"}})
	return &testServer{Server: srv, t: t}
}

// identityToken creates a token bound to identity with scopes.
func (s *testServer) identityToken(identity string, scopes ...string) string {
	s.t.Helper()
	_, secret, err := s.Deps().Tokens.Create(context.Background(), auth.CreateRequest{Name: identity, Identity: identity, Scopes: scopes})
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

func (s *testServer) service() *Service {
	svc, ok := s.Deps().Lookup("sshca")
	if !ok {
		s.t.Fatal("sshca service not running")
	}
	return svc.(*Service)
}

func pubLine(k ssh.PublicKey) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) }

// sign posts a sign request and returns the response.
func (s *testServer) sign(token string, req SignRequest) *platformtest.Response {
	s.t.Helper()
	return s.Do("POST", "/api/v1/sshca/sign", token, req)
}

func mustCert(t testing.TB, resp *platformtest.Response) (Cert, *ssh.Certificate) {
	t.Helper()
	if resp.Status != http.StatusCreated {
		t.Fatalf("sign: %d %s", resp.Status, resp.Body)
	}
	var rec Cert
	resp.JSON(t, &rec)
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(rec.Certificate))
	if err != nil {
		t.Fatalf("certificate %q: %v", rec.Certificate, err)
	}
	return rec, pub.(*ssh.Certificate)
}

func TestSignFlow(t *testing.T) { platformtest.EachBackend(t, testSignFlow) }

func testSignFlow(t *testing.T, b platformtest.Backend) {
	srv := startOn(t, b)
	alice := srv.identityToken("alice", ScopeSign)
	key := newUserKey(t)
	before := time.Now()
	resp := srv.sign(alice, SignRequest{PublicKey: pubLine(key.PublicKey())})
	rec, cert := mustCert(t, resp)
	if cert.CertType != ssh.UserCert || len(cert.ValidPrincipals) != 1 || cert.ValidPrincipals[0] != "alice" {
		t.Fatalf("certificate: type %d principals %v", cert.CertType, cert.ValidPrincipals)
	}
	validity := time.Unix(int64(cert.ValidBefore), 0).Sub(before)
	if validity < 4*time.Minute || validity > 6*time.Minute {
		t.Errorf("default validity %s, want 5m", validity)
	}
	if back := before.Sub(time.Unix(int64(cert.ValidAfter), 0)); back < 110*time.Second || back > 3*time.Minute {
		t.Errorf("valid-after backdated by %s, want about 2m", back)
	}
	requestID := resp.Header.Get("X-Request-ID")
	for _, want := range []string{"request[" + requestID + "]", "for[alice]", "from[127.0.0.1]",
		"ssh_key[" + ssh.FingerprintSHA256(key.PublicKey()) + "]", "valid_to["} {
		if !strings.Contains(cert.KeyId, want) {
			t.Errorf("key ID %q lacks %q", cert.KeyId, want)
		}
	}
	if _, ok := cert.Extensions["permit-pty"]; !ok {
		t.Errorf("extensions %v lack permit-pty", cert.Extensions)
	}
	checkWithSSHKeygen(t, rec.Certificate, "alice")

	// The issuance is audited explicitly, besides the router's entry.
	entries, _, err := srv.Deps().Audit.List(context.Background(), audit.Filter{Action: "sshca.certificate.issued"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "alice" || !strings.Contains(entries[0].Target, fmt.Sprint(rec.Serial)) {
		t.Fatalf("issuance audit: %v %+v", err, entries)
	}

	// The certificate is listed and found by search.
	var page struct{ Items []Cert }
	reader := srv.Token(ScopeRead)
	srv.Do("GET", "/api/v1/sshca/certs?q=alice", reader, nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].Serial != rec.Serial || page.Items[0].Status != "valid" {
		t.Fatalf("search: %+v", page.Items)
	}
	if got := srv.Do("GET", fmt.Sprintf("/api/v1/sshca/certs/%d", rec.Serial), reader, nil); got.Status != 200 {
		t.Fatalf("get cert: %d %s", got.Status, got.Body)
	}

	// Revoking by serial puts it in the KRL and marks it.
	admin := srv.AdminToken
	if r := srv.Do("POST", "/api/v1/sshca/revocations", admin, RevokeRequest{Serial: fmt.Sprint(rec.Serial), Reason: "test"}); r.Status != 201 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	krlResp := srv.Do("GET", "/api/v1/sshca/krl", "", nil)
	krl, err := ParseKRL(krlResp.Body)
	if err != nil || !krl.IsRevoked(cert) {
		t.Fatalf("KRL: %v, revokes the certificate: %v", err, err == nil && krl.IsRevoked(cert))
	}
	checkRevokedWithSSHKeygen(t, krlResp.Body, rec.Certificate)
	srv.Do("GET", "/api/v1/sshca/certs?status=revoked", reader, nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].RevokedAt == nil {
		t.Fatalf("revoked certs: %+v", page.Items)
	}
	plain := srv.Do("GET", "/api/v1/sshca/revoked-keys", "", nil)
	if !strings.Contains(string(plain.Body), pubLine(key.PublicKey())) {
		t.Fatalf("revoked-keys file lacks the key:\n%s", plain.Body)
	}

	// Revoking the public key stops it being signed again.
	if r := srv.Do("POST", "/api/v1/sshca/revocations", admin, RevokeRequest{PublicKey: pubLine(key.PublicKey())}); r.Status != 201 {
		t.Fatalf("revoke key: %d %s", r.Status, r.Body)
	}
	if r := srv.sign(alice, SignRequest{PublicKey: pubLine(key.PublicKey())}); r.Status != http.StatusForbidden {
		t.Fatalf("signing a revoked key: %d %s", r.Status, r.Body)
	}
}

// checkWithSSHKeygen has OpenSSH parse a certificate.
func checkWithSSHKeygen(t *testing.T, certLine, principal string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Log("ssh-keygen not on PATH: certificate not checked with OpenSSH")
		return
	}
	p := writeFile(t, t.TempDir(), "c-cert.pub", []byte(certLine+"\n"))
	out := keygenList(t, p)
	if !strings.Contains(out, principal) || !strings.Contains(out, "Signing CA") {
		t.Fatalf("ssh-keygen -L:\n%s", out)
	}
}

func checkRevokedWithSSHKeygen(t *testing.T, krl []byte, certLine string) {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		return
	}
	dir := t.TempDir()
	if !keygenQuery(t, writeFile(t, dir, "krl", krl), writeFile(t, dir, "c.pub", []byte(certLine+"\n"))) {
		t.Fatal("ssh-keygen -Q does not find the revoked certificate in the KRL")
	}
}

func TestSignRefusals(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a := srv.service().Authority()
	if _, err := a.PutPolicy(ctx, Policy{Name: "ops", Identities: []string{"olga"}, Principals: []string{"{{identity}}", "*"},
		MaxValidity: "1h", SourceAddresses: []string{"10.0.0.0/8", "127.0.0.1"}, ForceCommand: "/usr/bin/true"}, "test"); err != nil {
		t.Fatal(err)
	}
	alice := srv.identityToken("alice", ScopeSign)
	olga := srv.identityToken("olga", ScopeSign)
	anonymous := srv.Token(ScopeSign)
	good := pubLine(newUserKey(t).PublicKey())
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPub, _ := ssh.NewPublicKey(&rsaKey.PublicKey)
	certLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(testCert(t, newUserKey(t), newUserKey(t).PublicKey(), 1, "x"))))
	for _, c := range []struct {
		name   string
		token  string
		req    SignRequest
		status int
		reason string
	}{
		{"malformed key", alice, SignRequest{PublicKey: "ssh-ed25519 AAAAnotbase64"}, 400, "public_key"},
		{"empty key", alice, SignRequest{}, 400, "public_key: required"},
		{"certificate as key", alice, SignRequest{PublicKey: certLine}, 400, "is a certificate"},
		{"two keys", alice, SignRequest{PublicKey: good + "\n" + good}, 400, "one line"},
		{"small RSA", alice, SignRequest{PublicKey: pubLine(rsaPub)}, 403, "smaller than the 3072 bits"},
		{"over-long validity", alice, SignRequest{PublicKey: good, Validity: "2h"}, 403, "longer than the 5m0s"},
		{"bad validity", alice, SignRequest{PublicKey: good, Validity: "soon"}, 400, "validity"},
		{"other principal", alice, SignRequest{PublicKey: good, Principals: []string{"bob"}}, 403, "is not allowed for alice"},
		{"principal with space", alice, SignRequest{PublicKey: good, Principals: []string{"a b"}}, 400, "principals[0]"},
		{"blocklisted username", olga, SignRequest{PublicKey: good, Principals: []string{"root"}}, 403, "blocklist"},
		{"bad username", olga, SignRequest{PublicKey: good, Principals: []string{"Olga!"}}, 403, "does not match"},
		{"source outside", olga, SignRequest{PublicKey: good, SourceAddresses: []string{"192.168.1.0/24"}}, 403, "outside"},
		{"other force-command", olga, SignRequest{PublicKey: good, ForceCommand: "/bin/sh"}, 403, "forces"},
		{"unknown extension", alice, SignRequest{PublicKey: good, Extensions: []string{"permit-everything"}}, 400, "extensions[0]"},
		{"no identity", anonymous, SignRequest{PublicKey: good}, 403, "not bound to an identity"},
		{"host cert without policy", alice, SignRequest{PublicKey: good, CertType: "host", Principals: []string{"h.example.com"}}, 403, "no policy"},
		{"id token without OIDC", alice, SignRequest{PublicKey: good, IDToken: "x.y.z"}, 400, "id_token"},
	} {
		resp := srv.sign(c.token, c.req)
		if resp.Status != c.status || !strings.Contains(string(resp.Body), c.reason) {
			t.Errorf("%s: %d %s; want %d mentioning %q", c.name, resp.Status, resp.Body, c.status, c.reason)
		}
	}
	if r := srv.Do("POST", "/api/v1/sshca/sign", alice, `{"public_key": "x", "principle": ["a"]}`); r.Status != 400 ||
		!strings.Contains(string(r.Body), "principle") {
		t.Errorf("unknown field: %d %s", r.Status, r.Body)
	}
	certs, _, err := a.ListCerts(ctx, CertFilter{})
	if err != nil || len(certs) != 0 {
		t.Fatalf("refused requests issued certificates: %v %d", err, len(certs))
	}
	refused, _, err := srv.Deps().Audit.List(ctx, audit.Filter{Action: "sshca.certificate.refused", Limit: 100})
	if err != nil || len(refused) != 18 {
		t.Fatalf("refusals audited: %v %d, want 18", err, len(refused))
	}
	// olga's allowed request gets the forced command and the source-address.
	_, cert := mustCert(t, srv.sign(olga, SignRequest{PublicKey: good, SourceAddresses: []string{"10.1.0.0/16"}, Validity: "30m"}))
	if cert.CriticalOptions["force-command"] != "/usr/bin/true" || cert.CriticalOptions["source-address"] != "10.1.0.0/16" {
		t.Fatalf("critical options %v", cert.CriticalOptions)
	}
}
