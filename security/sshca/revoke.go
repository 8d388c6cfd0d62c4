package sshca

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Kinds of revocation.
const (
	RevokeSerial    = "serial"
	RevokeKeyID     = "key_id"
	RevokePublicKey = "public_key"
)

// RevokeRequest is the body of POST /api/v1/sshca/revocations: exactly one
// of Serial, KeyID and PublicKey.
type RevokeRequest struct {
	// Serial revokes one certificate Gaffer issued (decimal string).
	Serial string `json:"serial,omitempty"`
	// KeyID revokes every certificate with this key ID, from CA (or from
	// any CA when CA is empty).
	KeyID string `json:"key_id,omitempty"`
	// PublicKey revokes a key and every certificate for it; a certificate
	// line revokes that certificate by serial.
	PublicKey string `json:"public_key,omitempty"`
	CA        string `json:"ca,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Revocation is one recorded revocation.
type Revocation struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	CA          string    `json:"ca,omitempty"`
	CAKeyID     string    `json:"ca_key_id,omitempty"`
	Serial      uint64    `json:"serial,string,omitempty"`
	KeyID       string    `json:"key_id,omitempty"`
	PublicKey   string    `json:"public_key,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	RevokedAt   time.Time `json:"revoked_at"`
	RevokedBy   string    `json:"revoked_by"`
}

// Revoke records a revocation and marks the certificates it covers.
// Errors wrapping ErrNotFound name an unknown serial or CA; other request
// errors are *Refusal (400).
func (a *Authority) Revoke(ctx context.Context, req RevokeRequest, by string) (Revocation, error) {
	n := 0
	for _, s := range []string{req.Serial, req.KeyID, req.PublicKey} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return Revocation{}, invalid("serial, key_id, public_key: give exactly one")
	}
	if len(req.Reason) > 1024 || len(req.KeyID) > 4096 || strings.ContainsRune(req.KeyID, 0) {
		return Revocation{}, invalid("reason, key_id: too long or not text")
	}
	rev := Revocation{CA: req.CA, Reason: req.Reason, RevokedAt: a.now().UTC().Truncate(time.Millisecond), RevokedBy: by}
	if req.CA != "" {
		if _, err := a.GetCA(ctx, req.CA); err != nil {
			return Revocation{}, err
		}
	}
	switch {
	case req.Serial != "":
		serial, err := strconv.ParseUint(req.Serial, 10, 64)
		if err != nil || serial == 0 {
			return Revocation{}, invalid("serial: want a positive decimal number, got %q", req.Serial)
		}
		if err := a.fillFromCert(ctx, &rev, serial); err != nil {
			return Revocation{}, err
		}
	case req.KeyID != "":
		rev.Kind, rev.KeyID = RevokeKeyID, req.KeyID
	default:
		pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(req.PublicKey)))
		if err != nil || len(strings.TrimSpace(string(rest))) > 0 {
			return Revocation{}, invalid("public_key: not one OpenSSH public key or certificate")
		}
		if cert, ok := pub.(*ssh.Certificate); ok {
			if err := a.fillFromCert(ctx, &rev, cert.Serial); err != nil {
				return Revocation{}, err
			}
			break
		}
		if _, err := DescribeKey(pub); err != nil {
			return Revocation{}, invalid("%v", err)
		}
		rev.Kind, rev.PublicKey, rev.Fingerprint = RevokePublicKey, authorizedLine(pub, ""), ssh.FingerprintSHA256(pub)
	}
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO sshca_revocations (kind, ca_name, ca_key_id, serial, key_id, public_key,
			fingerprint, reason, revoked_at, revoked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			rev.Kind, rev.CA, rev.CAKeyID, int64(rev.Serial), rev.KeyID, rev.PublicKey, rev.Fingerprint, rev.Reason,
			rev.RevokedAt.UnixMilli(), by).Scan(&rev.ID)
		if err != nil {
			return err
		}
		var cond string
		var args []any
		switch rev.Kind {
		case RevokeSerial:
			cond, args = "serial = ?", []any{int64(rev.Serial)}
		case RevokeKeyID:
			cond, args = "key_id = ?", []any{rev.KeyID}
			if rev.CA != "" {
				cond, args = cond+" AND ca_name = ?", append(args, rev.CA)
			}
		case RevokePublicKey:
			cond, args = "fingerprint = ?", []any{rev.Fingerprint}
		}
		_, err = tx.ExecContext(ctx, "UPDATE sshca_certs SET revoked_at = ? WHERE revoked_at IS NULL AND "+cond,
			append([]any{rev.RevokedAt.UnixMilli()}, args...)...)
		return err
	})
	if err != nil {
		return Revocation{}, fmt.Errorf("sshca: revoke: %w", err)
	}
	a.invalidate()
	a.notify(ctx, EventRevoked, "sshca-revocation:"+strconv.FormatInt(rev.ID, 10), rev)
	return rev, nil
}

// fillFromCert makes rev a revocation of the certificate with serial.
func (a *Authority) fillFromCert(ctx context.Context, rev *Revocation, serial uint64) error {
	c, err := a.GetCert(ctx, serial)
	if err != nil {
		return err
	}
	if rev.CA != "" && rev.CA != c.CA {
		return invalid("ca: certificate %d was issued by CA %q, not %q", serial, c.CA, rev.CA)
	}
	rev.Kind, rev.Serial, rev.CA, rev.CAKeyID, rev.Fingerprint = RevokeSerial, serial, c.CA, c.CAKeyID, c.Fingerprint
	if pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.Certificate)); err == nil {
		if cert, ok := pub.(*ssh.Certificate); ok {
			rev.PublicKey = authorizedLine(cert.Key, "")
		}
	}
	return nil
}

// ListRevocations returns every revocation, newest first.
func (a *Authority) ListRevocations(ctx context.Context) ([]Revocation, error) {
	rows, err := a.store.QueryContext(ctx, `SELECT id, kind, ca_name, ca_key_id, serial, key_id, public_key, fingerprint,
		reason, revoked_at, revoked_by FROM sshca_revocations ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sshca: list revocations: %w", err)
	}
	defer rows.Close()
	out := []Revocation{}
	for rows.Next() {
		var r Revocation
		var serial, at int64
		if err := rows.Scan(&r.ID, &r.Kind, &r.CA, &r.CAKeyID, &serial, &r.KeyID, &r.PublicKey, &r.Fingerprint,
			&r.Reason, &at, &r.RevokedBy); err != nil {
			return nil, fmt.Errorf("sshca: list revocations: %w", err)
		}
		r.Serial, r.RevokedAt = uint64(serial), time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// krlExpiryMargin keeps an expired certificate's serial in the KRL for a
// while, for servers whose clocks are behind.
const krlExpiryMargin = time.Hour

// KRL returns the OpenSSH key revocation list of every revocation, less
// the serials of certificates that expired more than an hour ago (sshd
// refuses those anyway, and the list stays small). It is rebuilt when a
// revocation is added, and at most once a minute otherwise.
func (a *Authority) KRL(ctx context.Context) ([]byte, error) {
	var version int64
	if err := a.store.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM sshca_revocations").Scan(&version); err != nil {
		return nil, fmt.Errorf("sshca: KRL: %w", err)
	}
	a.mu.Lock()
	cached := a.krl
	a.mu.Unlock()
	if cached.data != nil && cached.version == version && a.now().Sub(cached.builtAt) < time.Minute {
		return cached.data, nil
	}
	live, err := a.liveRevokedSerials(ctx)
	if err != nil {
		return nil, err
	}
	revs, err := a.ListRevocations(ctx)
	if err != nil {
		return nil, err
	}
	cas, err := a.ListCAs(ctx)
	if err != nil {
		return nil, err
	}
	keyBlob := map[string][]byte{}
	caKeys := map[string][]string{}
	for _, ca := range cas {
		for _, k := range ca.Keys {
			pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
			if err != nil {
				return nil, fmt.Errorf("sshca: KRL: CA key %s: %w", k.ID, err)
			}
			keyBlob[k.ID] = pub.Marshal()
			caKeys[ca.Name] = append(caKeys[ca.Name], k.ID)
		}
	}
	krl := &KRL{Version: uint64(version), GeneratedAt: a.now(), Comment: "gaffer sshca"}
	sections := map[string]*KRLCerts{} // CA key ID ("" for any CA) -> section
	section := func(keyID string) *KRLCerts {
		if s, ok := sections[keyID]; ok {
			return s
		}
		s := &KRLCerts{CAKey: keyBlob[keyID]}
		sections[keyID] = s
		return s
	}
	for _, r := range revs {
		switch r.Kind {
		case RevokeSerial:
			if _, ok := keyBlob[r.CAKeyID]; ok && live[r.Serial] {
				s := section(r.CAKeyID)
				s.Serials = append(s.Serials, r.Serial)
			}
		case RevokeKeyID:
			if r.CA == "" {
				s := section("")
				s.KeyIDs = append(s.KeyIDs, r.KeyID)
				continue
			}
			for _, id := range caKeys[r.CA] {
				s := section(id)
				s.KeyIDs = append(s.KeyIDs, r.KeyID)
			}
		case RevokePublicKey:
			pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(r.PublicKey))
			if err != nil {
				return nil, fmt.Errorf("sshca: KRL: revocation %d: %w", r.ID, err)
			}
			krl.Keys = append(krl.Keys, pub.Marshal())
		}
	}
	for _, id := range sortedKeys(sections) {
		krl.Certs = append(krl.Certs, *sections[id])
	}
	data := krl.Marshal()
	a.mu.Lock()
	a.krl = krlCache{version: version, data: data, builtAt: a.now()}
	a.mu.Unlock()
	return data, nil
}

// liveRevokedSerials returns the serials of revoked certificates that have
// not expired (give or take krlExpiryMargin).
func (a *Authority) liveRevokedSerials(ctx context.Context) (map[uint64]bool, error) {
	rows, err := a.store.QueryContext(ctx, "SELECT serial FROM sshca_certs WHERE revoked_at IS NOT NULL AND valid_before >= ?",
		a.now().Add(-krlExpiryMargin).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sshca: KRL: %w", err)
	}
	defer rows.Close()
	live := map[uint64]bool{}
	for rows.Next() {
		var serial int64
		if err := rows.Scan(&serial); err != nil {
			return nil, fmt.Errorf("sshca: KRL: %w", err)
		}
		live[uint64(serial)] = true
	}
	return live, rows.Err()
}

// RevokedKeysFile returns the plain revoked-keys file sshd also reads: the
// public keys revoked outright, and the subject keys of revoked
// certificates (which this format can only revoke wholesale). The KRL is
// exact and preferred.
func (a *Authority) RevokedKeysFile(ctx context.Context) (string, error) {
	revs, err := a.ListRevocations(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Gaffer SSH CA revoked keys. The KRL (gaffer sshca krl) is exact; this file revokes\n")
	b.WriteString("# the keys of revoked certificates wholesale. Certificates revoked only by key ID\n")
	b.WriteString("# for keys Gaffer never saw cannot be listed here.\n")
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		keys := []string{r.PublicKey}
		if r.Kind == RevokeKeyID {
			keys, err = a.keysWithKeyID(ctx, r.KeyID, r.CA)
			if err != nil {
				return "", err
			}
		}
		fmt.Fprintf(&b, "# revocation %d: %s %s %s\n", r.ID, r.Kind, describeRevocation(r), r.RevokedAt.Format(time.RFC3339))
		for _, k := range keys {
			if k != "" {
				b.WriteString(k + "\n")
			}
		}
	}
	return b.String(), nil
}

func describeRevocation(r Revocation) string {
	switch r.Kind {
	case RevokeSerial:
		return strconv.FormatUint(r.Serial, 10)
	case RevokeKeyID:
		return strings.NewReplacer("\n", " ", "\r", " ").Replace(r.KeyID)
	}
	return r.Fingerprint
}

func (a *Authority) keysWithKeyID(ctx context.Context, keyID, ca string) ([]string, error) {
	q, args := "SELECT certificate FROM sshca_certs WHERE key_id = ?", []any{keyID}
	if ca != "" {
		q, args = q+" AND ca_name = ?", append(args, ca)
	}
	rows, err := a.store.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sshca: revoked keys: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, fmt.Errorf("sshca: revoked keys: %w", err)
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(text))
		if cert, ok := pub.(*ssh.Certificate); err == nil && ok {
			out = append(out, authorizedLine(cert.Key, ""))
		}
	}
	return out, rows.Err()
}
