package certs

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/challenge/http01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// ACMEIssuerConfig configures an external ACME CA as an authority: Gaffer
// is then an ACME client (RFC 8555) that answers http-01 with its own
// responder or dns-01 through a DNSProvider.
type ACMEIssuerConfig struct {
	// DirectoryURL is the CA's ACME directory (https).
	DirectoryURL string `json:"directory_url"`
	// Email is the account's contact.
	Email string `json:"email,omitempty"`
	// Challenge is "http-01" (default) or "dns-01".
	Challenge string `json:"challenge,omitempty"`
	// HTTPAddress is where the http-01 responder listens (default ":80").
	HTTPAddress string `json:"http_address,omitempty"`
	// DNSProvider names a registered DNSProvider for dns-01.
	DNSProvider string `json:"dns_provider,omitempty"`
	// DNSResolvers (host:port) are asked whether a dns-01 record has
	// propagated; empty uses the system's.
	DNSResolvers []string `json:"dns_resolvers,omitempty"`
	// CABundle (PEM) is trusted for the directory's TLS certificate in
	// addition to the system roots (a private ACME CA).
	CABundle string `json:"ca_bundle,omitempty"`
	// AccountURL is the registered account; Gaffer sets it.
	AccountURL string `json:"account_url,omitempty"`
	// EABKeyID and EABHMACKey (base64url) are the external account
	// binding (RFC 8555 section 7.3.4) a CA that requires one gave for
	// registering. They are used once, when the authority is created;
	// the HMAC key is never stored.
	EABKeyID   string `json:"eab_key_id,omitempty"`
	EABHMACKey string `json:"eab_hmac_key,omitempty"`
}

// DNSProvider publishes and removes the TXT records of dns-01 challenges
// in a DNS zone Gaffer does not serve itself (a cloud DNS API, an RFC 2136
// server, a script).
type DNSProvider interface {
	// Present creates a TXT record named fqdn (with a trailing dot)
	// holding value.
	Present(ctx context.Context, fqdn, value string) error
	// CleanUp removes it.
	CleanUp(ctx context.Context, fqdn, value string) error
}

var (
	dnsProvidersMu sync.Mutex
	dnsProviders   = map[string]DNSProvider{}
)

// RegisterDNSProvider makes a DNS provider available to ACME authorities
// by name. "exec:<command>" names need no registration: Gaffer runs
// `<command> present|cleanup FQDN VALUE` for them.
func RegisterDNSProvider(name string, p DNSProvider) {
	dnsProvidersMu.Lock()
	defer dnsProvidersMu.Unlock()
	dnsProviders[name] = p
}

func dnsProvider(name string) (DNSProvider, error) {
	if cmd, ok := strings.CutPrefix(name, "exec:"); ok && cmd != "" {
		return execDNSProvider{command: cmd}, nil
	}
	dnsProvidersMu.Lock()
	defer dnsProvidersMu.Unlock()
	p, ok := dnsProviders[name]
	if !ok {
		return nil, badInput("no DNS provider %q is registered (or use exec:/path/to/script)", name)
	}
	return p, nil
}

type execDNSProvider struct{ command string }

func (e execDNSProvider) Present(ctx context.Context, fqdn, value string) error {
	_, err := runReload(ctx, e.command+" present "+shellQuote(fqdn)+" "+shellQuote(value))
	return err
}

func (e execDNSProvider) CleanUp(ctx context.Context, fqdn, value string) error {
	_, err := runReload(ctx, e.command+" cleanup "+shellQuote(fqdn)+" "+shellQuote(value))
	return err
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// legoDNS adapts a DNSProvider to lego.
type legoDNS struct {
	p        DNSProvider
	interval time.Duration
}

func (l legoDNS) Present(ctx context.Context, domain, token, keyAuth string) error {
	info := dns01.GetChallengeInfo(ctx, domain, keyAuth)
	return l.p.Present(ctx, info.EffectiveFQDN, info.Value)
}

func (l legoDNS) CleanUp(ctx context.Context, domain, token, keyAuth string) error {
	info := dns01.GetChallengeInfo(ctx, domain, keyAuth)
	return l.p.CleanUp(ctx, info.EffectiveFQDN, info.Value)
}

func (l legoDNS) Timeout() (time.Duration, time.Duration) { return 2 * time.Minute, l.interval }

type acmeUser struct {
	email string
	key   crypto.Signer
	reg   *acme.ExtendedAccount
}

func (u *acmeUser) GetEmail() string                       { return u.email }
func (u *acmeUser) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *acmeUser) GetPrivateKey() crypto.Signer           { return u.key }

func (cfg *ACMEIssuerConfig) validate() error {
	switch cfg.Challenge {
	case "", "http-01":
		cfg.Challenge = "http-01"
	case "dns-01":
		if _, err := dnsProvider(cfg.DNSProvider); err != nil {
			return err
		}
	default:
		return badInput("acme.challenge %q: want http-01 or dns-01", cfg.Challenge)
	}
	if (cfg.EABKeyID == "") != (cfg.EABHMACKey == "") {
		return badInput("acme.eab_key_id and acme.eab_hmac_key go together: give both or neither")
	}
	if cfg.CABundle != "" {
		if !x509.NewCertPool().AppendCertsFromPEM([]byte(cfg.CABundle)) {
			return badInput("acme.ca_bundle: no PEM certificate in it")
		}
	}
	return nil
}

var dnsClientMu sync.Mutex

// legoClient builds a lego client for an ACME authority.
func (m *Manager) legoClient(cfg *ACMEIssuerConfig, user *acmeUser) (*lego.Client, error) {
	lc := lego.NewConfig(user)
	lc.CADirURL = cfg.DirectoryURL
	lc.UserAgent = "gaffer-certs"
	lc.Certificate.Timeout = 2 * time.Minute
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM([]byte(cfg.CABundle))
	lc.HTTPClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	client, err := lego.NewClient(lc)
	if err != nil {
		return nil, fmt.Errorf("acme client for %s: %w", cfg.DirectoryURL, err)
	}
	switch cfg.Challenge {
	case "dns-01":
		p, err := dnsProvider(cfg.DNSProvider)
		if err != nil {
			return nil, err
		}
		opts := []dns01.ChallengeOption{}
		if len(cfg.DNSResolvers) > 0 {
			dnsClientMu.Lock()
			dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: cfg.DNSResolvers, Timeout: 5 * time.Second}))
			dnsClientMu.Unlock()
			opts = append(opts, dns01.DisableAuthoritativeNssPropagationRequirement())
		}
		if err := client.Challenge.SetDNS01Provider(legoDNS{p: p, interval: 250 * time.Millisecond}, opts...); err != nil {
			return nil, err
		}
	default:
		host, port, err := net.SplitHostPort(cmpOr(cfg.HTTPAddress, ":80"))
		if err != nil {
			return nil, badInput("acme.http_address %q: %v", cfg.HTTPAddress, err)
		}
		if err := client.Challenge.SetHTTP01Provider(http01.NewProviderServer(host, port)); err != nil {
			return nil, err
		}
	}
	return client, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// createACMEAuthority registers an account with the external CA and
// stores its key sealed.
func (m *Manager) createACMEAuthority(ctx context.Context, req CreateAuthorityRequest) (Authority, error) {
	cfg := *req.ACME
	if err := cfg.validate(); err != nil {
		return Authority{}, err
	}
	key, err := GenerateKey(KeyECDSAP256)
	if err != nil {
		return Authority{}, err
	}
	user := &acmeUser{email: cfg.Email, key: key}
	client, err := m.legoClient(&cfg, user)
	if err != nil {
		return Authority{}, badInput("%v", err)
	}
	var reg *acme.ExtendedAccount
	if cfg.EABKeyID != "" {
		reg, err = client.Registration.RegisterWithExternalAccountBinding(ctx, registration.RegisterEABOptions{
			TermsOfServiceAgreed: true, Kid: cfg.EABKeyID, HmacEncoded: cfg.EABHMACKey})
	} else {
		reg, err = client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
	}
	if err != nil {
		return Authority{}, badInput("register with %s: %v", cfg.DirectoryURL, err)
	}
	cfg.AccountURL, cfg.EABHMACKey = reg.Location, ""
	der, err := marshalKey(key)
	if err != nil {
		return Authority{}, err
	}
	sealed, kekID, err := m.keys.Seal(der, "authority:"+req.Name)
	if err != nil {
		return Authority{}, err
	}
	cfgJSON, _ := json.Marshal(cfg)
	pol, _ := json.Marshal(req.Policy)
	_, err = m.store.ExecContext(ctx, `INSERT INTO certs_authorities (name, kind, subject, key_algorithm, sealed_key, kek_id, policy, acme, created_at, created_by)
		VALUES (?, 'acme', ?, ?, ?, ?, ?, ?, ?, ?)`, req.Name, cfg.DirectoryURL, KeyECDSAP256, sealed, kekID, string(pol),
		string(cfgJSON), m.now().UnixMilli(), actor(ctx))
	if store.IsUniqueViolation(err) {
		return Authority{}, fmt.Errorf("authority %s already exists: %w", req.Name, ErrConflict)
	}
	if err != nil {
		return Authority{}, fmt.Errorf("store authority %s: %w", req.Name, err)
	}
	return m.Authority(ctx, req.Name)
}

// acmeAccount loads an ACME authority's settings and account.
func (m *Manager) acmeAccount(ctx context.Context, name string) (*ACMEIssuerConfig, *acmeUser, Policy, error) {
	var cfgJSON, polJSON string
	var sealed []byte
	err := m.store.QueryRowContext(ctx, `SELECT acme, policy, sealed_key FROM certs_authorities WHERE name = ? AND kind = 'acme'`,
		name).Scan(&cfgJSON, &polJSON, &sealed)
	if err != nil {
		return nil, nil, Policy{}, fmt.Errorf("ACME authority %q: %w", name, ErrNotFound)
	}
	cfg := &ACMEIssuerConfig{}
	var pol Policy
	if err := errors.Join(json.Unmarshal([]byte(cfgJSON), cfg), json.Unmarshal([]byte(polJSON), &pol)); err != nil {
		return nil, nil, pol, fmt.Errorf("ACME authority %s: %w", name, err)
	}
	der, err := m.keys.Open(sealed, "authority:"+name)
	if err != nil {
		return nil, nil, pol, err
	}
	key, err := parseKey(der)
	if err != nil {
		return nil, nil, pol, err
	}
	return cfg, &acmeUser{email: cfg.Email, key: key, reg: &acme.ExtendedAccount{Location: cfg.AccountURL}}, pol, nil
}

// obtainACME gets a certificate from an external ACME CA for a key Gaffer
// generates, after checking the authority's own policy.
func (m *Manager) obtainACME(ctx context.Context, req IssueRequest) (Certificate, error) {
	cfg, user, pol, err := m.acmeAccount(ctx, req.Authority)
	if err != nil {
		return Certificate{}, err
	}
	if strings.TrimSpace(req.CSR) != "" {
		return Certificate{}, badInput("ACME authorities issue for keys Gaffer generates; leave csr empty")
	}
	sans := append([]string(nil), req.SANs...)
	if req.CommonName != "" {
		sans = append([]string{req.CommonName}, sans...)
	}
	names, err := ParseNames(sans)
	if err != nil {
		return Certificate{}, err
	}
	if err := pol.CheckNames(names); err != nil {
		return Certificate{}, err
	}
	if len(names.IPs)+len(names.Emails)+len(names.URIs) > 0 {
		return Certificate{}, badInput("ACME authorities certify DNS names only")
	}
	key, err := GenerateKey(req.KeyType)
	if err != nil {
		return Certificate{}, badInput("%v", err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: names.DNS[0]}, DNSNames: names.DNS}, key)
	if err != nil {
		return Certificate{}, fmt.Errorf("acme: CSR: %w", err)
	}
	csr, _ := x509.ParseCertificateRequest(csrDER)
	client, err := m.legoClient(cfg, user)
	if err != nil {
		return Certificate{}, err
	}
	res, err := client.Certificate.ObtainForCSR(ctx, certificate.ObtainForCSRRequest{CSR: csr, PrivateKey: key, Bundle: true})
	if err != nil {
		return Certificate{}, fmt.Errorf("acme: obtain from %s: %w", cfg.DirectoryURL, err)
	}
	b, err := ParseBundle(res.Certificate)
	if err != nil {
		return Certificate{}, fmt.Errorf("acme: %s returned: %w", cfg.DirectoryURL, err)
	}
	leaf := b.Certificates[0]
	if !sameKey(key, leaf) {
		return Certificate{}, fmt.Errorf("acme: %s returned a certificate for another key", cfg.DirectoryURL)
	}
	return m.storeNew(ctx, newRecord(req, leaf, b.Certificates[1:], req.Authority, SourceACME), key)
}

// revokeAtACME asks the external CA to revoke a certificate it issued.
func (m *Manager) revokeAtACME(ctx context.Context, c Certificate, code int) error {
	cfg, user, _, err := m.acmeAccount(ctx, c.Authority)
	if err != nil {
		return err
	}
	client, err := m.legoClient(cfg, user)
	if err != nil {
		return err
	}
	reason := uint(code)
	if err := client.Certificate.RevokeWithReason(ctx, []byte(c.Certificate), &reason); err != nil {
		return fmt.Errorf("acme: revoke %s at %s: %w", c.Serial, cfg.DirectoryURL, err)
	}
	return nil
}
