package certs

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Authority is an issuer as the API shows it: an internal root or
// intermediate CA, or an external ACME CA.
type Authority struct {
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	Parent       string    `json:"parent,omitempty"`
	Subject      string    `json:"subject,omitempty"`
	Certificate  string    `json:"certificate,omitempty"`
	KeyAlgorithm string    `json:"key_algorithm,omitempty"`
	Online       bool      `json:"online"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	Policy       Policy    `json:"policy"`
	// ACME configures an external ACME CA (Kind "acme").
	ACME      *ACMEIssuerConfig `json:"acme,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	CreatedBy string            `json:"created_by"`
}

// CreateAuthorityRequest asks for a new authority.
type CreateAuthorityRequest struct {
	Name string `json:"name"`
	// Kind is "root", "intermediate" (signed by Parent) or "acme".
	Kind         string   `json:"kind"`
	Parent       string   `json:"parent,omitempty"`
	CommonName   string   `json:"common_name,omitempty"`
	Organization string   `json:"organization,omitempty"`
	KeyType      string   `json:"key_type,omitempty"`
	Validity     Duration `json:"validity,omitempty"`
	Policy       Policy   `json:"policy"`
	// ACME configures an external ACME CA.
	ACME *ACMEIssuerConfig `json:"acme,omitempty"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CreateAuthority creates a root, an intermediate signed by its parent, or
// an external ACME issuer. Keys are generated here and sealed under the
// key-encryption key.
func (m *Manager) CreateAuthority(ctx context.Context, req CreateAuthorityRequest) (Authority, error) {
	if !namePattern.MatchString(req.Name) {
		return Authority{}, badInput("authority name %q: lower-case letters, digits and dashes, at most 63", req.Name)
	}
	if err := req.Policy.Validate(); err != nil {
		return Authority{}, badInput("policy: %v", err)
	}
	subject := pkix.Name{CommonName: req.CommonName}
	if req.Organization != "" {
		subject.Organization = []string{req.Organization}
	}
	if subject.CommonName == "" {
		subject.CommonName = req.Name
	}
	validity := time.Duration(req.Validity)
	var ca *CA
	var err error
	switch req.Kind {
	case KindRoot:
		if validity == 0 {
			validity = 10 * 365 * 24 * time.Hour
		}
		ca, err = NewRoot(req.Name, subject, req.KeyType, validity, m.now())
	case KindIntermediate:
		if validity == 0 {
			validity = 5 * 365 * 24 * time.Hour
		}
		var parent *CA
		if parent, err = m.CA(ctx, req.Parent); err != nil {
			return Authority{}, err
		}
		ca, err = parent.NewIntermediate(req.Name, subject, req.KeyType, validity, req.Policy, m.now())
	case KindACME:
		if req.ACME == nil || req.ACME.DirectoryURL == "" {
			return Authority{}, badInput("an ACME authority needs acme.directory_url")
		}
		return m.createACMEAuthority(ctx, req)
	default:
		return Authority{}, badInput("authority kind %q: want root, intermediate or acme", req.Kind)
	}
	if err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			return Authority{}, err
		}
		return Authority{}, fmt.Errorf("create authority %s: %w", req.Name, err)
	}
	ca.Policy, ca.URLs = req.Policy, m.urls
	if err := m.insertAuthority(ctx, ca, req.Parent); err != nil {
		return Authority{}, err
	}
	return m.Authority(ctx, req.Name)
}

func (m *Manager) insertAuthority(ctx context.Context, ca *CA, parent string) error {
	keyDER, err := marshalKey(ca.signer)
	if err != nil {
		return err
	}
	sealed, kekID, err := m.keys.Seal(keyDER, "authority:"+ca.Name)
	if err != nil {
		return err
	}
	kt, _ := KeyType(ca.Cert.PublicKey)
	pol, _ := json.Marshal(ca.Policy)
	_, err = m.store.ExecContext(ctx, `INSERT INTO certs_authorities
		(name, kind, parent, subject, certificate, key_algorithm, sealed_key, kek_id, not_before, not_after, policy, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ca.Name, ca.Kind, parent, ca.Cert.Subject.String(), string(pemCert(ca.Cert.Raw)), kt, sealed, kekID,
		ca.Cert.NotBefore.UnixMilli(), ca.Cert.NotAfter.UnixMilli(), string(pol), m.now().UnixMilli(), actor(ctx))
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("authority %s already exists: %w", ca.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store authority %s: %w", ca.Name, err)
	}
	return nil
}

const authorityColumns = `name, kind, parent, subject, certificate, key_algorithm, sealed_key IS NOT NULL, not_before, not_after, policy, acme, created_at, created_by`

func scanAuthority(sc interface{ Scan(...any) error }) (Authority, error) {
	var a Authority
	var nb, na, created int64
	var pol, acme string
	if err := sc.Scan(&a.Name, &a.Kind, &a.Parent, &a.Subject, &a.Certificate, &a.KeyAlgorithm, &a.Online,
		&nb, &na, &pol, &acme, &created, &a.CreatedBy); err != nil {
		return a, err
	}
	a.NotBefore, a.NotAfter, a.CreatedAt = time.UnixMilli(nb).UTC(), time.UnixMilli(na).UTC(), time.UnixMilli(created).UTC()
	if err := json.Unmarshal([]byte(pol), &a.Policy); err != nil {
		return a, fmt.Errorf("authority %s: decode policy: %w", a.Name, err)
	}
	if a.Kind == KindACME {
		a.ACME = &ACMEIssuerConfig{}
		if err := json.Unmarshal([]byte(acme), a.ACME); err != nil {
			return a, fmt.Errorf("authority %s: decode acme settings: %w", a.Name, err)
		}
		a.Online = true
	}
	return a, nil
}

// Authority returns one authority.
func (m *Manager) Authority(ctx context.Context, name string) (Authority, error) {
	a, err := scanAuthority(m.store.QueryRowContext(ctx, `SELECT `+authorityColumns+` FROM certs_authorities WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("authority %q: %w", name, ErrNotFound)
	}
	return a, err
}

// Authorities lists every authority, roots first.
func (m *Manager) Authorities(ctx context.Context) ([]Authority, error) {
	rows, err := m.store.QueryContext(ctx, `SELECT `+authorityColumns+` FROM certs_authorities
		ORDER BY CASE kind WHEN 'root' THEN 0 WHEN 'intermediate' THEN 1 ELSE 2 END, name`)
	if err != nil {
		return nil, fmt.Errorf("list authorities: %w", err)
	}
	defer rows.Close()
	var out []Authority
	for rows.Next() {
		a, err := scanAuthority(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CA loads an internal authority for signing ("" is the default issuing
// authority).
func (m *Manager) CA(ctx context.Context, name string) (*CA, error) {
	if name == "" {
		var err error
		if name, err = m.defaultIssuer(ctx); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	ca := m.cas[name]
	m.mu.Unlock()
	if ca != nil {
		return ca, nil
	}
	ca, err := m.loadCA(ctx, name, 0)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.cas[name] = ca
	m.mu.Unlock()
	return ca, nil
}

func (m *Manager) defaultIssuer(ctx context.Context) (string, error) {
	if m.defaultAuthority != "" {
		return m.defaultAuthority, nil
	}
	rows, err := m.store.QueryContext(ctx, `SELECT name FROM certs_authorities
		WHERE kind = 'intermediate' AND sealed_key IS NOT NULL ORDER BY created_at, name`)
	if err != nil {
		return "", fmt.Errorf("find the default authority: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", fmt.Errorf("find the default authority: %w", err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("find the default authority: %w", err)
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("no issuing authority: create an intermediate first: %w", ErrNotFound)
	case 1:
		return names[0], nil
	}
	// Picking one of several silently issued from an authority the caller
	// did not mean (the demo's, not the one just created).
	return "", badInput("authority: %d authorities can issue (%s); name one, or set --certs-default-authority",
		len(names), strings.Join(names, ", "))
}

// forgetCA drops a cached CA after a change.
func (m *Manager) forgetCA(name string) {
	m.mu.Lock()
	delete(m.cas, name)
	m.mu.Unlock()
}

func (m *Manager) loadCA(ctx context.Context, name string, depth int) (*CA, error) {
	if depth > 8 {
		return nil, fmt.Errorf("authority %s: chain too deep", name)
	}
	var kind, parent, certPEM, polJSON string
	var sealed []byte
	err := m.store.QueryRowContext(ctx, `SELECT kind, parent, certificate, policy, sealed_key
		FROM certs_authorities WHERE name = ?`, name).Scan(&kind, &parent, &certPEM, &polJSON, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("authority %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load authority %s: %w", name, err)
	}
	if kind == KindACME {
		return nil, badInput("authority %s is an external ACME CA: it does not sign here", name)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("authority %s: %w", name, err)
	}
	var pol Policy
	if err := json.Unmarshal([]byte(polJSON), &pol); err != nil {
		return nil, fmt.Errorf("authority %s: decode policy: %w", name, err)
	}
	ca := &CA{Name: name, Kind: kind, Cert: cert, Policy: pol, URLs: m.urls}
	if sealed != nil {
		der, err := m.keys.Open(sealed, "authority:"+name)
		if err != nil {
			return nil, err
		}
		if ca.signer, err = parseKey(der); err != nil {
			return nil, fmt.Errorf("authority %s: %w", name, err)
		}
	}
	if parent != "" {
		p, err := m.loadCA(ctx, parent, depth+1)
		if err != nil {
			return nil, err
		}
		ca.Chain = append([]*x509.Certificate{p.Cert}, p.Chain...)
	}
	return ca, nil
}

// SetPolicy replaces an authority's policy.
func (m *Manager) SetPolicy(ctx context.Context, name string, p Policy) (Authority, error) {
	if err := p.Validate(); err != nil {
		return Authority{}, badInput("policy: %v", err)
	}
	b, _ := json.Marshal(p)
	res, err := m.store.ExecContext(ctx, `UPDATE certs_authorities SET policy = ? WHERE name = ?`, string(b), name)
	if err != nil {
		return Authority{}, fmt.Errorf("set policy of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Authority{}, fmt.Errorf("authority %q: %w", name, ErrNotFound)
	}
	m.forgetCA(name)
	return m.Authority(ctx, name)
}

// TakeOffline deletes an authority's private key from Gaffer, for a root
// kept offline: export it first (ExportAuthorityKey). The authority can
// no longer sign until BringOnline gives the key back.
func (m *Manager) TakeOffline(ctx context.Context, name string) (Authority, error) {
	res, err := m.store.ExecContext(ctx, `UPDATE certs_authorities SET sealed_key = NULL, kek_id = ''
		WHERE name = ? AND kind <> 'acme'`, name)
	if err != nil {
		return Authority{}, fmt.Errorf("take %s offline: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Authority{}, fmt.Errorf("authority %q: %w", name, ErrNotFound)
	}
	m.forgetCA(name)
	return m.Authority(ctx, name)
}

// BringOnline gives an offline authority its private key back (PEM); the
// key must match the authority's certificate.
func (m *Manager) BringOnline(ctx context.Context, name, keyPEM string) (Authority, error) {
	ca, err := m.CA(ctx, name)
	if err != nil {
		return Authority{}, err
	}
	blk, _ := pem.Decode([]byte(keyPEM))
	if blk == nil {
		return Authority{}, badInput("key: not PEM")
	}
	key, err := parseKey(blk.Bytes)
	if err != nil {
		return Authority{}, badInput("key: %v", err)
	}
	if !sameKey(key, ca.Cert) {
		return Authority{}, badInput("key: does not match the certificate of %s", name)
	}
	der, _ := marshalKey(key)
	sealed, kekID, err := m.keys.Seal(der, "authority:"+name)
	if err != nil {
		return Authority{}, err
	}
	if _, err := m.store.ExecContext(ctx, `UPDATE certs_authorities SET sealed_key = ?, kek_id = ? WHERE name = ?`,
		sealed, kekID, name); err != nil {
		return Authority{}, fmt.Errorf("bring %s online: %w", name, err)
	}
	m.forgetCA(name)
	return m.Authority(ctx, name)
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func parseCertPEM(s string) (*x509.Certificate, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// InputError is a request that is wrong in itself (400).
type InputError struct{ Reason string }

// Error returns the reason.
func (e *InputError) Error() string { return e.Reason }

func badInput(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}
