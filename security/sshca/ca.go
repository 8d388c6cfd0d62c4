package sshca

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// States of a CA key.
const (
	// KeyActive signs new certificates; each CA has one.
	KeyActive = "active"
	// KeyTrusted no longer signs but is still published, so certificates
	// it signed keep working until it is retired.
	KeyTrusted = "trusted"
	// KeyRetired is no longer published as trusted.
	KeyRetired = "retired"
)

// CA is a certificate authority: a name, the type of certificate it signs,
// and its keys. Private keys never leave the Authority.
type CA struct {
	Name        string    `json:"name"`
	CertType    string    `json:"cert_type"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Keys        []CAKey   `json:"keys"`
}

// CAKey is one key of a CA (its public half).
type CAKey struct {
	ID          string     `json:"id"`
	CA          string     `json:"ca"`
	Algorithm   string     `json:"algorithm"`
	PublicKey   string     `json:"public_key"`
	Fingerprint string     `json:"fingerprint"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
}

// Trusted reports whether servers should trust the key.
func (k CAKey) Trusted() bool { return k.State != KeyRetired }

// CreateCARequest is the body of POST /api/v1/sshca/cas.
type CreateCARequest struct {
	Name string `json:"name"`
	// CertType is "user" or "host".
	CertType string `json:"cert_type"`
	// Algorithm is one of ed25519 (default), ecdsa-p256, ecdsa-p384,
	// ecdsa-p521, rsa-3072, rsa-4096.
	Algorithm   string `json:"algorithm,omitempty"`
	Description string `json:"description,omitempty"`
}

// RotateRequest is the body of POST /api/v1/sshca/cas/{name}/rotate.
type RotateRequest struct {
	// Algorithm of the new key; default that of the current key.
	Algorithm string `json:"algorithm,omitempty"`
}

// CreateCA makes a CA with one active key.
func (a *Authority) CreateCA(ctx context.Context, req CreateCARequest, by string) (CA, error) {
	if err := ValidName(req.Name); err != nil {
		return CA{}, invalid("%v", err)
	}
	if req.CertType != UserCert && req.CertType != HostCert {
		return CA{}, invalid("cert_type: %q is not user or host", req.CertType)
	}
	if len(req.Description) > 1024 {
		return CA{}, invalid("description: longer than 1024 bytes")
	}
	if req.Algorithm == "" {
		req.Algorithm = AlgEd25519
	}
	key, err := a.newKey(req.Name, req.Algorithm)
	if err != nil {
		return CA{}, err
	}
	now := a.now()
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sshca_cas (name, cert_type, description, created_at, created_by)
			VALUES (?, ?, ?, ?, ?)`, req.Name, req.CertType, req.Description, now.UnixMilli(), by); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("CA %q: %w", req.Name, ErrExists)
			}
			return err
		}
		return insertKey(ctx, tx, key, now)
	})
	if err != nil {
		return CA{}, fmt.Errorf("sshca: create CA %s: %w", req.Name, err)
	}
	a.invalidate()
	return a.GetCA(ctx, req.Name)
}

// sealedKey is a new CA key ready to store.
type sealedKey struct {
	CAKey
	sealed []byte
	kekID  string
}

func (a *Authority) newKey(ca, alg string) (*sealedKey, error) {
	if a.keys == nil {
		return nil, errNoKeys
	}
	priv, err := generateKey(alg)
	if err != nil {
		return nil, invalid("%v", err)
	}
	signer, err := caSigner(priv)
	if err != nil {
		return nil, err
	}
	k := &sealedKey{CAKey: CAKey{ID: newID("ck_"), CA: ca, Algorithm: alg, State: KeyActive}}
	k.PublicKey = authorizedLine(signer.PublicKey(), "gaffer-"+ca+"-ca-"+k.ID)
	k.Fingerprint = ssh.FingerprintSHA256(signer.PublicKey())
	pemBytes, err := marshalPrivate(priv, "gaffer-"+ca+"-ca")
	if err != nil {
		return nil, err
	}
	k.sealed, k.kekID, err = a.keys.Seal(pemBytes, k.ID)
	clear(pemBytes)
	return k, err
}

func insertKey(ctx context.Context, tx *store.Tx, k *sealedKey, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sshca_ca_keys
		(id, ca_name, algorithm, public_key, fingerprint, sealed_private_key, kek_id, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.CA, k.Algorithm, k.PublicKey, k.Fingerprint, k.sealed, k.kekID, k.State, now.UnixMilli())
	return err
}

// Rotate adds a new active key to a CA; the previous active key stays
// trusted until it is retired.
func (a *Authority) Rotate(ctx context.Context, name string, req RotateRequest) (CA, error) {
	ca, err := a.GetCA(ctx, name)
	if err != nil {
		return CA{}, err
	}
	alg := req.Algorithm
	if alg == "" {
		alg = AlgEd25519
		for _, k := range ca.Keys {
			if k.State == KeyActive {
				alg = k.Algorithm
			}
		}
	}
	key, err := a.newKey(name, alg)
	if err != nil {
		return CA{}, err
	}
	now := a.now()
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE sshca_ca_keys SET state = ? WHERE ca_name = ? AND state = ?",
			KeyTrusted, name, KeyActive); err != nil {
			return err
		}
		return insertKey(ctx, tx, key, now)
	})
	if err != nil {
		return CA{}, fmt.Errorf("sshca: rotate CA %s: %w", name, err)
	}
	a.invalidate()
	ca, err = a.GetCA(ctx, name)
	if err == nil {
		a.notify(ctx, EventRotated, "sshca-ca:"+name, ca)
	}
	return ca, err
}

// RetireKey stops publishing a CA key as trusted. The active key cannot be
// retired: rotate first.
func (a *Authority) RetireKey(ctx context.Context, name, keyID string) (CA, error) {
	ca, err := a.GetCA(ctx, name)
	if err != nil {
		return CA{}, err
	}
	i := slices.IndexFunc(ca.Keys, func(k CAKey) bool { return k.ID == keyID })
	if i < 0 {
		return CA{}, fmt.Errorf("key %q of CA %q: %w", keyID, name, ErrNotFound)
	}
	switch ca.Keys[i].State {
	case KeyActive:
		return CA{}, fmt.Errorf("key %s is the active key of CA %s; rotate first: %w", keyID, name, ErrConflict)
	case KeyRetired:
		return ca, nil
	}
	if _, err := a.store.ExecContext(ctx, "UPDATE sshca_ca_keys SET state = ?, retired_at = ? WHERE id = ?",
		KeyRetired, a.now().UnixMilli(), keyID); err != nil {
		return CA{}, fmt.Errorf("sshca: retire key %s: %w", keyID, err)
	}
	a.invalidate()
	ca, err = a.GetCA(ctx, name)
	if err == nil {
		a.notify(ctx, EventKeyRetired, "sshca-ca-key:"+name+"/"+keyID, ca)
	}
	return ca, err
}

// ListCAs returns every CA with its keys, newest key first.
func (a *Authority) ListCAs(ctx context.Context) ([]CA, error) {
	rows, err := a.store.QueryContext(ctx, "SELECT name, cert_type, description, created_at, created_by FROM sshca_cas ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("sshca: list CAs: %w", err)
	}
	out := []CA{}
	index := map[string]int{}
	for rows.Next() {
		var ca CA
		var created int64
		if err := rows.Scan(&ca.Name, &ca.CertType, &ca.Description, &created, &ca.CreatedBy); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sshca: list CAs: %w", err)
		}
		ca.CreatedAt = time.UnixMilli(created).UTC()
		ca.Keys = []CAKey{}
		index[ca.Name] = len(out)
		out = append(out, ca)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sshca: list CAs: %w", err)
	}
	rows, err = a.store.QueryContext(ctx, `SELECT id, ca_name, algorithm, public_key, fingerprint, state, created_at, retired_at
		FROM sshca_ca_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("sshca: list CA keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k CAKey
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.ID, &k.CA, &k.Algorithm, &k.PublicKey, &k.Fingerprint, &k.State, &created, &retired); err != nil {
			return nil, fmt.Errorf("sshca: list CA keys: %w", err)
		}
		k.CreatedAt = time.UnixMilli(created).UTC()
		if retired.Valid {
			t := time.UnixMilli(retired.Int64).UTC()
			k.RetiredAt = &t
		}
		if i, ok := index[k.CA]; ok {
			out[i].Keys = append(out[i].Keys, k)
		}
	}
	return out, rows.Err()
}

// GetCA returns one CA.
func (a *Authority) GetCA(ctx context.Context, name string) (CA, error) {
	cas, err := a.ListCAs(ctx)
	if err != nil {
		return CA{}, err
	}
	for _, ca := range cas {
		if ca.Name == name {
			return ca, nil
		}
	}
	return CA{}, fmt.Errorf("CA %q: %w", name, ErrNotFound)
}

// TrustedKeys returns the public key lines servers should trust: those of
// the CA named, or of every CA of certType, active and trusted keys.
func (a *Authority) TrustedKeys(ctx context.Context, certType, caName string) ([]string, error) {
	cas, err := a.ListCAs(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	found := false
	for _, ca := range cas {
		if (caName != "" && ca.Name != caName) || (certType != "" && ca.CertType != certType) {
			continue
		}
		found = true
		for _, k := range ca.Keys {
			if k.Trusted() {
				out = append(out, strings.TrimSpace(k.PublicKey))
			}
		}
	}
	if caName != "" && !found {
		return nil, fmt.Errorf("CA %q of type %q: %w", caName, certType, ErrNotFound)
	}
	return out, nil
}
