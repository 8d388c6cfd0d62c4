package certs

import (
	"context"
	"fmt"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Environment variables that supply the key-encryption keys (see
// docs/certs.md, "Keys at rest").
const (
	// KEKEnv holds the current key-encryption key: 32 bytes, base64 or hex.
	KEKEnv = "GAFFER_CERTS_KEK"
	// KEKFileEnv names a file of key-encryption keys, one a line, the
	// current key first and earlier keys (still needed to open keys sealed
	// before a rotation) after it.
	KEKFileEnv = "GAFFER_CERTS_KEK_FILE"
	// KEKPreviousEnv holds earlier keys, comma-separated, when the current
	// one comes from KEKEnv.
	KEKPreviousEnv = "GAFFER_CERTS_KEK_PREVIOUS"
	// KEKFileName is the file generated in the data directory when no
	// variable names a key.
	KEKFileName = Name + ".kek"
)

// LoadKeyring finds the key-encryption keys: $GAFFER_CERTS_KEK (with
// $GAFFER_CERTS_KEK_PREVIOUS), else the file named by
// $GAFFER_CERTS_KEK_FILE, else what command (--kek-command, run with
// $GAFFER_KEK_NAME=certs) prints, else <dataDir>/certs.kek, generated
// (mode 0600) when missing; generated reports that last case.
func LoadKeyring(getenv func(string) string, command, dataDir string) (kr *seal.Keyring, generated bool, err error) {
	o := seal.Options{Name: Name, Key: getenv(KEKEnv), KeyOrigin: "$" + KEKEnv,
		File: getenv(KEKFileEnv), FileOrigin: "$" + KEKFileEnv, Command: command, DataDir: dataDir}
	if prev := getenv(KEKPreviousEnv); prev != "" {
		o.Previous = strings.Split(prev, ",")
	}
	kr, generated, err = seal.Load(context.Background(), o)
	if err != nil {
		return nil, false, fmt.Errorf("certs: %w", err)
	}
	return kr, generated, nil
}

// legacyFormat is how keys were sealed before internal/platform/seal:
// nonce (12 bytes) | AES-256-GCM ciphertext, the label ("authority:NAME",
// "cert:SERIAL", "acme-eab:ID") as additional data, and in kek_id
// "kek-" + hex(SHA-256("gaffer certs kek\x00" + key)[:6]). Start re-seals
// such rows in the keyring's format.
var legacyFormat = seal.Legacy{IDPrefix: "kek-", IDDomain: "gaffer certs kek\x00", IDBytes: 6}

// sealedColumns are the columns that hold sealed private keys.
var sealedColumns = []seal.Column{
	{Table: "certs_authorities", Key: "name", Sealed: "sealed_key", KeyID: "kek_id",
		Label: func(name string) string { return "authority:" + name }, Legacy: &legacyFormat},
	{Table: "certs_certificates", Key: "serial", Sealed: "sealed_key", KeyID: "kek_id",
		Label: func(serial string) string { return "cert:" + serial }, Legacy: &legacyFormat},
	{Table: "certs_acme_eab_keys", Key: "id", Sealed: "sealed_key", KeyID: "kek_id",
		Label: eabLabel, Legacy: &legacyFormat},
}

// Rewrap re-seals, in one transaction, every stored private key that is
// not sealed with the current key-encryption key in the keyring's format
// (keys under an older key, and keys sealed before the keyring), and
// returns how many it re-sealed. On error nothing changes.
func (m *Manager) Rewrap(ctx context.Context) (int, error) {
	n := 0
	err := m.store.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		for _, c := range sealedColumns {
			k, err := m.keys.Reseal(ctx, tx, c)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("certs: %w", err)
	}
	return n, nil
}

// RotateKEK generates a new key-encryption key in Gaffer's own key file,
// re-seals every private key under it and then forgets the old keys. With
// keys supplied by the operator it fails with seal.ErrNotManaged: rotate
// there (the new key first, the old one after it) and restart.
func (m *Manager) RotateKEK(ctx context.Context) (string, int, error) {
	id, err := m.keys.Rotate()
	if err != nil {
		return "", 0, fmt.Errorf("certs: %w", err)
	}
	n, err := m.Rewrap(ctx)
	if err != nil {
		return id, n, err
	}
	if err := m.keys.Forget(); err != nil {
		return id, n, fmt.Errorf("certs: %w", err)
	}
	return id, n, nil
}
