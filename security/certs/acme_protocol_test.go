package certs_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

// createEABKey has the admin create an EAB key for authority ca.
func createEABKey(t *testing.T, srv *platformtest.Server, ca string) certs.NewEABKey {
	t.Helper()
	var k certs.NewEABKey
	mustDo(t, srv, "POST", "/api/v1/certs/authorities/"+ca+"/acme/eab-keys", srv.AdminToken,
		certs.CreateEABKeyRequest{Note: "test"}, http.StatusCreated).JSON(t, &k)
	if k.ID == "" || k.HMACKey == "" {
		t.Fatalf("EAB key without id or secret: %+v", k)
	}
	return k
}

// allowAnonymousACME has the admin let authority ca's ACME server take
// accounts without external account binding.
func allowAnonymousACME(t *testing.T, srv *platformtest.Server, ca string) {
	t.Helper()
	mustDo(t, srv, "PUT", "/api/v1/certs/authorities/"+ca+"/acme", srv.AdminToken,
		certs.ACMEServerSettings{AnonymousAccounts: true}, http.StatusOK)
}

// eabBinding returns the externalAccountBinding of a newAccount request
// (RFC 8555 section 7.3.4): the account's public key, MACed with the EAB
// key kid/hmacKey, for url.
func eabBinding(t *testing.T, key *ecdsa.PrivateKey, kid, hmacKey, url string) json.RawMessage {
	t.Helper()
	mac, err := base64.RawURLEncoding.DecodeString(hmacKey)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: mac},
		(&jose.SignerOptions{}).WithHeader("kid", kid).WithHeader("url", url))
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := (&jose.JSONWebKey{Key: key.Public()}).MarshalJSON()
	jws, err := signer.Sign(jwk)
	if err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(jws.FullSerialize())
}

// register creates the client's account with EAB key k and sets its kid.
func (c *acmeWire) register(k certs.NewEABKey) {
	c.t.Helper()
	st, typ, body, hdr := c.post(c.base+"/new-account", c.nonce(), map[string]any{"termsOfServiceAgreed": true,
		"externalAccountBinding": eabBinding(c.t, c.key, k.ID, k.HMACKey, c.base+"/new-account")})
	if st != http.StatusCreated {
		c.t.Fatalf("new account with EAB key %s: %d %s %v", k.ID, st, typ, body)
	}
	c.kid = hdr.Get("Location")
}

// acmeWire is a minimal ACME client for protocol error tests.
type acmeWire struct {
	t    *testing.T
	base string
	hc   *http.Client
	key  *ecdsa.PrivateKey
	kid  string
}

func (c *acmeWire) nonce() string {
	resp, err := c.hc.Head(c.base + "/new-nonce")
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Replay-Nonce")
}

// post signs payload (nil for POST-as-GET) for url with nonce and returns
// the status, the problem type (if any) and the body.
func (c *acmeWire) post(url, nonce string, payload any) (int, string, map[string]any, http.Header) {
	c.t.Helper()
	return c.postAs(url, url, nonce, payload)
}

// postAs sends to target a JWS signed for url.
func (c *acmeWire) postAs(target, url, nonce string, payload any) (int, string, map[string]any, http.Header) {
	c.t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("nonce", nonce).WithHeader("url", url)
	if c.kid != "" {
		opts = opts.WithHeader("kid", c.kid)
	} else {
		opts.EmbedJWK = true
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: c.key}, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	var body []byte
	if payload != nil {
		body, _ = json.Marshal(payload)
	}
	jws, err := signer.Sign(body)
	if err != nil {
		c.t.Fatal(err)
	}
	var flat map[string]any
	json.Unmarshal([]byte(jws.FullSerialize()), &flat)
	if _, ok := flat["payload"]; !ok {
		flat["payload"] = "" // POST-as-GET (RFC 8555 section 6.3)
	}
	wire, _ := json.Marshal(flat)
	resp, err := c.hc.Post(target, "application/jose+json", strings.NewReader(string(wire)))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	typ, _ := m["type"].(string)
	return resp.StatusCode, typ, m, resp.Header
}

// TestACMEProtocolErrors checks the ACME server's refusals: replayed and
// unknown nonces, a JWS for another URL, an unknown account, finalizing
// an order that is not ready, a CSR whose names differ from the order's,
// and another account reading an order.
func TestACMEProtocolErrors(t *testing.T) {
	// Validation goes to a loopback port where nothing listens.
	srv, tok := startPKI(t, platformtest.Options{Args: []string{"--certs-acme-resolve-to", "127.0.0.1",
		"--certs-acme-http-port", strconv.Itoa(freePort(t))}})
	front, hc := tlsFront(t, srv, tok)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c := &acmeWire{t: t, base: front + "/api/v1/certs/acme/issuing", hc: hc, key: key}
	n := c.nonce()
	k := createEABKey(t, srv, "issuing")
	st, _, _, hdr := c.post(c.base+"/new-account", n, map[string]any{"termsOfServiceAgreed": true,
		"externalAccountBinding": eabBinding(t, key, k.ID, k.HMACKey, c.base+"/new-account")})
	if st != http.StatusCreated {
		t.Fatalf("new account: %d", st)
	}
	if st, typ, _, _ := c.post(c.base+"/new-account", n, map[string]any{}); st != 400 || !strings.HasSuffix(typ, "badNonce") {
		t.Errorf("replayed nonce: %d %s", st, typ)
	}
	if st, typ, _, _ := c.post(c.base+"/new-account", "bm90LWEtbm9uY2U", map[string]any{}); st != 400 || !strings.HasSuffix(typ, "badNonce") {
		t.Errorf("unknown nonce: %d %s", st, typ)
	}
	if st, typ, _, _ := c.postAs(c.base+"/new-order", c.base+"/new-account", c.nonce(), map[string]any{}); st != 401 || !strings.HasSuffix(typ, "unauthorized") {
		t.Errorf("JWS signed for another URL: %d %s", st, typ)
	}
	c.kid = hdr.Get("Location")
	stranger := &acmeWire{t: t, base: c.base, hc: hc, key: key, kid: c.base + "/account/nobody"}
	if st, typ, _, _ := stranger.post(c.base+"/new-order", stranger.nonce(), map[string]any{}); st != 400 || !strings.HasSuffix(typ, "accountDoesNotExist") {
		t.Errorf("unknown account: %d %s", st, typ)
	}
	st, _, order, hdr := c.post(c.base+"/new-order", c.nonce(), map[string]any{"identifiers": []map[string]string{{"type": "dns", "value": "o.example.test"}}})
	if st != http.StatusCreated || order["status"] != "pending" {
		t.Fatalf("new order: %d %v", st, order)
	}
	orderURL := hdr.Get("Location")
	csrKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr := func(names ...string) string {
		der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, csrKey)
		return base64.RawURLEncoding.EncodeToString(der)
	}
	if st, typ, _, _ := c.post(order["finalize"].(string), c.nonce(), map[string]any{"csr": csr("o.example.test")}); st != 403 || !strings.HasSuffix(typ, "orderNotReady") {
		t.Errorf("finalize a pending order: %d %s", st, typ)
	}
	if st, typ, _, _ := c.post(c.base+"/new-order", c.nonce(), map[string]any{"identifiers": []map[string]string{{"type": "ip", "value": "10.0.0.1"}}}); st != 400 || !strings.HasSuffix(typ, "unsupportedIdentifier") {
		t.Errorf("IP identifier: %d %s", st, typ)
	}
	if st, typ, _, _ := c.post(c.base+"/new-order", c.nonce(), map[string]any{"identifiers": []map[string]string{{"type": "dns", "value": "*.example.test"}}}); st != 403 || !strings.HasSuffix(typ, "rejectedIdentifier") {
		t.Errorf("wildcard without dns-01: %d %s", st, typ)
	}
	// Another account may not read the order.
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other := &acmeWire{t: t, base: c.base, hc: hc, key: otherKey}
	other.register(createEABKey(t, srv, "issuing"))
	if st, typ, _, _ := other.post(orderURL, other.nonce(), nil); st != 401 || !strings.HasSuffix(typ, "unauthorized") {
		t.Errorf("another account's order: %d %s", st, typ)
	}
	st, _, list, _ := c.post(c.kid+"/orders", c.nonce(), nil)
	if orders, _ := list["orders"].([]any); st != 200 || len(orders) != 1 {
		t.Errorf("account orders: %d %v", st, list)
	}
	// An order whose authorization failed: http-01 to a port where nothing answers.
	authz := order["authorizations"].([]any)[0].(string)
	_, _, az, _ := c.post(authz, c.nonce(), nil)
	var chall string
	for _, ch := range az["challenges"].([]any) {
		if m := ch.(map[string]any); m["type"] == "http-01" {
			chall = m["url"].(string)
		}
	}
	if st, _, res, _ := c.post(chall, c.nonce(), map[string]any{}); st != 200 || res["status"] != "invalid" {
		t.Errorf("http-01 with nothing listening: %d %v", st, res)
	}
	if _, _, o, _ := c.post(orderURL, c.nonce(), nil); o["status"] != "invalid" {
		t.Errorf("order after a failed authorization: %v", o["status"])
	}
}
