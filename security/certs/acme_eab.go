package certs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// eabKeyBytes is the length of an EAB HMAC key: 256 bits, for HS256.
const eabKeyBytes = 32

// eabLabel binds a sealed EAB key to its row.
func eabLabel(id string) string { return "acme-eab:" + id }

// EABKey is an external account binding key of an authority's ACME
// server (RFC 8555 section 7.3.4), as the API lists it. A key creates one
// account: the first newAccount that uses it binds it to that account, and
// any later use by another account key is refused.
type EABKey struct {
	ID        string    `json:"id"`
	Authority string    `json:"authority"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	// Account is the ACME account the key created, empty while unused.
	Account   string     `json:"account,omitempty"`
	BoundAt   *time.Time `json:"bound_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// NewEABKey is a key just created, with its secret.
type NewEABKey struct {
	EABKey
	// HMACKey is the base64url-encoded HMAC key to give the ACME client
	// with ID (certbot's --eab-kid and --eab-hmac-key). It is shown only
	// in this answer; Gaffer keeps it sealed under the key-encryption key.
	HMACKey string `json:"hmac_key"`
}

// CreateEABKeyRequest asks for an EAB key.
type CreateEABKeyRequest struct {
	// Note says whom the key is for (at most 200 characters).
	Note string `json:"note,omitempty"`
}

// ACMEServerSettings are an authority's ACME server settings.
type ACMEServerSettings struct {
	// AnonymousAccounts lets anyone who can reach the server create ACME
	// accounts without external account binding. Off by default; for labs.
	AnonymousAccounts bool `json:"anonymous_accounts"`
}

// internalAuthority checks that name is an authority that signs here.
func (m *Manager) internalAuthority(ctx context.Context, name string) error {
	a, err := m.Authority(ctx, name)
	if err != nil {
		return err
	}
	if a.Kind == KindACME {
		return badInput("authority %s is an external ACME CA: Gaffer runs no ACME server for it", name)
	}
	return nil
}

// CreateEABKey creates an EAB key for an internal authority's ACME server
// and returns it with its secret, which is never shown again.
func (m *Manager) CreateEABKey(ctx context.Context, authority string, req CreateEABKeyRequest) (NewEABKey, error) {
	if len(req.Note) > 200 || strings.ContainsFunc(req.Note, unicode.IsControl) {
		return NewEABKey{}, badInput("note: at most 200 characters, no control characters")
	}
	if err := m.internalAuthority(ctx, authority); err != nil {
		return NewEABKey{}, err
	}
	secret := make([]byte, eabKeyBytes)
	if _, err := rand.Read(secret); err != nil {
		return NewEABKey{}, fmt.Errorf("create EAB key: %w", err)
	}
	defer clear(secret)
	k := NewEABKey{EABKey: EABKey{ID: "eab-" + randomID(12), Authority: authority, Note: req.Note,
		CreatedAt: m.now().UTC().Truncate(time.Millisecond), CreatedBy: actor(ctx)},
		HMACKey: base64.RawURLEncoding.EncodeToString(secret)}
	sealed, kekID, err := m.keys.Seal(secret, eabLabel(k.ID))
	if err != nil {
		return NewEABKey{}, err
	}
	if _, err := m.store.ExecContext(ctx, `INSERT INTO certs_acme_eab_keys (id, authority, sealed_key, kek_id, note, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, k.ID, authority, sealed, kekID, k.Note, k.CreatedAt.UnixMilli(), k.CreatedBy); err != nil {
		return NewEABKey{}, fmt.Errorf("store EAB key: %w", err)
	}
	return k, nil
}

const eabColumns = `id, authority, note, created_at, created_by, account_id, bound_at, revoked_at`

func scanEABKey(sc interface{ Scan(...any) error }) (EABKey, error) {
	var k EABKey
	var created, bound, revoked int64
	if err := sc.Scan(&k.ID, &k.Authority, &k.Note, &created, &k.CreatedBy, &k.Account, &bound, &revoked); err != nil {
		return k, err
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	if bound > 0 {
		t := time.UnixMilli(bound).UTC()
		k.BoundAt = &t
	}
	if revoked > 0 {
		t := time.UnixMilli(revoked).UTC()
		k.RevokedAt = &t
	}
	return k, nil
}

// EABKeys lists an authority's EAB keys, newest first, without secrets.
func (m *Manager) EABKeys(ctx context.Context, authority string) ([]EABKey, error) {
	if _, err := m.Authority(ctx, authority); err != nil {
		return nil, err
	}
	rows, err := m.store.QueryContext(ctx, `SELECT `+eabColumns+` FROM certs_acme_eab_keys
		WHERE authority = ? ORDER BY created_at DESC, id`, authority)
	if err != nil {
		return nil, fmt.Errorf("list EAB keys: %w", err)
	}
	defer rows.Close()
	out := []EABKey{}
	for rows.Next() {
		k, err := scanEABKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeEABKey revokes an EAB key: an unused key can no longer create an
// account, and the account a used key created is deactivated (RFC 8555
// section 7.3.6), so its key can neither order nor download again.
func (m *Manager) RevokeEABKey(ctx context.Context, authority, id string) (EABKey, error) {
	var k EABKey
	err := m.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		k, err = scanEABKey(tx.QueryRowContext(ctx, `SELECT `+eabColumns+` FROM certs_acme_eab_keys WHERE id = ? AND authority = ?`, id, authority))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("EAB key %q of authority %q: %w", id, authority, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return fmt.Errorf("EAB key %s is already revoked: %w", id, ErrConflict)
		}
		now := m.now().UTC().Truncate(time.Millisecond)
		k.RevokedAt = &now
		if _, err := tx.ExecContext(ctx, `UPDATE certs_acme_eab_keys SET revoked_at = ?, sealed_key = NULL WHERE id = ?`, now.UnixMilli(), id); err != nil {
			return err
		}
		if k.Account != "" {
			_, err = tx.ExecContext(ctx, `UPDATE certs_acme_accounts SET status = 'deactivated' WHERE id = ?`, k.Account)
		}
		return err
	})
	if err != nil {
		return EABKey{}, fmt.Errorf("revoke EAB key: %w", err)
	}
	return k, nil
}

// eabHMACKey returns the secret of an authority's unused, unrevoked EAB
// key: errEABKeyUnknown or errEABKeyUsed when there is none to use.
func (m *Manager) eabHMACKey(ctx context.Context, authority, id string) ([]byte, error) {
	var sealed []byte
	var account string
	var revoked int64
	err := m.store.QueryRowContext(ctx, `SELECT sealed_key, account_id, revoked_at FROM certs_acme_eab_keys
		WHERE id = ? AND authority = ?`, id, authority).Scan(&sealed, &account, &revoked)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errEABKeyUnknown
	case err != nil:
		return nil, fmt.Errorf("look up EAB key: %w", err)
	case revoked != 0 || sealed == nil:
		return nil, errEABKeyUnknown
	case account != "":
		return nil, errEABKeyUsed
	}
	return m.keys.Open(sealed, eabLabel(id))
}

// bindEABKey marks an EAB key as having created account, in the
// transaction that stores the account. It fails with errEABKeyUsed when
// another request bound it first, or errEABKeyUnknown if it was revoked
// meanwhile.
func bindEABKey(ctx context.Context, tx *store.Tx, authority, id, account string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE certs_acme_eab_keys SET account_id = ?, bound_at = ?
		WHERE id = ? AND authority = ? AND account_id = '' AND revoked_at = 0`, account, now.UnixMilli(), id, authority)
	if err != nil {
		return fmt.Errorf("bind EAB key: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var used string
		if err := tx.QueryRowContext(ctx, `SELECT account_id FROM certs_acme_eab_keys WHERE id = ?`, id).Scan(&used); err == nil && used != "" {
			return errEABKeyUsed
		}
		return errEABKeyUnknown
	}
	return nil
}

// ACMEServer returns an internal authority's ACME server settings.
func (m *Manager) ACMEServer(ctx context.Context, authority string) (ACMEServerSettings, error) {
	var s ACMEServerSettings
	err := m.store.QueryRowContext(ctx, `SELECT acme_anonymous_accounts FROM certs_authorities WHERE name = ? AND kind <> 'acme'`,
		authority).Scan(&s.AnonymousAccounts)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("authority %q: %w", authority, ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("authority %s: read ACME server settings: %w", authority, err)
	}
	return s, nil
}

// SetACMEServer replaces an internal authority's ACME server settings.
func (m *Manager) SetACMEServer(ctx context.Context, authority string, s ACMEServerSettings) (ACMEServerSettings, error) {
	if err := m.internalAuthority(ctx, authority); err != nil {
		return ACMEServerSettings{}, err
	}
	if _, err := m.store.ExecContext(ctx, `UPDATE certs_authorities SET acme_anonymous_accounts = ? WHERE name = ?`,
		s.AnonymousAccounts, authority); err != nil {
		return ACMEServerSettings{}, fmt.Errorf("authority %s: store ACME server settings: %w", authority, err)
	}
	return s, nil
}
