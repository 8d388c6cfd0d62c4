package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

func newWire(t *testing.T, base string, hc *http.Client) *acmeWire {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &acmeWire{t: t, base: base, hc: hc, key: key}
}

func (c *acmeWire) directory() map[string]any {
	c.t.Helper()
	resp, err := c.hc.Get(c.base + "/directory")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	json.NewDecoder(resp.Body).Decode(&d)
	return d
}

// TestACMEExternalAccountBinding drives the ACME server's account
// creation: the directory advertises externalAccountRequired, a
// newAccount without a binding is refused with externalAccountRequired,
// one with an admin's EAB key succeeds and binds the key, the key cannot
// create a second account, a key of another authority and an account of
// another authority are refused, a KEK rotation keeps unused keys
// working, an account from before accounts belonged to an authority is
// refused, and revoking a used key deactivates its account.
func TestACMEExternalAccountBinding(t *testing.T) {
	platformtest.EachBackend(t, acmeExternalAccountBinding)
}

func acmeExternalAccountBinding(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	o.Args = append(o.Args, "--certs-acme-resolve-to", "127.0.0.1", "--certs-acme-http-port", strconv.Itoa(freePort(t)))
	srv, tok := startPKI(t, o)
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{
		Name: "second", Kind: "intermediate", Parent: "root", Policy: certs.Policy{AllowedDomains: []string{".example.test"}}}, http.StatusCreated)
	front, hc := tlsFront(t, srv, tok)
	base := front + "/api/v1/certs/acme/issuing"
	a := newWire(t, base, hc)
	meta, _ := a.directory()["meta"].(map[string]any)
	if meta["externalAccountRequired"] != true {
		t.Errorf("directory meta: %v", meta)
	}
	st, typ, body, _ := a.post(base+"/new-account", a.nonce(), map[string]any{"termsOfServiceAgreed": true})
	if st != http.StatusForbidden || typ != "urn:ietf:params:acme:error:externalAccountRequired" {
		t.Fatalf("anonymous new account: %d %s %v", st, typ, body)
	}
	k := createEABKey(t, srv, "issuing")
	a.register(k)
	// The same account key again: the existing account, no new binding needed.
	byKey := &acmeWire{t: t, base: base, hc: hc, key: a.key}
	if st, _, _, hdr := byKey.post(base+"/new-account", a.nonce(), map[string]any{"onlyReturnExisting": true}); st != http.StatusOK ||
		hdr.Get("Location") != a.kid {
		t.Errorf("existing account: %d %s", st, hdr.Get("Location"))
	}
	b := newWire(t, base, hc)
	st, typ, body, _ = b.post(base+"/new-account", b.nonce(), map[string]any{"termsOfServiceAgreed": true,
		"externalAccountBinding": eabBinding(t, b.key, k.ID, k.HMACKey, base+"/new-account")})
	if st != http.StatusUnauthorized || !strings.HasSuffix(typ, ":unauthorized") || !strings.Contains(body["detail"].(string), "already created an account") {
		t.Errorf("reused EAB key: %d %s %v", st, typ, body)
	}
	other := createEABKey(t, srv, "second")
	st, typ, body, _ = b.post(base+"/new-account", b.nonce(), map[string]any{"termsOfServiceAgreed": true,
		"externalAccountBinding": eabBinding(t, b.key, other.ID, other.HMACKey, base+"/new-account")})
	if st != http.StatusUnauthorized || !strings.Contains(body["detail"].(string), "not an EAB key of this authority") {
		t.Errorf("EAB key of another authority: %d %s %v", st, typ, body)
	}
	// An account of issuing cannot order from second.
	secondBase := front + "/api/v1/certs/acme/second"
	cross := &acmeWire{t: t, base: secondBase, hc: hc, key: a.key, kid: secondBase + strings.TrimPrefix(a.kid, base)}
	if st, typ, _, _ := cross.post(secondBase+"/new-order", cross.nonce(), map[string]any{
		"identifiers": []map[string]string{{"type": "dns", "value": "x.example.test"}}}); st != http.StatusUnauthorized || !strings.HasSuffix(typ, ":unauthorized") {
		t.Errorf("account used at another authority: %d %s", st, typ)
	}
	// Its key cannot register at second either: keys are unique, accounts per authority.
	byKeyAtSecond := &acmeWire{t: t, base: secondBase, hc: hc, key: a.key}
	if st, typ, _, _ := byKeyAtSecond.post(secondBase+"/new-account", byKeyAtSecond.nonce(), map[string]any{"termsOfServiceAgreed": true,
		"externalAccountBinding": eabBinding(t, a.key, other.ID, other.HMACKey, secondBase+"/new-account")}); st != http.StatusUnauthorized ||
		!strings.HasSuffix(typ, ":unauthorized") {
		t.Errorf("issuing's account key registering at second: %d %s", st, typ)
	}
	var keys []certs.EABKey
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/issuing/acme/eab-keys", tok, nil, http.StatusOK).JSON(t, &keys)
	if len(keys) != 1 || keys[0].ID != k.ID || keys[0].Account == "" || !strings.HasSuffix(a.kid, "/account/"+keys[0].Account) {
		t.Errorf("EAB keys after use: %+v (account %s)", keys, a.kid)
	}
	if raw := mustDo(t, srv, "GET", "/api/v1/certs/authorities/issuing/acme/eab-keys", tok, nil, http.StatusOK).Body; strings.Contains(string(raw), k.HMACKey) {
		t.Error("the EAB key list shows the secret")
	}
	// A KEK rotation re-seals unused keys; they still verify.
	fresh := createEABKey(t, srv, "issuing")
	var rot certs.KEKRotateResponse
	mustDo(t, srv, "POST", "/api/v1/certs/kek/rotate", tok, nil, http.StatusOK).JSON(t, &rot)
	b.register(fresh)
	// An account from before accounts were bound to an authority is refused.
	if _, err := srv.Deps().Store.ExecContext(context.Background(), `UPDATE certs_acme_accounts SET authority = '' WHERE id = ?`,
		b.kid[strings.LastIndex(b.kid, "/")+1:]); err != nil {
		t.Fatal(err)
	}
	if st, typ, body, _ := b.post(base+"/new-order", b.nonce(), map[string]any{
		"identifiers": []map[string]string{{"type": "dns", "value": "x.example.test"}}}); st != http.StatusUnauthorized ||
		!strings.Contains(body["detail"].(string), "is not registered with authority issuing") {
		t.Errorf("legacy account: %d %s %v", st, typ, body)
	}
	// Revoking a used key deactivates its account.
	mustDo(t, srv, "DELETE", "/api/v1/certs/authorities/issuing/acme/eab-keys/"+k.ID, tok, nil, http.StatusOK)
	if st, typ, _, _ := a.post(base+"/new-order", a.nonce(), map[string]any{
		"identifiers": []map[string]string{{"type": "dns", "value": "x.example.test"}}}); st != http.StatusUnauthorized || !strings.HasSuffix(typ, ":unauthorized") {
		t.Errorf("order from an account whose EAB key was revoked: %d %s", st, typ)
	}
	mustDo(t, srv, "DELETE", "/api/v1/certs/authorities/issuing/acme/eab-keys/"+k.ID, tok, nil, http.StatusConflict)
	// A token without admin cannot create keys.
	mustDo(t, srv, "POST", "/api/v1/certs/authorities/issuing/acme/eab-keys", srv.Token("certs:write"), certs.CreateEABKeyRequest{}, http.StatusForbidden)
	entries := auditEntries(t, srv, "certs.eab_key.")
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action+"/"+e.Outcome]++
	}
	if actions["certs.eab_key.create/success"] != 3 || actions["certs.eab_key.revoke/success"] != 1 || actions["certs.eab_key.create/denied"] != 1 {
		t.Errorf("audit: %v", actions)
	}
}

// TestACMEAnonymousAccountsOptOut lets an authority take accounts without
// external account binding: the directory says so, an anonymous account
// is created, and both the setting and the account are audited.
func TestACMEAnonymousAccountsOptOut(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	front, hc := tlsFront(t, srv, tok)
	base := front + "/api/v1/certs/acme/issuing"
	allowAnonymousACME(t, srv, "issuing")
	a := newWire(t, base, hc)
	meta, _ := a.directory()["meta"].(map[string]any)
	if meta["externalAccountRequired"] != false {
		t.Errorf("directory meta with anonymous accounts: %v", meta)
	}
	if st, typ, body, _ := a.post(base+"/new-account", a.nonce(), map[string]any{"termsOfServiceAgreed": true}); st != http.StatusCreated {
		t.Fatalf("anonymous account where allowed: %d %s %v", st, typ, body)
	}
	var settings certs.ACMEServerSettings
	mustDo(t, srv, "GET", "/api/v1/certs/authorities/issuing/acme", tok, nil, http.StatusOK).JSON(t, &settings)
	if !settings.AnonymousAccounts {
		t.Errorf("settings: %+v", settings)
	}
	if es := auditEntries(t, srv, "certs.acme.settings"); len(es) != 1 || !strings.Contains(es[0].Detail, "anonymous ACME accounts allowed") {
		t.Errorf("settings audit: %+v", es)
	}
	if es := auditEntries(t, srv, "certs.acme.new_account"); len(es) != 1 || !strings.Contains(es[0].Detail, "anonymous account") {
		t.Errorf("account audit: %+v", es)
	}
}

// TestACMEOrderNeedsAllowedDomains refuses every ACME order from an
// authority whose policy lists no allowed domains, naming the field,
// while the token API still issues from it.
func TestACMEOrderNeedsAllowedDomains(t *testing.T) {
	srv, tok := startPKI(t, platformtest.Options{})
	mustDo(t, srv, "POST", "/api/v1/certs/authorities", tok, certs.CreateAuthorityRequest{
		Name: "open", Kind: "intermediate", Parent: "root"}, http.StatusCreated)
	front, hc := tlsFront(t, srv, tok)
	base := front + "/api/v1/certs/acme/open"
	a := newWire(t, base, hc)
	a.register(createEABKey(t, srv, "open"))
	st, typ, body, _ := a.post(base+"/new-order", a.nonce(), map[string]any{
		"identifiers": []map[string]string{{"type": "dns", "value": "anything.example.org"}}})
	if detail, _ := body["detail"].(string); st != http.StatusForbidden || !strings.HasSuffix(typ, ":rejectedIdentifier") ||
		!strings.Contains(detail, "policy.allowed_domains") {
		t.Errorf("order from an authority without allowed domains: %d %s %v", st, typ, body)
	}
	issue(t, srv, tok, certs.IssueRequest{Authority: "open", CommonName: "anything.example.org"})
}
