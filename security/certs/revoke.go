package certs

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
)

// Revocation reasons (RFC 5280 section 5.3.1), by the names the API uses.
var reasonCodes = map[string]int{
	"unspecified": 0, "key_compromise": 1, "ca_compromise": 2, "affiliation_changed": 3, "superseded": 4,
	"cessation_of_operation": 5, "certificate_hold": 6, "privilege_withdrawn": 9, "aa_compromise": 10,
}

// ReasonCode returns the RFC 5280 code of a reason name ("" is
// unspecified). It accepts the camelCase spellings of RFC 5280 and
// OpenSSL too.
func ReasonCode(name string) (int, error) {
	n := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	for k, v := range reasonCodes {
		if n == k || n == strings.ReplaceAll(k, "_", "") {
			return v, nil
		}
	}
	if n == "" {
		return 0, nil
	}
	return 0, badInput("revocation reason %q: want one of unspecified, key_compromise, ca_compromise, affiliation_changed, superseded, cessation_of_operation, certificate_hold, privilege_withdrawn, aa_compromise", name)
}

// ReasonName is the API's name of a reason code.
func ReasonName(code int) string {
	for k, v := range reasonCodes {
		if v == code {
			return k
		}
	}
	return "unspecified"
}

// Revoke revokes a certificate issued by an internal authority; its serial
// appears in the authority's next CRL and OCSP answers "revoked" at once.
func (m *Manager) Revoke(ctx context.Context, id int64, reason string) (Certificate, error) {
	code, err := ReasonCode(reason)
	if err != nil {
		return Certificate{}, err
	}
	c, err := m.Get(ctx, id)
	if err != nil {
		return c, err
	}
	if c.RevokedAt != nil {
		return c, fmt.Errorf("certificate %s was already revoked at %s: %w", c.Serial, c.RevokedAt.Format(time.RFC3339), ErrConflict)
	}
	if c.Source == SourceDiscovered || c.Source == SourceImported {
		return c, badInput("certificate %s was %s, not issued by Gaffer: revoke it at its issuer", c.Serial, c.Source)
	}
	if c.Source == SourceACME {
		if err := m.revokeAtACME(ctx, c, code); err != nil {
			return c, err
		}
	}
	res, err := m.store.ExecContext(ctx, `UPDATE certs_certificates SET revoked_at = ?, revocation_reason = ?
		WHERE id = ? AND revoked_at IS NULL`, m.now().UnixMilli(), code, id)
	if err != nil {
		return c, fmt.Errorf("revoke %s: %w", c.Serial, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return c, fmt.Errorf("certificate %s was revoked meanwhile: %w", c.Serial, ErrConflict)
	}
	m.invalidateRevocation(c.Authority, c.Serial)
	c, err = m.Get(ctx, id)
	if err == nil {
		m.publish(ctx, RevokedEventType, c, brief(c))
	}
	return c, err
}

// revokeJob revokes from a bulk job, auditing each.
func (m *Manager) revokeAudited(ctx context.Context, id int64, reason, via string) error {
	c, err := m.Revoke(ctx, id, reason)
	outcome, detail := audit.OutcomeSuccess, via
	if err != nil {
		outcome, detail = audit.OutcomeFailure, via+": "+err.Error()
	}
	m.record(ctx, "certs.certificate.revoke", fmt.Sprintf("cert:%d/%s", id, c.Serial), outcome, detail)
	return err
}

func (m *Manager) invalidateRevocation(authority, serial string) {
	m.mu.Lock()
	delete(m.crls, authority)
	m.mu.Unlock()
	m.ocsp.forget(serial)
}

// RevokedEntry is one revoked serial in a CRL.
type RevokedEntry struct {
	Serial *big.Int
	At     time.Time
	Reason int
}

// BuildCRL signs a CRL for ca listing entries, numbered number, valid
// from now until nextUpdate.
func BuildCRL(ca *CA, entries []RevokedEntry, number int64, now, nextUpdate time.Time) ([]byte, error) {
	if !ca.Online() {
		return nil, fmt.Errorf("CRL of %s: %w", ca.Name, ErrOffline)
	}
	list := make([]x509.RevocationListEntry, len(entries))
	for i, e := range entries {
		list[i] = x509.RevocationListEntry{SerialNumber: e.Serial, RevocationTime: e.At.UTC(), ReasonCode: e.Reason}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		RevokedCertificateEntries: list, Number: big.NewInt(number), ThisUpdate: now.UTC(), NextUpdate: nextUpdate.UTC(),
	}, ca.Cert, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("sign CRL of %s: %w", ca.Name, err)
	}
	return der, nil
}

// CRL lifetimes: a CRL says it is good for CRLValidity and Gaffer signs a
// new one after CRLRefresh, or at once after a revocation.
const (
	CRLValidity = 24 * time.Hour
	CRLRefresh  = time.Hour
)

type crlCache struct {
	der     []byte
	at      time.Time
	count   int64
	lastRev int64
}

// CRL returns the current DER CRL of an authority, signing a new one when
// a certificate was revoked since (in any process) or the cached one is
// over CRLRefresh old.
func (m *Manager) CRL(ctx context.Context, authority string) ([]byte, error) {
	ca, err := m.CA(ctx, authority)
	if err != nil {
		return nil, err
	}
	now := m.now()
	var count, last int64
	if err := m.store.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(revoked_at), 0) FROM certs_certificates
		WHERE authority = ? AND revoked_at IS NOT NULL`, ca.Name).Scan(&count, &last); err != nil {
		return nil, fmt.Errorf("CRL of %s: %w", ca.Name, err)
	}
	m.mu.Lock()
	c := m.crls[ca.Name]
	m.mu.Unlock()
	if c != nil && c.count == count && c.lastRev == last && now.Sub(c.at) < CRLRefresh {
		return c.der, nil
	}
	rows, err := m.store.QueryContext(ctx, `SELECT serial, revoked_at, revocation_reason FROM certs_certificates
		WHERE authority = ? AND revoked_at IS NOT NULL AND not_after > ?`, ca.Name, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("CRL of %s: %w", ca.Name, err)
	}
	var entries []RevokedEntry
	for rows.Next() {
		var serial string
		var at int64
		var reason int
		if err := rows.Scan(&serial, &at, &reason); err != nil {
			rows.Close()
			return nil, err
		}
		n, ok := new(big.Int).SetString(serial, 16)
		if !ok {
			continue
		}
		entries = append(entries, RevokedEntry{Serial: n, At: time.UnixMilli(at), Reason: reason})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var number int64
	if err := m.store.QueryRowContext(ctx, `UPDATE certs_authorities SET crl_number = crl_number + 1 WHERE name = ?
		RETURNING crl_number`, ca.Name).Scan(&number); err != nil {
		return nil, fmt.Errorf("CRL number of %s: %w", ca.Name, err)
	}
	der, err := BuildCRL(ca, entries, number, now.Add(-time.Minute), now.Add(CRLValidity))
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.crls[ca.Name] = &crlCache{der: der, at: now, count: count, lastRev: last}
	m.mu.Unlock()
	return der, nil
}
