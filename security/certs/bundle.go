package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// MaxBundleBytes bounds an imported PEM bundle.
const MaxBundleBytes = 4 << 20

// Bundle is what a PEM bundle held.
type Bundle struct {
	// Certificates in the order found.
	Certificates []*x509.Certificate
	// Skipped lists blocks that were not certificates (keys are never
	// read from an import: Gaffer holds only keys it generated).
	Skipped []string
}

// ParseBundle reads every CERTIFICATE block of a PEM bundle. Text between
// blocks is ignored; a block that is not a certificate is skipped and
// named; a malformed certificate is an error naming its position.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleBytes {
		return nil, badInput("PEM bundle: %d bytes is over the limit of %d", len(data), MaxBundleBytes)
	}
	b := &Bundle{}
	rest := data
	for i := 1; ; i++ {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			b.Skipped = append(b.Skipped, fmt.Sprintf("block %d: %s", i, blk.Type))
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, badInput("PEM bundle: block %d: %v", i, err)
		}
		b.Certificates = append(b.Certificates, c)
	}
	if len(b.Certificates) == 0 {
		if bytes.Contains(data, []byte("-----BEGIN")) {
			return nil, badInput("PEM bundle: no certificate in it")
		}
		return nil, badInput("PEM bundle: no PEM blocks found")
	}
	return b, nil
}

// ImportRequest imports the certificates of a PEM bundle into the
// inventory (leaves and CAs alike; the chain of each is found in the
// bundle).
type ImportRequest struct {
	PEM        string `json:"pem"`
	Owner      string `json:"owner,omitempty"`
	Team       string `json:"team,omitempty"`
	Notes      string `json:"notes,omitempty"`
	NotifyDays []int  `json:"notify_days,omitempty"`
}

// ImportResponse lists what an import did.
type ImportResponse struct {
	Imported []Certificate `json:"imported"`
	// Existing are certificates already in the inventory, by serial.
	Existing []string `json:"existing,omitempty"`
	Skipped  []string `json:"skipped,omitempty"`
}

// Import adds the certificates of a PEM bundle to the inventory.
func (m *Manager) Import(ctx context.Context, req ImportRequest) (ImportResponse, error) {
	var res ImportResponse
	b, err := ParseBundle([]byte(req.PEM))
	if err != nil {
		return res, err
	}
	if err := checkNotifyDays(req.NotifyDays); err != nil {
		return res, err
	}
	res.Skipped = b.Skipped
	var ids []int64
	err = m.store.InTx(ctx, func(tx *store.Tx) error {
		for _, c := range b.Certificates {
			if c.IsCA && len(b.Certificates) > 1 {
				continue // a chain certificate of the bundle's leaf
			}
			id, err := m.insertCert(ctx, tx, &record{cert: c, chain: chainFor(c, b.Certificates), source: SourceImported,
				owner: req.Owner, team: req.Team, notes: req.Notes, notifyDays: req.NotifyDays}, actor(ctx))
			if errors.Is(err, ErrConflict) {
				res.Existing = append(res.Existing, SerialHex(c))
				continue
			}
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		c, err := m.Get(ctx, id)
		if err != nil {
			return res, err
		}
		res.Imported = append(res.Imported, c)
	}
	return res, nil
}

// chainFor returns c's issuers found among pool, nearest first.
func chainFor(c *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	cur := c
	for len(out) < 8 {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		var next *x509.Certificate
		for _, p := range pool {
			if p != cur && bytes.Equal(p.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(p) == nil {
				next = p
				break
			}
		}
		if next == nil || bytes.Equal(next.RawIssuer, next.RawSubject) {
			break
		}
		out = append(out, next)
		cur = next
	}
	return out
}
