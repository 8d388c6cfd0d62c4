package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"encoding/asn1"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPValidity is how long an OCSP response says it is good for; Gaffer
// answers from a cache for at most OCSPCacheFor, and a revocation in this
// process drops the cached answer at once.
const (
	OCSPValidity = time.Hour
	OCSPCacheFor = time.Minute
)

type ocspEntry struct {
	der []byte
	at  time.Time
}

type ocspCache struct {
	mu sync.Mutex
	m  map[string]ocspEntry
}

func newOCSPCache() *ocspCache { return &ocspCache{m: map[string]ocspEntry{}} }

func (c *ocspCache) get(key string, now time.Time) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) > OCSPCacheFor {
		return nil
	}
	return e.der
}

func (c *ocspCache) put(key string, der []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 100_000 {
		clear(c.m)
	}
	c.m[key] = ocspEntry{der: der, at: now}
}

func (c *ocspCache) forget(serial string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if len(k) > len(serial) && k[len(k)-len(serial)-1:] == "/"+serial {
			delete(c.m, k)
		}
	}
}

// OCSP answers a DER OCSP request (RFC 6960) for an authority's
// certificates, signed by the authority itself. Malformed requests get
// the malformedRequest response and requests about another issuer
// unauthorized, both as bytes to send with status 200.
func (m *Manager) OCSP(ctx context.Context, authority string, reqDER []byte) ([]byte, error) {
	req, err := ocsp.ParseRequest(reqDER)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	ca, err := m.CA(ctx, authority)
	if errors.Is(err, ErrNotFound) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	if err != nil {
		return nil, err
	}
	if !ca.Online() {
		return ocsp.TryLaterErrorResponse, nil
	}
	if !issuedBy(req, ca.Cert) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	serial := NormalizeSerial(req.SerialNumber.Text(16))
	key := ca.Name + "/" + serial
	now := m.now()
	if der := m.ocsp.get(key, now); der != nil {
		return der, nil
	}
	tmpl := ocsp.Response{SerialNumber: req.SerialNumber, ThisUpdate: now.Add(-time.Minute).UTC().Truncate(time.Second),
		NextUpdate: now.Add(OCSPValidity).UTC().Truncate(time.Second)}
	var revoked sql.NullInt64
	var reason int
	var auth string
	err = m.store.QueryRowContext(ctx, `SELECT authority, revoked_at, revocation_reason FROM certs_certificates
		WHERE authority = ? AND serial = ?`, ca.Name, serial).Scan(&auth, &revoked, &reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		tmpl.Status = ocsp.Unknown
	case err != nil:
		return nil, fmt.Errorf("OCSP lookup of %s: %w", serial, err)
	case revoked.Valid:
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, time.UnixMilli(revoked.Int64).UTC(), reason
	default:
		tmpl.Status = ocsp.Good
	}
	der, err := ocsp.CreateResponse(ca.Cert, ca.Cert, tmpl, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response for %s: %w", serial, err)
	}
	m.ocsp.put(key, der, now)
	return der, nil
}

// issuedBy reports whether an OCSP request names issuer by its name and
// key hashes.
func issuedBy(req *ocsp.Request, issuer *x509.Certificate) bool {
	h := req.HashAlgorithm
	if h == 0 || !h.Available() {
		return false
	}
	var spki struct {
		Algorithm asn1.RawValue
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	return bytes.Equal(digest(h, issuer.RawSubject), req.IssuerNameHash) &&
		bytes.Equal(digest(h, spki.Key.RightAlign()), req.IssuerKeyHash)
}

func digest(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}
