package certs

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"time"
)

// demoCert is one certificate of the demo inventory.
type demoCert struct {
	cn, owner, team string
	sans            []string
	age, validity   time.Duration
	endpoints       []string
	revoke          string
	replace         bool
	autoRotate      bool
}

// LoadDemo creates an internal root and intermediate and a small
// inventory: certificates of varied expiry (one within 10 days), a
// revoked one, and a replaced one with its successor. It does nothing
// when the demo root exists.
func (s *Service) LoadDemo(ctx context.Context) error {
	if _, err := s.mgr.Authority(ctx, "demo-root"); err == nil {
		return nil
	}
	if _, err := s.mgr.CreateAuthority(ctx, CreateAuthorityRequest{Name: "demo-root", Kind: KindRoot,
		CommonName: "Gaffer Demo Root CA", Organization: "Gaffer Demo"}); err != nil {
		return fmt.Errorf("certs demo: %w", err)
	}
	if _, err := s.mgr.CreateAuthority(ctx, CreateAuthorityRequest{Name: "demo-issuing", Kind: KindIntermediate, Parent: "demo-root",
		CommonName: "Gaffer Demo Issuing CA", Organization: "Gaffer Demo",
		Policy: Policy{AllowedDomains: []string{".demo.internal", ".example.com"}, AllowWildcards: true, AllowIPs: true}}); err != nil {
		return fmt.Errorf("certs demo: %w", err)
	}
	day := 24 * time.Hour
	certs := []demoCert{
		{cn: "api.example.com", sans: []string{"www.example.com"}, owner: "alice", team: "edge", age: 80*day - time.Hour, validity: 90 * day,
			endpoints: []string{"10.0.1.5:443", "10.0.1.6:443"}},
		{cn: "checkout.example.com", owner: "bob", team: "payments", age: 70 * day, validity: 90 * day, autoRotate: true},
		{cn: "*.cdn.example.com", owner: "carol", team: "edge", age: 30 * day, validity: 90 * day},
		{cn: "grafana.demo.internal", owner: "dave", team: "sre", age: 10 * day, validity: 365 * day, endpoints: []string{"10.0.9.20:3000"}},
		{cn: "db-1.demo.internal", sans: []string{"10.0.12.7"}, owner: "erin", team: "data", age: 200 * day, validity: 397 * day},
		{cn: "legacy.demo.internal", owner: "dave", team: "sre", age: 60 * day, validity: 90 * day, revoke: "key_compromise"},
		{cn: "search.example.com", owner: "alice", team: "edge", age: 85 * day, validity: 90 * day, replace: true},
	}
	ca, err := s.mgr.CA(ctx, "demo-issuing")
	if err != nil {
		return err
	}
	for _, d := range certs {
		id, err := s.demoIssue(ctx, ca, d, 0, d.age)
		if err != nil {
			return fmt.Errorf("certs demo %s: %w", d.cn, err)
		}
		for _, ep := range d.endpoints {
			now := s.mgr.now().UnixMilli()
			if _, err := s.mgr.store.ExecContext(ctx, `INSERT INTO certs_endpoints (cert_id, endpoint, first_seen, last_seen)
				VALUES (?, ?, ?, ?)`, id, ep, now-int64(d.age/time.Millisecond)+3600_000, now); err != nil {
				return err
			}
		}
		if d.revoke != "" {
			if _, err := s.mgr.Revoke(ctx, id, d.revoke); err != nil {
				return err
			}
		}
		if d.replace {
			if _, err := s.demoIssue(ctx, ca, d, id, 2*day); err != nil {
				return err
			}
		}
	}
	_, err = s.mgr.Notify(ctx)
	return err
}

func (s *Service) demoIssue(ctx context.Context, ca *CA, d demoCert, replaces int64, age time.Duration) (int64, error) {
	key, err := GenerateKey(KeyECDSAP256)
	if err != nil {
		return 0, err
	}
	names, err := ParseNames(append([]string{d.cn}, d.sans...))
	if err != nil {
		return 0, err
	}
	cn := d.cn
	subject := pkix.Name{CommonName: cn, Organization: []string{"Gaffer Demo"}}
	cert, err := ca.Sign(&Template{Subject: &subject, Names: names, PublicKey: key.Public(), NotBefore: s.mgr.now().Add(-age),
		Validity: d.validity, OwnKey: true})
	if err != nil {
		return 0, err
	}
	r := newRecord(IssueRequest{Owner: d.owner, Team: d.team, AutoRotate: d.autoRotate, Replaces: replaces, Notes: "demo data"},
		cert, ca.Chain0(), ca.Name, SourceIssued)
	c, err := s.mgr.storeNew(ctx, r, key)
	return c.ID, err
}
