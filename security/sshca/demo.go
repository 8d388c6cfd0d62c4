package sshca

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// LoadDemo fills the CA with demo data once: the user and host CAs, the
// default policy plus a host policy and an on-call policy, a few issued
// certificates and one revoked.
func (s *Service) LoadDemo(ctx context.Context) error {
	if s.ca == nil {
		return nil
	}
	return s.ca.loadDemo(ctx)
}

func (a *Authority) loadDemo(ctx context.Context) error {
	var n int
	if err := a.store.QueryRowContext(ctx, "SELECT COUNT(*) FROM sshca_meta WHERE name = 'demo'").Scan(&n); err != nil {
		return fmt.Errorf("sshca: demo: %w", err)
	}
	if n > 0 {
		return nil
	}
	if err := a.Initialize(ctx); err != nil {
		return err
	}
	for _, p := range []Policy{
		{Name: "hosts", Description: "the bootstrap service certifies hosts under demo.internal", CertType: HostCert,
			Identities: []string{"host-bootstrap"}, Principals: []string{"*.demo.internal"}},
		{Name: "oncall", Description: "on-call engineers may also log in as deploy, from the office network, for an hour",
			CertType: UserCert, Identities: []string{"carol"}, Groups: []string{"sre"},
			Principals: []string{"{{identity}}", "deploy"}, MaxValidity: "1h", SourceAddresses: []string{"10.0.0.0/8"}},
	} {
		if _, err := a.PutPolicy(ctx, p, "demo"); err != nil {
			return err
		}
	}
	office := netip.MustParseAddr("10.20.0.15")
	issue := func(identity, certType string, principals []string, validity time.Duration) (*Cert, error) {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		pub, err := ssh.NewPublicKey(priv.Public())
		if err != nil {
			return nil, err
		}
		req := &Request{Key: pub, KeyInfo: KeyInfo{Family: "ed25519", Bits: 256}, CertType: certType,
			Principals: principals, Validity: validity}
		return a.Sign(ctx, Caller{Identity: identity, ClientIP: office, RequestID: "demo-" + identity}, req)
	}
	for _, c := range []struct {
		identity, certType string
		principals         []string
		validity           time.Duration
	}{
		{"alice", UserCert, nil, 0},
		{"bob", UserCert, nil, 0},
		{"carol", UserCert, []string{"carol", "deploy"}, time.Hour},
		{"host-bootstrap", HostCert, []string{"web-1.demo.internal"}, 0},
	} {
		cert, err := issue(c.identity, c.certType, c.principals, c.validity)
		if err != nil {
			return fmt.Errorf("sshca: demo certificate for %s: %w", c.identity, err)
		}
		if c.identity == "bob" {
			if _, err := a.Revoke(ctx, RevokeRequest{Serial: fmt.Sprint(cert.Serial), Reason: "demo: laptop lost"}, "demo"); err != nil {
				return err
			}
		}
	}
	_, err := a.store.ExecContext(ctx, "INSERT INTO sshca_meta (name, value) VALUES ('demo', ?)", a.now().UTC().Format(time.RFC3339))
	if err != nil && !store.IsUniqueViolation(err) {
		return fmt.Errorf("sshca: demo: %w", err)
	}
	return nil
}
