package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"testing"
	"time"
)

func seedCSR(f *testing.F) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "fuzz.example.test"}, DNSNames: []string{"a.example.test", "*.example.test"}}, key)
	if err != nil {
		f.Fatal(err)
	}
	return der
}

// FuzzParseCSR feeds arbitrary bytes to the CSR parser and the name
// policy: they must never panic, and anything accepted must verify and
// yield names the policy can judge.
func FuzzParseCSR(f *testing.F) {
	der := seedCSR(f)
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	pol := &Policy{AllowedDomains: []string{".example.test"}, AllowWildcards: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := ParseCSR(data)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if csr.CheckSignature() != nil {
			t.Fatal("accepted a CSR whose signature does not verify")
		}
		names, err := ParseNames(csrNames(csr))
		if err == nil {
			pol.CheckNames(names)
		}
	})
}

// FuzzParseBundle feeds arbitrary bytes to the PEM bundle parser: it must
// never panic, and what it accepts must be certificates.
func FuzzParseBundle(f *testing.F) {
	root, err := NewRoot("fuzz", pkix.Name{CommonName: "Fuzz Root"}, KeyECDSAP256, 24*3600e9, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	p := pemCert(root.Cert.Raw)
	f.Add(p)
	f.Add(append(append([]byte("text\n"), p...), p...))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		if len(b.Certificates) == 0 {
			t.Fatal("accepted a bundle without certificates")
		}
		for _, c := range b.Certificates {
			chainFor(c, b.Certificates)
		}
	})
}

// FuzzParseNames checks that the name parser and policy never panic and
// never accept a wildcard that is not the whole leftmost label.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"a.example.test", "*.example.test", "*.*.x", "w*.example.test", "127.0.0.1", "spiffe://x/y", "a@b.c", "xn--", "*.com"} {
		f.Add(s)
	}
	pol := &Policy{AllowedDomains: []string{".example.test"}, AllowWildcards: true, AllowIPs: true}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNames([]string{s})
		if err != nil {
			return
		}
		if pol.CheckNames(n) != nil {
			return
		}
		for _, d := range n.DNS {
			if containsStarNotLeading(d) {
				t.Fatalf("policy accepted %q", d)
			}
		}
	})
}

func containsStarNotLeading(d string) bool {
	for i, c := range d {
		if c == '*' && (i != 0 || len(d) < 2 || d[1] != '.') {
			return true
		}
	}
	return false
}
