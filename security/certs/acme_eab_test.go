package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

const eabTestURL = "https://gaffer.example/api/v1/certs/acme/issuing/new-account"

// eabFixture is an account key and an EAB key for verifyEAB tests.
type eabFixture struct {
	account *ecdsa.PrivateKey
	kid     string
	mac     []byte
}

func newEABFixture(t testing.TB) eabFixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mac := make([]byte, eabKeyBytes)
	rand.Read(mac)
	return eabFixture{account: key, kid: "eab-test", mac: mac}
}

// binding builds an externalAccountBinding over the public key of
// payloadKey with the given header values and MAC key.
func (f eabFixture) binding(t testing.TB, kid, url string, mac []byte, payloadKey *ecdsa.PrivateKey, extra map[jose.HeaderKey]any) json.RawMessage {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid).WithHeader("url", url)
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: mac}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := (&jose.JSONWebKey{Key: payloadKey.Public()}).MarshalJSON()
	jws, err := signer.Sign(jwk)
	if err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(jws.FullSerialize())
}

// lookup knows the fixture's key only, and reports used for usedKID.
func (f eabFixture) lookup(usedKID string) func(string) ([]byte, error) {
	return func(kid string) ([]byte, error) {
		switch kid {
		case usedKID:
			return nil, errEABKeyUsed
		case f.kid:
			return append([]byte(nil), f.mac...), nil
		}
		return nil, errEABKeyUnknown
	}
}

func (f eabFixture) accountJWK() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: f.account.Public()}
}

// TestVerifyEAB checks external account binding verification: a correct
// binding passes; a wrong MAC key, an unknown kid, another URL, a nonce,
// another account's key as payload and a key that already made an
// account are each refused with the problem that says so.
func TestVerifyEAB(t *testing.T) {
	f := newEABFixture(t)
	other := newEABFixture(t)
	kid, err := verifyEAB(f.binding(t, f.kid, eabTestURL, f.mac, f.account, nil), eabTestURL, f.accountJWK(), f.lookup(""))
	if err != nil || kid != f.kid {
		t.Fatalf("good binding: kid %q, error %v", kid, err)
	}
	cases := []struct {
		name     string
		eab      json.RawMessage
		lookup   func(string) ([]byte, error)
		wantType string
		wantText string
	}{
		{"wrong MAC", f.binding(t, f.kid, eabTestURL, other.mac, f.account, nil), f.lookup(""),
			probUnauthorized, "MAC does not verify"},
		{"wrong kid", f.binding(t, "eab-unknown", eabTestURL, f.mac, f.account, nil), f.lookup(""),
			probUnauthorized, "is not an EAB key of this authority"},
		{"wrong url", f.binding(t, f.kid, strings.Replace(eabTestURL, "issuing", "other", 1), f.mac, f.account, nil), f.lookup(""),
			probUnauthorized, "is not the newAccount URL"},
		{"reused key", f.binding(t, f.kid, eabTestURL, f.mac, f.account, nil), f.lookup(f.kid),
			probUnauthorized, "already created an account"},
		{"another account's key", f.binding(t, f.kid, eabTestURL, f.mac, other.account, nil), f.lookup(""),
			probUnauthorized, "not the account key"},
		{"nonce in the header", f.binding(t, f.kid, eabTestURL, f.mac, f.account, map[jose.HeaderKey]any{"nonce": "abc"}), f.lookup(""),
			probMalformed, "must not have a nonce"},
		{"no kid", f.binding(t, "", eabTestURL, f.mac, f.account, nil), f.lookup(""),
			probMalformed, "no kid"},
		{"not a JWS", json.RawMessage(`{"protected":"e30","payload":"","signature":""}`), f.lookup(""),
			probMalformed, "not a JWS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kid, err := verifyEAB(c.eab, eabTestURL, f.accountJWK(), c.lookup)
			var p *acmeProblem
			if !errors.As(err, &p) {
				t.Fatalf("kid %q, error %v: want a problem", kid, err)
			}
			if p.Type != c.wantType || !strings.Contains(p.Detail, c.wantText) {
				t.Errorf("problem %s %q, want %s containing %q", p.Type, p.Detail, c.wantType, c.wantText)
			}
		})
	}
}

// TestVerifyEABRefusesOtherAlgorithms refuses a binding signed with an
// asymmetric key instead of the EAB MAC.
func TestVerifyEABRefusesOtherAlgorithms(t *testing.T) {
	f := newEABFixture(t)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: f.account},
		(&jose.SignerOptions{}).WithHeader("kid", f.kid).WithHeader("url", eabTestURL))
	jwk, _ := f.accountJWK().MarshalJSON()
	jws, _ := signer.Sign(jwk)
	_, err := verifyEAB(json.RawMessage(jws.FullSerialize()), eabTestURL, f.accountJWK(), f.lookup(""))
	var p *acmeProblem
	if !errors.As(err, &p) || p.Type != probMalformed || !strings.Contains(p.Detail, "HS256") {
		t.Errorf("ES256 binding: %v", err)
	}
}

// TestVerifyEABLookupFailure passes on a lookup failure that is not about
// the key (a store error) as it is, not as a client problem.
func TestVerifyEABLookupFailure(t *testing.T) {
	f := newEABFixture(t)
	boom := errors.New("store unavailable")
	_, err := verifyEAB(f.binding(t, f.kid, eabTestURL, f.mac, f.account, nil), eabTestURL, f.accountJWK(),
		func(string) ([]byte, error) { return nil, boom })
	var p *acmeProblem
	if !errors.Is(err, boom) || errors.As(err, &p) {
		t.Errorf("lookup failure: %v", err)
	}
}

// FuzzVerifyEAB feeds arbitrary bindings to the parser: it must never
// panic, and must accept only a binding MACed with the fixture's key.
func FuzzVerifyEAB(f *testing.F) {
	fx := newEABFixture(f)
	good := fx.binding(f, fx.kid, eabTestURL, fx.mac, fx.account, nil)
	f.Add([]byte(good))
	f.Add([]byte(`{"protected":"eyJhbGciOiJIUzI1NiJ9","payload":"e30","signature":"AAAA"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		kid, err := verifyEAB(raw, eabTestURL, fx.accountJWK(), fx.lookup(""))
		if err == nil && kid != fx.kid {
			t.Fatalf("accepted %q as kid %q", raw, kid)
		}
	})
}
