package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/tlsalpn01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestLegoTLSALPN01 has lego answer tls-alpn-01 (RFC 8737) with its own
// responder on a loopback port, which Gaffer's ACME server validates.
func TestLegoTLSALPN01(t *testing.T) {
	port := freePort(t)
	srv, tok := startPKI(t, platformtest.Options{Args: []string{
		"--certs-acme-resolve-to", "127.0.0.1", "--certs-acme-tls-port", strconv.Itoa(port), "--certs-acme-http-port", "1"}})
	front, httpClient := tlsFront(t, srv, tok)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	user := &legoUser{key: key}
	cfg := lego.NewConfig(user)
	cfg.CADirURL = front + "/api/v1/certs/acme/issuing/directory"
	cfg.HTTPClient = httpClient
	cfg.Certificate.Timeout = 30 * time.Second
	client, err := lego.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Challenge.SetTLSALPN01Provider(tlsalpn01.NewProviderServer("127.0.0.1", strconv.Itoa(port))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eab := createEABKey(t, srv, "issuing")
	if user.reg, err = client.Registration.RegisterWithExternalAccountBinding(ctx, registration.RegisterEABOptions{
		TermsOfServiceAgreed: true, Kid: eab.ID, HmacEncoded: eab.HMACKey}); err != nil {
		t.Fatal(err)
	}
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"alpn.example.test"}, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatalf("obtain over tls-alpn-01: %v", err)
	}
	if len(res.Certificate) == 0 {
		t.Fatal("no certificate")
	}
}
