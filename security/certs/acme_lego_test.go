package certs_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/certs"
)

type legoUser struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (u *legoUser) GetEmail() string                       { return "ops@example.test" }
func (u *legoUser) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *legoUser) GetPrivateKey() crypto.Signer           { return u.key }

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// acmePKI starts a server whose ACME validation connects to 127.0.0.1 on
// the returned http-01 port, whatever the identifier.
func acmePKI(t *testing.T, o platformtest.Options) (*platformtest.Server, string, int) {
	t.Helper()
	port := freePort(t)
	o.Args = append(o.Args, "--certs-acme-resolve-to", "127.0.0.1", "--certs-acme-http-port", strconv.Itoa(port))
	srv, tok := startPKI(t, o)
	return srv, tok, port
}

// TestLegoObtainsFromGafferACME has the lego client library register,
// order, answer http-01 (its own responder on a loopback port), finalize
// and download a certificate from Gaffer's ACME server, then revoke it.
func TestLegoObtainsFromGafferACME(t *testing.T) {
	platformtest.EachBackend(t, legoObtainsFromGafferACME)
}

func legoObtainsFromGafferACME(t *testing.T, backend platformtest.Backend) {
	o := platformtest.Options{Backend: backend}
	srv, tok, port := acmePKI(t, o)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	user := &legoUser{key: key}
	front, httpClient := tlsFront(t, srv, tok)
	cfg := lego.NewConfig(user)
	cfg.CADirURL = front + "/api/v1/certs/acme/issuing/directory"
	cfg.HTTPClient = httpClient
	cfg.Certificate.Timeout = 30 * time.Second
	client, err := lego.NewClient(cfg)
	if err != nil {
		t.Fatalf("lego client: %v", err)
	}
	if err := client.Challenge.SetHTTP01Provider(http01.NewProviderServer("127.0.0.1", strconv.Itoa(port))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eab := createEABKey(t, srv, "issuing")
	reg, err := client.Registration.RegisterWithExternalAccountBinding(ctx, registration.RegisterEABOptions{
		TermsOfServiceAgreed: true, Kid: eab.ID, HmacEncoded: eab.HMACKey})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	user.reg = reg
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"app.example.test", "www.example.test"}, Bundle: true, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatalf("obtain: %v", err)
	}
	blk, _ := pem.Decode(res.Certificate)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.DNSNames) != 2 || cert.Issuer.CommonName != "Gaffer Test Issuing CA" {
		t.Errorf("certificate names %v, issuer %q", cert.DNSNames, cert.Issuer.CommonName)
	}
	var c certs.Certificate
	mustDo(t, srv, "GET", "/api/v1/certs/certificates/"+certs.SerialHex(cert), tok, nil, http.StatusOK).JSON(t, &c)
	if c.HasKey || c.Authority != "issuing" {
		t.Errorf("inventory entry: has_key %v, authority %q", c.HasKey, c.Authority)
	}
	if err := client.Certificate.Revoke(ctx, res.Certificate); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	mustDo(t, srv, "GET", "/api/v1/certs/certificates/"+c.Serial, tok, nil, http.StatusOK).JSON(t, &c)
	if c.Status != "revoked" {
		t.Errorf("status after ACME revocation: %s", c.Status)
	}
	// A name outside the policy is refused at the order.
	_, err = client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"evil.example.com"}, KeyType: certcrypto.EC256})
	if err == nil {
		t.Fatal("lego obtained a certificate for a name outside the policy")
	}
	t.Logf("refused as expected: %v", err)
}
