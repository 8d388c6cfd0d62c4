package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SessionTTL is how long a UI login lasts at most; a session ends sooner
// when the token it was opened with expires or is revoked.
const SessionTTL = 12 * time.Hour

// Session is a UI login made with a token.
type Session struct {
	// ID is the cookie value; only its hash is stored.
	ID string
	// CSRF is the token forms and htmx requests must echo back.
	CSRF      string
	Principal *Principal
	ExpiresAt time.Time
}

func randomString() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Login verifies a token secret and opens a session for it.
func (t *Tokens) Login(ctx context.Context, secret string) (*Session, error) {
	p, err := t.Verify(ctx, strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	s := &Session{ID: randomString(), CSRF: randomString(), Principal: p, ExpiresAt: t.now().Add(SessionTTL)}
	if p.ExpiresAt != nil && p.ExpiresAt.Before(s.ExpiresAt) {
		s.ExpiresAt = *p.ExpiresAt
	}
	_, err = t.store.ExecContext(ctx, `INSERT INTO auth_sessions
		(id_hash, token_id, name, identity, scopes, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		hashSecret(s.ID), p.TokenID, p.Name, p.Identity, strings.Join(p.Scopes, " "), s.CSRF,
		t.now().UnixMilli(), s.ExpiresAt.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store session: %w", err)
	}
	return s, nil
}

// Session returns the live session with the given cookie value. A session
// ends at the earliest of its own lifetime (SessionTTL), its token's
// expiry and its token's revocation; the token's expiry and revocation
// are read at every call, so a session stored before either still ends.
func (t *Tokens) Session(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, ErrNoToken
	}
	var (
		p            Principal
		scopes       string
		csrf         string
		expires      int64
		tokenExpires sql.NullInt64
		revoked      sql.NullInt64
	)
	err := t.store.QueryRowContext(ctx, `SELECT s.token_id, s.name, s.identity, s.scopes, s.csrf, s.expires_at,
		t.expires_at, t.revoked_at
		FROM auth_sessions s LEFT JOIN auth_tokens t ON t.id = s.token_id WHERE s.id_hash = ?`,
		hashSecret(id)).Scan(&p.TokenID, &p.Name, &p.Identity, &scopes, &csrf, &expires, &tokenExpires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	if tokenExpires.Valid && tokenExpires.Int64 < expires {
		expires = tokenExpires.Int64
	}
	if revoked.Valid || t.now().UnixMilli() >= expires {
		return nil, ErrInvalidToken
	}
	p.Scopes = strings.Fields(scopes)
	p.ExpiresAt = optTime(tokenExpires)
	return &Session{ID: id, CSRF: csrf, Principal: &p, ExpiresAt: time.UnixMilli(expires)}, nil
}

// CheckCSRF reports whether the submitted token matches the session's.
func (s *Session) CheckCSRF(submitted string) bool {
	return submitted != "" && subtle.ConstantTimeCompare([]byte(submitted), []byte(s.CSRF)) == 1
}

// Logout ends a session.
func (t *Tokens) Logout(ctx context.Context, id string) error {
	_, err := t.store.ExecContext(ctx, "DELETE FROM auth_sessions WHERE id_hash = ?", hashSecret(id))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that have expired, returning how
// many went.
func (t *Tokens) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := t.store.ExecContext(ctx, "DELETE FROM auth_sessions WHERE expires_at < ?", t.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
