package certs

import (
	"crypto/x509/pkix"
	"testing"
	"time"
)

func benchCA(b *testing.B) *CA {
	b.Helper()
	root, err := NewRoot("root", pkix.Name{CommonName: "Bench Root"}, KeyECDSAP256, 10*365*24*time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	root.URLs = URLs{Base: "https://gaffer.example.com"}
	ca, err := root.NewIntermediate("issuing", pkix.Name{CommonName: "Bench Issuing"}, KeyECDSAP256, 5*365*24*time.Hour, Policy{}, time.Now())
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

// BenchmarkIssueECDSAP256Parallel is BenchmarkIssueECDSAP256 on every
// core.
func BenchmarkIssueECDSAP256Parallel(b *testing.B) {
	ca := benchCA(b)
	names := Names{DNS: []string{"api.bench.internal"}}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key, _ := GenerateKey(KeyECDSAP256)
			if _, err := ca.Sign(&Template{CommonName: "api.bench.internal", Names: names, PublicKey: key.Public(), Validity: 90 * 24 * time.Hour, OwnKey: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCRL100k signs a CRL of 100,000 revoked certificates.
func BenchmarkCRL100k(b *testing.B) {
	ca := benchCA(b)
	entries := make([]RevokedEntry, 100_000)
	now := time.Now()
	for i := range entries {
		s, _ := NewSerial()
		entries[i] = RevokedEntry{Serial: s, At: now.Add(-time.Duration(i) * time.Second), Reason: i % 6}
	}
	b.ReportAllocs()
	for b.Loop() {
		der, err := BuildCRL(ca, entries, 1, now, now.Add(CRLValidity))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(der)))
	}
}
