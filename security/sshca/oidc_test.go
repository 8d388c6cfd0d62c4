package sshca

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// fakeIssuer is an OIDC issuer in the test: it serves its JWKS and signs
// ID tokens with its key.
type fakeIssuer struct {
	*httptest.Server
	key *rsa.PrivateKey
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIssuer{key: key}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			http.NotFound(w, r)
			return
		}
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(f.Close)
	return f
}

// token signs claims with key (the issuer's unless another is given).
func signToken(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fakeIssuer) claims(sub string, groups ...string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": f.URL, "aud": "gaffer", "sub": "id-" + sub, "preferred_username": sub,
		"groups": groups, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func startOIDCServer(t *testing.T, f *fakeIssuer, extra ...string) *testServer {
	t.Helper()
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"}, Args: append([]string{
		"--sshca-oidc-issuer", f.URL, "--sshca-oidc-jwks-url", f.URL + "/jwks", "--sshca-oidc-client-id", "gaffer"}, extra...)})
	return &testServer{Server: srv, t: t}
}

func TestOIDCIdentity(t *testing.T) {
	f := newFakeIssuer(t)
	srv := startOIDCServer(t, f)
	if _, err := srv.service().Authority().PutPolicy(context.Background(), Policy{Name: "sre", Groups: []string{"sre"},
		Principals: []string{"{{identity}}", "deploy"}, MaxValidity: "1h"}, "test"); err != nil {
		t.Fatal(err)
	}
	broker := srv.Token(ScopeSign) // a service token bound to no identity, as a Bless broker
	alice := srv.identityToken("alice", ScopeSign)
	key := pubLine(newUserKey(t).PublicKey())

	good := signToken(t, f.key, f.claims("dave", "sre"))
	rec, cert := mustCert(t, srv.sign(broker, SignRequest{PublicKey: key, IDToken: good, Principals: []string{"dave", "deploy"}}))
	if rec.Identity != "dave" || rec.Policy != "sre" || !strings.Contains(cert.KeyId, "for[dave]") {
		t.Fatalf("signed for %q by policy %q, key ID %q", rec.Identity, rec.Policy, cert.KeyId)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	expired := f.claims("dave", "sre")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	wrongAud := f.claims("dave", "sre")
	wrongAud["aud"] = "someone-else"
	wrongIss := f.claims("dave", "sre")
	wrongIss["iss"] = "https://evil.example"
	noName := f.claims("", "sre")
	for _, c := range []struct {
		name   string
		token  string
		idTok  string
		status int
		reason string
	}{
		{"expired", broker, signToken(t, f.key, expired), 401, "expired"},
		{"wrong audience", broker, signToken(t, f.key, wrongAud), 401, "audience"},
		{"wrong issuer", broker, signToken(t, f.key, wrongIss), 401, "different provider"},
		{"unknown key", broker, signToken(t, other, f.claims("dave", "sre")), 401, "id_token"},
		{"garbage", broker, "not.a.jwt", 401, "id_token"},
		{"no username claim", broker, signToken(t, f.key, noName), 403, "claim"},
		{"token bound to another identity", alice, good, 403, "bound to"},
	} {
		resp := srv.sign(c.token, SignRequest{PublicKey: key, IDToken: c.idTok})
		if resp.Status != c.status || !strings.Contains(string(resp.Body), c.reason) {
			t.Errorf("%s: %d %s; want %d mentioning %q", c.name, resp.Status, resp.Body, c.status, c.reason)
		}
	}
	// Without an ID token the token's own identity still works.
	mustCert(t, srv.sign(alice, SignRequest{PublicKey: key}))
}

func TestOIDCRequired(t *testing.T) {
	f := newFakeIssuer(t)
	srv := startOIDCServer(t, f, "--sshca-oidc-required")
	alice := srv.identityToken("alice", ScopeSign)
	key := pubLine(newUserKey(t).PublicKey())
	if r := srv.sign(alice, SignRequest{PublicKey: key}); r.Status != 401 || !strings.Contains(string(r.Body), "requires an OIDC ID token") {
		t.Fatalf("no ID token: %d %s", r.Status, r.Body)
	}
	mustCert(t, srv.sign(alice, SignRequest{PublicKey: key, IDToken: signToken(t, f.key, f.claims("alice"))}))
}
