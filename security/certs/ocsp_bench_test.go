package certs

import (
	"context"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// benchManager is a Manager on SQLite with a root and an issuing CA.
func benchManager(b *testing.B) *Manager {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, Name, store.MustSub(migrationsFS, "migrations")); err != nil {
		b.Fatal(err)
	}
	kr, err := seal.New(Name, "bench", make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	m := NewManager(ManagerOptions{Store: st, Keys: kr, URLs: URLs{Base: "http://127.0.0.1:7070"}})
	if _, err := m.CreateAuthority(ctx, CreateAuthorityRequest{Name: "root", Kind: KindRoot}); err != nil {
		b.Fatal(err)
	}
	if _, err := m.CreateAuthority(ctx, CreateAuthorityRequest{Name: "issuing", Kind: KindIntermediate, Parent: "root"}); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkIssueStored is a whole issuance through the Manager: key,
// policy, signature, zlint, sealing the key and storing it in SQLite.
func BenchmarkIssueStored(b *testing.B) {
	m := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Issue(ctx, IssueRequest{CommonName: "api.bench.internal"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOCSP answers OCSP requests for stored certificates, without
// (uncached) and with the response cache.
func BenchmarkOCSP(b *testing.B) {
	m := benchManager(b)
	ctx := context.Background()
	ca, _ := m.CA(ctx, "issuing")
	var reqs [][]byte
	for range 200 {
		c, err := m.Issue(ctx, IssueRequest{CommonName: "ocsp.bench.internal"})
		if err != nil {
			b.Fatal(err)
		}
		leaf, _ := parseCertPEM(c.Certificate)
		req, err := ocsp.CreateRequest(leaf, ca.Cert, nil)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, req)
	}
	for _, cached := range []bool{false, true} {
		b.Run(map[bool]string{false: "uncached", true: "cached"}[cached], func(b *testing.B) {
			i := 0
			for b.Loop() {
				if !cached {
					m.ocsp = newOCSPCache()
				}
				if _, err := m.OCSP(ctx, "issuing", reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
