package certs_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

func csrPEM(t *testing.T, cn string, dns ...string) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// TestBadInputIsRefusedAndAudited sends malformed CSRs, names outside the
// policy, wildcard abuse and over-long validity: each gets a 4xx that says
// why, is audited as a failure, and issues nothing.
func TestBadInputIsRefusedAndAudited(t *testing.T) {
	srv, _ := startPKI(t, platformtest.Options{})
	tok := srv.Token(certs.ScopeWrite)
	goodCSR := csrPEM(t, "ok.example.test")
	tampered := strings.Replace(goodCSR, goodCSR[100:104], "AAAA", 1)
	cases := []struct {
		name   string
		req    certs.IssueRequest
		status int
		reason string
	}{
		{"garbage CSR", certs.IssueRequest{CSR: "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n"}, 400, "CSR"},
		{"tampered CSR", certs.IssueRequest{CSR: tampered}, 400, "CSR"},
		{"CSR of another type", certs.IssueRequest{CSR: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, 400, "CSR"},
		{"disallowed domain", certs.IssueRequest{CommonName: "www.evil.com"}, 422, "not in this authority's allowed domains"},
		{"disallowed domain in CSR", certs.IssueRequest{CSR: csrPEM(t, "a.example.test", "b.evil.com")}, 422, "b.evil.com"},
		{"wildcard over a public suffix", certs.IssueRequest{CommonName: "*.com"}, 422, "wildcard"},
		{"wildcard inside a label", certs.IssueRequest{CommonName: "w*.example.test"}, 422, "wildcard must be the whole leftmost label"},
		{"double wildcard", certs.IssueRequest{CommonName: "*.*.example.test"}, 422, "wildcard"},
		{"bare wildcard", certs.IssueRequest{CommonName: "*"}, 422, ""},
		{"public suffix", certs.IssueRequest{CommonName: "co.uk"}, 422, "public suffix"},
		{"over-long validity", certs.IssueRequest{CommonName: "long.example.test", Validity: certs.Duration(5 * 365 * 24 * 3600e9)}, 422, "exceeds this authority's maximum"},
		{"negative validity", certs.IssueRequest{CommonName: "neg.example.test", Validity: -1}, 422, "negative"},
		{"unknown key type", certs.IssueRequest{CommonName: "k.example.test", KeyType: "dsa-1024"}, 400, "unknown key type"},
		{"unknown authority", certs.IssueRequest{CommonName: "k.example.test", Authority: "nope"}, 404, "nope"},
		{"root as issuer", certs.IssueRequest{CommonName: "k.example.test", Authority: "root"}, 400, "root"},
		{"no names", certs.IssueRequest{}, 422, "at least one name"},
	}
	for _, c := range cases {
		resp := srv.Do("POST", "/api/v1/certs/certificates", tok, c.req)
		if resp.Status != c.status || !strings.Contains(string(resp.Body), c.reason) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, resp.Status, resp.Body, c.status, c.reason)
		}
	}
	if got := listCerts(t, srv, tok, ""); len(got) != 0 {
		t.Errorf("refused requests issued %d certificates", len(got))
	}
	failed := 0
	for _, e := range auditEntries(t, srv, "certs.certificate.issue") {
		if e.Outcome == "failure" && e.Detail != "" {
			failed++
		}
	}
	if failed != len(cases) {
		t.Errorf("audited %d refusals with a reason, want %d", failed, len(cases))
	}
	// Malformed JSON and unknown fields are 400s naming the problem.
	if resp := srv.Do("POST", "/api/v1/certs/certificates", tok, `{"common_name": 5}`); resp.Status != 400 {
		t.Errorf("wrong type: %d", resp.Status)
	}
	if resp := srv.Do("POST", "/api/v1/certs/certificates", tok, `{"cn": "x"}`); resp.Status != 400 || !strings.Contains(string(resp.Body), "cn") {
		t.Errorf("unknown field: %d %s", resp.Status, resp.Body)
	}
}

// TestLintRefusal checks that a certificate zlint finds errors in is
// refused, audited, and not stored: a "webpki" authority refuses names
// that are not in public DNS.
func TestLintRefusal(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	mustDo(t, srv, "PUT", "/api/v1/certs/authorities/issuing/policy", tok, certs.Policy{LintProfile: certs.LintWebPKI}, http.StatusOK)
	resp := srv.Do("POST", "/api/v1/certs/certificates", tok, certs.IssueRequest{CommonName: "db.corp.internal"})
	if resp.Status != 422 || resp.ErrorCode() != "lint" || !strings.Contains(string(resp.Body), "e_") {
		t.Fatalf("lint refusal: %d %s", resp.Status, resp.Body)
	}
	if got := listCerts(t, srv, tok, ""); len(got) != 0 {
		t.Errorf("a refused certificate was stored")
	}
	if e := auditEntries(t, srv, "certs.certificate.issue"); len(e) == 0 || e[0].Outcome != "failure" || !strings.Contains(e[0].Detail, "zlint") {
		t.Errorf("lint refusal not audited: %+v", e)
	}
}

// TestIssueFromCSRAndInventory issues from a CSR (Gaffer holds no key),
// with a generated RSA and ed25519 key, and checks the inventory's
// filters, lineage and updates.
func TestIssueFromCSRAndInventory(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, backend platformtest.Backend) {
		srv, tok := startPKI(t, platformtest.Options{Backend: backend})
		a := issue(t, srv, tok, certs.IssueRequest{CSR: csrPEM(t, "csr.example.test", "alt.example.test"), Owner: "alice", Team: "edge"})
		if a.HasKey || a.CommonName != "csr.example.test" || len(a.Names) != 2 {
			t.Errorf("from CSR: %+v", a)
		}
		b := issue(t, srv, tok, certs.IssueRequest{CommonName: "rsa.svc.internal", KeyType: certs.KeyRSA2048, Validity: certs.Duration(10 * 24 * 3600e9), Owner: "bob"})
		c := issue(t, srv, tok, certs.IssueRequest{CommonName: "ed.svc.internal", KeyType: certs.KeyEd25519, Owner: "bob", Notes: "the ed one"})
		if !b.HasKey || b.KeyAlgorithm != certs.KeyRSA2048 || c.KeyAlgorithm != certs.KeyEd25519 {
			t.Errorf("generated keys: %s %s", b.KeyAlgorithm, c.KeyAlgorithm)
		}
		if b.Status != "expiring" || b.DaysLeft != 9 {
			t.Errorf("10-day certificate: status %s, %d days left", b.Status, b.DaysLeft)
		}
		for q, want := range map[string]int{
			"": 3, "owner=bob": 2, "expiring=30d": 1, "domain=.svc.internal": 2, "domain=alt.example.test": 1,
			"authority=issuing": 3, "q=the+ed": 1, "status=active": 3, "status=revoked": 0, "q=" + a.Serial: 1,
		} {
			if got := listCerts(t, srv, tok, q); len(got) != want {
				t.Errorf("?%s: %d certificates, want %d", q, len(got), want)
			}
		}
		page1 := listCerts(t, srv, tok, "limit=2")
		if len(page1) != 2 {
			t.Errorf("limit=2 gave %d", len(page1))
		}
		var upd certs.Certificate
		mustDo(t, srv, "PATCH", "/api/v1/certs/certificates/"+strconv.FormatInt(b.ID, 10), tok,
			map[string]any{"owner": "carol", "notify_days": []int{7, 1}, "auto_rotate": true}, http.StatusOK).JSON(t, &upd)
		if upd.Owner != "carol" || len(upd.NotifyDays) != 2 || !upd.AutoRotate {
			t.Errorf("update: %+v", upd)
		}
		var rot certs.RotateResponse
		mustDo(t, srv, "POST", "/api/v1/certs/rotate", tok, certs.RotateRequest{Certificates: []string{b.Serial}}, http.StatusOK).JSON(t, &rot)
		var lineage []certs.Certificate
		mustDo(t, srv, "GET", "/api/v1/certs/certificates/"+b.Serial+"/lineage", tok, nil, http.StatusOK).JSON(t, &lineage)
		if len(lineage) != 2 || lineage[0].ID != b.ID || lineage[1].ID != rot.Rotated[0].New.ID || lineage[0].Status != "replaced" {
			t.Errorf("lineage: %+v", lineage)
		}
		if n := rot.Rotated[0].New; n.Owner != "carol" || n.KeyAlgorithm != certs.KeyRSA2048 || *n.Replaces != b.ID {
			t.Errorf("replacement keeps owner, key type and lineage: %+v", n)
		}
	})
}

// TestExportNeedsAdmin checks that private keys leave only through an
// admin export, audited, as PEM or PKCS #12.
func TestExportNeedsAdmin(t *testing.T) {
	srv, admin := startPKI(t, platformtest.Options{})
	writer := srv.Token(certs.ScopeWrite)
	c := issue(t, srv, writer, certs.IssueRequest{CommonName: "export.example.test"})
	if strings.Contains(c.Certificate+c.Chain, "PRIVATE KEY") {
		t.Fatal("issuance returned a private key")
	}
	path := "/api/v1/certs/certificates/" + c.Serial + "/export"
	if resp := srv.Do("POST", path, writer, nil); resp.Status != http.StatusForbidden {
		t.Fatalf("export with certs:write: %d", resp.Status)
	}
	if resp := srv.Do("POST", "/api/v1/certs/authorities/issuing/export", writer, nil); resp.Status != http.StatusForbidden {
		t.Fatalf("authority export with certs:write: %d", resp.Status)
	}
	pemOut := mustDo(t, srv, "POST", path, admin, nil, http.StatusOK).Body
	if !strings.Contains(string(pemOut), "BEGIN PRIVATE KEY") || strings.Count(string(pemOut), "BEGIN CERTIFICATE") != 2 {
		t.Errorf("PEM export: %s", pemOut)
	}
	if resp := srv.Do("POST", path, admin, certs.ExportRequest{Format: "pkcs12"}); resp.Status != 400 {
		t.Errorf("PKCS #12 without a password: %d", resp.Status)
	}
	p12 := mustDo(t, srv, "POST", path, admin, certs.ExportRequest{Format: "pkcs12", Password: "correct horse"}, http.StatusOK).Body
	key, leaf, chain, err := pkcs12.DecodeChain(p12, "correct horse")
	if err != nil || key == nil || certs.SerialHex(leaf) != c.Serial || len(chain) != 1 {
		t.Errorf("PKCS #12: %v", err)
	}
	exports := 0
	for _, e := range auditEntries(t, srv, "certs.certificate.export") {
		if e.Outcome == "success" && strings.Contains(e.Target, c.Serial) {
			exports++
		}
	}
	denied := auditEntries(t, srv, "certs.certificate.export")
	if exports != 2 || denied[len(denied)-1].Outcome != "denied" {
		t.Errorf("audited %d successful exports (want 2); first entry %+v", exports, denied[len(denied)-1])
	}
	// A CSR-issued certificate has no key to export.
	d := issue(t, srv, writer, certs.IssueRequest{CSR: csrPEM(t, "nokey.example.test")})
	if resp := srv.Do("POST", "/api/v1/certs/certificates/"+d.Serial+"/export", admin, nil); resp.Status != 400 {
		t.Errorf("export without a key: %d", resp.Status)
	}
}

// TestOfflineRoot takes the root's key out of Gaffer and brings it back.
func TestOfflineRoot(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	keyPEM := mustDo(t, srv, "POST", "/api/v1/certs/authorities/root/export", tok, nil, http.StatusOK).Body
	var a certs.Authority
	mustDo(t, srv, "POST", "/api/v1/certs/authorities/root/offline", tok, nil, http.StatusOK).JSON(t, &a)
	if a.Online {
		t.Fatal("root still online")
	}
	resp := srv.Do("POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{Name: "second", Kind: "intermediate", Parent: "root"})
	if resp.Status != http.StatusConflict || resp.ErrorCode() != "offline" {
		t.Fatalf("intermediate under an offline root: %d %s", resp.Status, resp.Body)
	}
	// The intermediate goes on issuing.
	issue(t, srv, tok, certs.IssueRequest{CommonName: "still.example.test"})
	mustDo(t, srv, "POST", "/api/v1/certs/authorities/root/online", tok, certs.OnlineRequest{Key: "garbage"}, http.StatusBadRequest)
	mustDo(t, srv, "POST", "/api/v1/certs/authorities/root/online", tok, certs.OnlineRequest{Key: string(keyPEM)}, http.StatusOK)
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{Name: "second", Kind: "intermediate", Parent: "root"}, http.StatusCreated)
}
