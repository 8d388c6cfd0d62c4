package remediation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// loadSigningKey returns the installation's request-signing key, creating
// it on first use. Every process sharing the database signs with it, so an
// agent verifies whichever process sends it a request.
func loadSigningKey(ctx context.Context, db *store.Store, now time.Time) (ed25519.PrivateKey, error) {
	key, err := readSigningKey(ctx, db)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return key, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("remediation: generate the agent request-signing key: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO remediation_signing_key (one, seed, created_at) VALUES (1, ?, ?)`,
		hex.EncodeToString(seed), now.UnixMilli()); err != nil {
		// Another process created it first: use that one.
		if key, err2 := readSigningKey(ctx, db); err2 == nil {
			return key, nil
		}
		return nil, fmt.Errorf("remediation: store the agent request-signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func readSigningKey(ctx context.Context, db *store.Store) (ed25519.PrivateKey, error) {
	var text string
	err := db.QueryRowContext(ctx, `SELECT seed FROM remediation_signing_key WHERE one = 1`).Scan(&text)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("remediation: read the agent request-signing key: %w", err)
	}
	seed, err := hex.DecodeString(text)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("remediation: the stored agent request-signing key is not %d hex-encoded bytes", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}
