package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// TokenPrefix starts every Gaffer token, so that secret scanners and humans
// can recognise one.
const TokenPrefix = "gft_"

// Errors returned by Verify.
var (
	ErrNoToken      = errors.New("no credentials")
	ErrInvalidToken = errors.New("invalid, expired or revoked token")
)

// Token is the stored description of an API token; the secret itself is
// never stored.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Identity   string     `json:"identity,omitempty"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Tokens stores and verifies API tokens.
type Tokens struct {
	store *store.Store
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedPrincipal // token hash -> principal
	admin [sha256.Size]byte          // hash of the bootstrap admin token
}

type cachedPrincipal struct {
	p       *Principal
	expires time.Time
}

// cacheTTL bounds how long another process's revocation can take to be
// seen here; revocations made through this process apply at once.
const cacheTTL = 5 * time.Second

// NewTokens applies the token tables' migrations and returns the store.
// now is the clock expiries are measured against (Deps.Now); nil means
// time.Now.
func NewTokens(ctx context.Context, s *store.Store, now func() time.Time) (*Tokens, error) {
	if err := s.Migrate(ctx, "auth", store.MustSub(migrations, "migrations")); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{store: s, now: now, cache: map[string]cachedPrincipal{}}, nil
}

// SetAdminToken installs the bootstrap admin token (from the admin token
// file). It is compared in memory and never stored.
func (t *Tokens) SetAdminToken(secret string) {
	t.mu.Lock()
	t.admin = sha256.Sum256([]byte(secret))
	t.mu.Unlock()
}

// NewSecret returns a new random token: the prefix and 256 random bits.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateRequest describes a token to create.
type CreateRequest struct {
	Name      string        `json:"name"`
	Identity  string        `json:"identity,omitempty"`
	Scopes    []string      `json:"scopes"`
	TTL       time.Duration `json:"-"`
	CreatedBy string        `json:"-"`
}

// Validate checks the request as a caller of the API or the UI wrote it,
// naming the faulty field: besides the form of each field, every scope must
// be one the platform or a declared system defines (see DefineScopes).
func (r *CreateRequest) Validate() error {
	if err := r.validateForm(); err != nil {
		return err
	}
	for i, s := range r.Scopes {
		if err := CheckDefined(s); err != nil {
			return fmt.Errorf("scopes[%d]: %w", i, err)
		}
	}
	return nil
}

// validateForm checks the form of the fields only; Create trusts its Go
// callers (a test server's own scopes) with scopes no system defines.
func (r *CreateRequest) validateForm() error {
	if strings.TrimSpace(r.Name) == "" {
		return errors.New("name: required")
	}
	if len(r.Name) > 200 {
		return errors.New("name: longer than 200 characters")
	}
	if len(r.Scopes) == 0 {
		return errors.New("scopes: at least one scope is required")
	}
	for i, s := range r.Scopes {
		if s == AuthenticatedScope {
			return fmt.Errorf("scopes[%d]: %q is implied by every token and cannot be granted", i, s)
		}
		if err := ValidateScope(s); err != nil {
			return fmt.Errorf("scopes[%d]: %w", i, err)
		}
	}
	if r.TTL < 0 {
		return errors.New("ttl: must not be negative")
	}
	return nil
}

// Create stores a new token and returns its description and its secret,
// which is shown once and cannot be recovered. It checks the form of req
// but not that its scopes are defined: handlers call req.Validate first.
func (t *Tokens) Create(ctx context.Context, req CreateRequest) (Token, string, error) {
	if err := req.validateForm(); err != nil {
		return Token{}, "", err
	}
	secret := NewSecret()
	var idb [8]byte
	rand.Read(idb[:])
	now := t.now().UTC().Truncate(time.Millisecond)
	tok := Token{ID: "tok_" + hex.EncodeToString(idb[:]), Name: req.Name, Identity: req.Identity,
		Scopes: req.Scopes, CreatedAt: now, CreatedBy: req.CreatedBy}
	var expires sql.NullInt64
	if req.TTL > 0 {
		e := now.Add(req.TTL)
		tok.ExpiresAt = &e
		expires = sql.NullInt64{Int64: e.UnixMilli(), Valid: true}
	}
	_, err := t.store.ExecContext(ctx, `INSERT INTO auth_tokens
		(id, name, identity, scopes, hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.Name, tok.Identity, strings.Join(tok.Scopes, " "), hashSecret(secret),
		now.UnixMilli(), req.CreatedBy, expires)
	if err != nil {
		return Token{}, "", fmt.Errorf("store token %q: %w", req.Name, err)
	}
	return tok, secret, nil
}

// Verify returns the principal for a token secret, or ErrInvalidToken.
func (t *Tokens) Verify(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" {
		return nil, ErrNoToken
	}
	sum := sha256.Sum256([]byte(secret))
	t.mu.Lock()
	isAdmin := subtle.ConstantTimeCompare(sum[:], t.admin[:]) == 1
	key := hex.EncodeToString(sum[:])
	c, ok := t.cache[key]
	t.mu.Unlock()
	if isAdmin {
		return &Principal{TokenID: "admin", Name: "admin", Identity: "admin", Scopes: []string{AdminScope}}, nil
	}
	now := t.now()
	if ok && now.Before(c.expires) {
		return c.p, nil
	}
	var (
		p       Principal
		scopes  string
		expires sql.NullInt64
		revoked sql.NullInt64
	)
	err := t.store.QueryRowContext(ctx, `SELECT id, name, identity, scopes, expires_at, revoked_at
		FROM auth_tokens WHERE hash = ?`, key).Scan(&p.TokenID, &p.Name, &p.Identity, &scopes, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	if revoked.Valid || (expires.Valid && now.UnixMilli() >= expires.Int64) {
		return nil, ErrInvalidToken
	}
	p.Scopes = strings.Fields(scopes)
	p.ExpiresAt = optTime(expires)
	t.store.ExecContext(ctx, "UPDATE auth_tokens SET last_used_at = ? WHERE id = ?", now.UnixMilli(), p.TokenID)
	cacheUntil := now.Add(cacheTTL)
	if expires.Valid && time.UnixMilli(expires.Int64).Before(cacheUntil) {
		cacheUntil = time.UnixMilli(expires.Int64)
	}
	t.mu.Lock()
	t.cache[key] = cachedPrincipal{p: &p, expires: cacheUntil}
	t.mu.Unlock()
	return &p, nil
}

// List returns every token, newest first, revoked ones included.
func (t *Tokens) List(ctx context.Context) ([]Token, error) {
	rows, err := t.store.QueryContext(ctx, `SELECT id, name, identity, scopes, created_at, created_by,
		expires_at, revoked_at, last_used_at FROM auth_tokens ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var (
			tok                    Token
			scopes                 string
			created                int64
			expires, revoked, used sql.NullInt64
		)
		if err := rows.Scan(&tok.ID, &tok.Name, &tok.Identity, &scopes, &created, &tok.CreatedBy,
			&expires, &revoked, &used); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tok.Scopes = strings.Fields(scopes)
		tok.CreatedAt = time.UnixMilli(created).UTC()
		tok.ExpiresAt, tok.RevokedAt, tok.LastUsedAt = optTime(expires), optTime(revoked), optTime(used)
		out = append(out, tok)
	}
	return out, rows.Err()
}

// ErrTokenNotFound is returned by Revoke for an unknown token ID.
var ErrTokenNotFound = errors.New("token not found")

// Revoke marks a token revoked; it stops working at once in this process
// and within a few seconds in others.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	res, err := t.store.ExecContext(ctx, "UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
		t.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists int
		t.store.QueryRowContext(ctx, "SELECT COUNT(*) FROM auth_tokens WHERE id = ?", id).Scan(&exists)
		if exists == 0 {
			return fmt.Errorf("revoke token %s: %w", id, ErrTokenNotFound)
		}
	}
	t.mu.Lock()
	for k, c := range t.cache {
		if c.p.TokenID == id {
			delete(t.cache, k)
		}
	}
	t.mu.Unlock()
	return nil
}

func optTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// ErrTokenAmbiguous is returned (wrapped, naming the candidates) by
// Resolve for a name or ID prefix that several active tokens match.
var ErrTokenAmbiguous = errors.New("ambiguous")

// Resolve finds the token ref names, as the CLI grammar reads a
// reference: its ID; else the active token with that name; else the
// active token whose ID starts with ref. It returns ErrTokenNotFound or
// ErrTokenAmbiguous (wrapped) when none or several match.
func (t *Tokens) Resolve(ctx context.Context, ref string) (Token, error) {
	toks, err := t.List(ctx)
	if err != nil {
		return Token{}, err
	}
	var byName, byPrefix []Token
	for _, tok := range toks {
		switch {
		case tok.ID == ref:
			return tok, nil
		case tok.RevokedAt != nil:
		case tok.Name == ref:
			byName = append(byName, tok)
		case ref != "" && strings.HasPrefix(tok.ID, ref):
			byPrefix = append(byPrefix, tok)
		}
	}
	for _, matches := range [][]Token{byName, byPrefix} {
		switch len(matches) {
		case 0:
			continue
		case 1:
			return matches[0], nil
		}
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = m.Name + " (" + m.ID + ")"
		}
		return Token{}, fmt.Errorf("token %q is %w: it matches %s", ref, ErrTokenAmbiguous, strings.Join(names, ", "))
	}
	return Token{}, fmt.Errorf("token %q: %w", ref, ErrTokenNotFound)
}
