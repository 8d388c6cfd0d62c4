package certs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/acme"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// http01Responder serves key authorizations for http-01 on a loopback
// port, as an ACME client's web server would.
type http01Responder struct {
	mu   sync.Mutex
	keys map[string]string
}

func (h *http01Responder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	ka, ok := h.keys[r.URL.Path]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(ka))
}

func (h *http01Responder) set(path, keyAuth string) {
	h.mu.Lock()
	h.keys[path] = keyAuth
	h.mu.Unlock()
}

func serveHTTP01(t *testing.T, port int) *http01Responder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	h := &http01Responder{keys: map[string]string{}}
	s := &http.Server{Handler: h}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return h
}

// TestXCryptoACMENeedsEAB drives Gaffer's ACME server with
// golang.org/x/crypto/acme: the directory says external account binding
// is required, registering without it fails with externalAccountRequired,
// registering with an admin's EAB key succeeds, and that account orders,
// answers http-01, finalizes and downloads a certificate.
func TestXCryptoACMENeedsEAB(t *testing.T) {
	srv, tok, port := acmePKI(t, platformtest.Options{})
	responder := serveHTTP01(t, port)
	front, hc := tlsFront(t, srv, tok)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	client := &acme.Client{Key: key, HTTPClient: hc, DirectoryURL: front + "/api/v1/certs/acme/issuing/directory"}
	ctx := context.Background()
	dir, err := client.Discover(ctx)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	if !dir.ExternalAccountRequired {
		t.Error("the directory does not say external account binding is required")
	}
	_, err = client.Register(ctx, &acme.Account{}, acme.AcceptTOS)
	var ae *acme.Error
	if !errors.As(err, &ae) || ae.ProblemType != "urn:ietf:params:acme:error:externalAccountRequired" {
		t.Fatalf("register without EAB: %v", err)
	}
	k := createEABKey(t, srv, "issuing")
	mac, err := base64.RawURLEncoding.DecodeString(k.HMACKey)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := client.Register(ctx, &acme.Account{ExternalAccountBinding: &acme.ExternalAccountBinding{KID: k.ID, Key: mac}}, acme.AcceptTOS)
	if err != nil {
		t.Fatalf("register with EAB: %v", err)
	}
	if acct.Status != acme.StatusValid {
		t.Errorf("account status %s", acct.Status)
	}
	order, err := client.AuthorizeOrder(ctx, acme.DomainIDs("xcrypto.example.test"))
	if err != nil {
		t.Fatalf("order: %v", err)
	}
	for _, u := range order.AuthzURLs {
		z, err := client.GetAuthorization(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var chal *acme.Challenge
		for _, c := range z.Challenges {
			if c.Type == "http-01" {
				chal = c
			}
		}
		if chal == nil {
			t.Fatalf("authorization %s offers no http-01", u)
		}
		ka, err := client.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			t.Fatal(err)
		}
		responder.set(client.HTTP01ChallengePath(chal.Token), ka)
		if _, err := client.Accept(ctx, chal); err != nil {
			t.Fatalf("accept: %v", err)
		}
		if _, err := client.WaitAuthorization(ctx, u); err != nil {
			t.Fatalf("authorization: %v", err)
		}
	}
	if order, err = client.WaitOrder(ctx, order.URI); err != nil {
		t.Fatalf("order not ready: %v", err)
	}
	certKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "xcrypto.example.test"}, DNSNames: []string{"xcrypto.example.test"}}, certKey)
	ders, _, err := client.CreateOrderCert(ctx, order.FinalizeURL, csr, true)
	if err != nil {
		t.Fatalf("finalize: %v", err)
	}
	cert, err := x509.ParseCertificate(ders[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.DNSNames) != 1 || cert.DNSNames[0] != "xcrypto.example.test" || cert.Issuer.CommonName != "Gaffer Test Issuing CA" {
		t.Errorf("certificate %v from %q", cert.DNSNames, cert.Issuer.CommonName)
	}
}
