package certs

import (
	"crypto/x509/pkix"
	"testing"
	"time"
)

func benchCA(b *testing.B) *CA {
	b.Helper()
	root, err := NewRoot("root", pkix.Name{CommonName: "Bench Root"}, KeyECDSAP256, 10*365*24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	root.URLs = URLs{Base: "https://gaffer.example.com"}
	ca, err := root.NewIntermediate("issuing", pkix.Name{CommonName: "Bench Issuing"}, KeyECDSAP256, 5*365*24*time.Hour, Policy{})
	if err != nil {
		b.Fatal(err)
	}
	return ca
}

// BenchmarkIssueECDSAP256 issues leaf certificates with a generated ECDSA
// P-256 key: key generation, signing and zlint, as Issue does before it
// stores.
func BenchmarkIssueECDSAP256(b *testing.B) {
	ca := benchCA(b)
	names := Names{DNS: []string{"api.bench.internal", "www.bench.internal"}}
	b.ReportAllocs()
	for b.Loop() {
		key, err := GenerateKey(KeyECDSAP256)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ca.Sign(&Template{CommonName: "api.bench.internal", Names: names, PublicKey: key.Public(), Validity: 90 * 24 * time.Hour, OwnKey: true}); err != nil {
			b.Fatal(err)
		}
	}
}
