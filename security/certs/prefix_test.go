package certs_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// TestSerialPrefixNamesACertificate revokes a certificate by a unique
// prefix of its serial, as the CLI grammar allows, and is refused an
// ambiguous prefix with the candidates named.
func TestSerialPrefixNamesACertificate(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	// Issue until two serials share their first two digits, a letter among
	// them (a reference of decimal digits alone is taken as an ID first).
	var all, shared []certs.Certificate
	byFirst := map[string][]certs.Certificate{}
	for i := 0; shared == nil; i++ {
		if i == 100 {
			t.Fatal("100 serials and no two start with the same two digits")
		}
		c := issue(t, srv, tok, certs.IssueRequest{CommonName: fmt.Sprintf("p%d.svc.internal", i), KeyType: certs.KeyEd25519})
		all = append(all, c)
		if first := c.Serial[:2]; strings.Trim(first, "0123456789") != "" {
			byFirst[first] = append(byFirst[first], c)
			if len(byFirst[first]) == 2 {
				shared = byFirst[first]
			}
		}
	}
	resp := srv.Do("POST", "/api/v1/certs/certificates/"+shared[0].Serial[:2]+"/revoke", tok, certs.RevokeRequest{Reason: "superseded"})
	if resp.Status != http.StatusConflict || !strings.Contains(string(resp.Body), "ambiguous") ||
		!strings.Contains(string(resp.Body), shared[0].Serial) || !strings.Contains(string(resp.Body), shared[1].Serial) {
		t.Fatalf("ambiguous prefix: %d %s", resp.Status, resp.Body)
	}

	target := all[0]
	prefix := uniquePrefix(target.Serial, all)
	var got certs.Certificate
	mustDo(t, srv, "POST", "/api/v1/certs/certificates/"+strings.ToUpper(prefix)+"/revoke", tok,
		certs.RevokeRequest{Reason: "key_compromise"}, http.StatusOK).JSON(t, &got)
	if got.ID != target.ID || got.Status != "revoked" {
		t.Fatalf("revoked by prefix %s: %+v, want certificate %d revoked", prefix, got, target.ID)
	}
	if e := auditEntries(t, srv, "certs.certificate.revoke"); len(e) == 0 || !strings.Contains(e[0].Target, target.Serial) {
		t.Errorf("revocation by prefix not audited with the full serial: %+v", e)
	}
	if resp := srv.Do("GET", "/api/v1/certs/certificates/ffffffffffffffffffffffffffffffffffffffffz", tok, nil); resp.Status != http.StatusNotFound {
		t.Errorf("a non-hex reference: %d %s", resp.Status, resp.Body)
	}
}

// uniquePrefix is the shortest prefix (at least 4 digits) of serial no
// other certificate's serial starts with.
func uniquePrefix(serial string, all []certs.Certificate) string {
	for n := 4; n < len(serial); n++ {
		unique := true
		for _, c := range all {
			if c.Serial != serial && strings.HasPrefix(c.Serial, serial[:n]) {
				unique = false
			}
		}
		if unique {
			return serial[:n]
		}
	}
	return serial
}
