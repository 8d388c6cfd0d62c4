package sshca

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Errors the Authority returns, wrapped with detail.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("conflict")
)

// errNoKeys is returned by what needs the key-encryption keys in a process
// that has none.
var errNoKeys = errors.New("sshca: this process has no key-encryption keys (a job worker cannot sign)")

// cacheTTL bounds how long a change made by another process (a rotation,
// a policy edit, a revocation) takes to apply here; changes made through
// this process apply at once.
const cacheTTL = 2 * time.Second

// Authority is the SSH CA: its CAs and keys, policies, issued
// certificates and revocations, in the store.
type Authority struct {
	store *store.Store
	keys  *seal.Keyring // nil in a job worker
	log   *slog.Logger
	now   func() time.Time
	// guard decides which policies need the admin scope.
	guard PolicyGuard
	// publish, when set, announces revocations and rotations.
	publish publisher

	mu      sync.Mutex
	signers map[string]ssh.Signer // CA key ID -> unsealed signer
	snap    *snapshot
	krl     krlCache
}

// snapshot is what signing reads, cached for cacheTTL.
type snapshot struct {
	cas       map[string]*CA
	active    map[string]*CAKey // CA name -> its signing key
	keys      map[string]*CAKey // CA key ID -> key
	policies  []*compiledPolicy
	revokedFP map[string]bool // fingerprints of revoked public keys
	loadedAt  time.Time
}

type krlCache struct {
	version int64
	data    []byte
	builtAt time.Time
}

// NewAuthority returns the CA over a store whose sshca migrations have
// been applied, sealing keys with the keyring keys (nil: a process that
// cannot sign, e.g. a job worker).
func NewAuthority(s *store.Store, keys *seal.Keyring, log *slog.Logger) *Authority {
	if log == nil {
		log = slog.Default()
	}
	return &Authority{store: s, keys: keys, log: log, now: time.Now, guard: DefaultPolicyGuard(), signers: map[string]ssh.Signer{}}
}

// invalidate drops the cached snapshot after a change.
func (a *Authority) invalidate() {
	a.mu.Lock()
	a.snap = nil
	a.mu.Unlock()
}

// snapshot returns the cached CAs, keys, policies and revoked keys,
// reloading them when stale.
func (a *Authority) snapshot(ctx context.Context) (*snapshot, error) {
	a.mu.Lock()
	s := a.snap
	a.mu.Unlock()
	if s != nil && a.now().Sub(s.loadedAt) < cacheTTL {
		return s, nil
	}
	s = &snapshot{cas: map[string]*CA{}, active: map[string]*CAKey{}, keys: map[string]*CAKey{},
		revokedFP: map[string]bool{}, loadedAt: a.now()}
	cas, err := a.ListCAs(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cas {
		ca := &cas[i]
		s.cas[ca.Name] = ca
		for j := range ca.Keys {
			k := &ca.Keys[j]
			s.keys[k.ID] = k
			if k.State == KeyActive {
				s.active[ca.Name] = k
			}
		}
	}
	policies, err := a.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range policies {
		c, err := p.compile()
		if err != nil {
			a.log.Warn("sshca: skipping an invalid stored policy", "policy", p.Name, "error", err)
			continue
		}
		s.policies = append(s.policies, c)
	}
	rows, err := a.store.QueryContext(ctx, "SELECT fingerprint FROM sshca_revocations WHERE kind = ?", RevokePublicKey)
	if err != nil {
		return nil, fmt.Errorf("sshca: load revoked keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			return nil, fmt.Errorf("sshca: load revoked keys: %w", err)
		}
		s.revokedFP[fp] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sshca: load revoked keys: %w", err)
	}
	a.mu.Lock()
	a.snap = s
	a.mu.Unlock()
	return s, nil
}

// signer returns the unsealed signer of a CA key, unsealing it once.
func (a *Authority) signer(ctx context.Context, keyID string) (ssh.Signer, error) {
	a.mu.Lock()
	s, ok := a.signers[keyID]
	a.mu.Unlock()
	if ok {
		return s, nil
	}
	if a.keys == nil {
		return nil, errNoKeys
	}
	var sealed []byte
	err := a.store.QueryRowContext(ctx, "SELECT sealed_private_key FROM sshca_ca_keys WHERE id = ?", keyID).Scan(&sealed)
	if err != nil {
		return nil, fmt.Errorf("sshca: load CA key %s: %w", keyID, err)
	}
	pemBytes, err := a.keys.Open(sealed, keyID)
	if err != nil {
		return nil, fmt.Errorf("sshca: %w", err)
	}
	s, err = parsePrivate(pemBytes)
	clear(pemBytes)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.signers[keyID] = s
	a.mu.Unlock()
	return s, nil
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Initialize creates, on the first start only, the "user" and "host" CAs
// (ed25519) and the "default" policy: every identity may get a 5-minute
// user certificate for its own name. Deleting them later is respected.
func (a *Authority) Initialize(ctx context.Context) error {
	var n int
	if err := a.store.QueryRowContext(ctx, "SELECT COUNT(*) FROM sshca_meta WHERE name = 'initialized'").Scan(&n); err != nil {
		return fmt.Errorf("sshca: initialize: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, ct := range []string{UserCert, HostCert} {
		if _, err := a.CreateCA(ctx, CreateCARequest{Name: ct, CertType: ct, Description: "created at first start"}, "gaffer"); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	p := Policy{Name: "default", Description: "every identity: a 5-minute user certificate for its own name",
		CertType: UserCert, Identities: []string{"*"}}
	if _, err := a.PutPolicy(ctx, p, "gaffer"); err != nil {
		return err
	}
	_, err := a.store.ExecContext(ctx, "INSERT INTO sshca_meta (name, value) VALUES ('initialized', ?)",
		a.now().UTC().Format(time.RFC3339))
	if err != nil && !store.IsUniqueViolation(err) {
		return fmt.Errorf("sshca: initialize: %w", err)
	}
	return nil
}

// PutPolicy creates or replaces a policy after normalizing and checking
// it, on behalf of trusted Go code (first start, demo data): the guard is
// not applied.
func (a *Authority) PutPolicy(ctx context.Context, p Policy, by string) (Policy, error) {
	ch, err := a.PutPolicyAs(ctx, p, Editor{Actor: by, Admin: true})
	return ch.After, err
}

// Editor is who saves or deletes a policy: the name the audit log records
// and whether the caller holds the admin scope.
type Editor struct {
	Actor string
	Admin bool
}

// PolicyChange is a saved policy and what the save changed.
type PolicyChange struct {
	// Before is the policy replaced (nil when it was created).
	Before *Policy
	// After is the policy as stored.
	After Policy
	// Diff says what changed, field by field, for the audit log.
	Diff string
}

// PutPolicyAs creates or replaces a policy after normalizing and checking
// it. A policy the guard finds privileged is refused (403, naming the
// field) unless the editor is an admin.
func (a *Authority) PutPolicyAs(ctx context.Context, p Policy, ed Editor) (PolicyChange, error) {
	if p.UsernameBlocklist == nil && p.CertType != HostCert {
		p.UsernameBlocklist = slices.Clone(a.guard.BlockedUsernames)
	}
	p.Normalize()
	c, err := p.compile()
	if err != nil {
		return PolicyChange{After: p}, invalid("%v", err)
	}
	if !ed.Admin {
		if ref := a.guard.needsAdmin(c); ref != nil {
			return PolicyChange{After: p}, ref
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return PolicyChange{After: p}, fmt.Errorf("sshca: encode policy: %w", err)
	}
	ch := PolicyChange{After: p}
	now := a.now().UnixMilli()
	err = a.store.InTx(ctx, func(tx *store.Tx) error {
		ch.Before = nil
		var old string
		switch err := tx.QueryRowContext(ctx, "SELECT body FROM sshca_policies WHERE name = ?", p.Name).Scan(&old); {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, "INSERT INTO sshca_policies (name, body, updated_at, updated_by) VALUES (?, ?, ?, ?)",
				p.Name, string(body), now, ed.Actor)
			return err
		case err != nil:
			return err
		}
		var before Policy
		if err := json.Unmarshal([]byte(old), &before); err != nil {
			return fmt.Errorf("stored policy: %w", err)
		}
		ch.Before = &before
		_, err := tx.ExecContext(ctx, "UPDATE sshca_policies SET body = ?, updated_at = ?, updated_by = ? WHERE name = ?",
			string(body), now, ed.Actor, p.Name)
		return err
	})
	if err != nil {
		return ch, fmt.Errorf("sshca: save policy %s: %w", p.Name, err)
	}
	ch.Diff = policyDiff(ch.Before, &ch.After)
	a.invalidate()
	return ch, nil
}

// ListPolicies returns every policy, by name.
func (a *Authority) ListPolicies(ctx context.Context) ([]Policy, error) {
	rows, err := a.store.QueryContext(ctx, "SELECT name, body FROM sshca_policies ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("sshca: list policies: %w", err)
	}
	defer rows.Close()
	out := []Policy{}
	for rows.Next() {
		var name, body string
		if err := rows.Scan(&name, &body); err != nil {
			return nil, fmt.Errorf("sshca: list policies: %w", err)
		}
		var p Policy
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, fmt.Errorf("sshca: policy %s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetPolicy returns one policy.
func (a *Authority) GetPolicy(ctx context.Context, name string) (Policy, error) {
	ps, err := a.ListPolicies(ctx)
	if err != nil {
		return Policy{}, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	return Policy{}, fmt.Errorf("policy %q: %w", name, ErrNotFound)
}

// DeletePolicy removes a policy and returns what it was.
func (a *Authority) DeletePolicy(ctx context.Context, name string) (Policy, error) {
	var removed Policy
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		var body string
		if err := tx.QueryRowContext(ctx, "SELECT body FROM sshca_policies WHERE name = ?", name).Scan(&body); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("policy %q: %w", name, ErrNotFound)
			}
			return err
		}
		if err := json.Unmarshal([]byte(body), &removed); err != nil {
			return fmt.Errorf("stored policy: %w", err)
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM sshca_policies WHERE name = ?", name)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return removed, err
		}
		return removed, fmt.Errorf("sshca: delete policy %s: %w", name, err)
	}
	a.invalidate()
	return removed, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
