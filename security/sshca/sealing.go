package sshca

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/seal"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Where the key-encryption keys come from (see docs/sshca.md, "Private
// keys at rest").
const (
	// KEKEnv holds the current key-encryption key itself: 32 bytes, base64
	// or hex. It has no flag, so that the key never shows in a process list.
	KEKEnv = "GAFFER_SSHCA_KEK"
	// KEKPreviousEnv holds earlier keys, comma-separated, when the current
	// one comes from KEKEnv: they still open CA keys sealed before a
	// rotation, until the start re-seals them.
	KEKPreviousEnv = "GAFFER_SSHCA_KEK_PREVIOUS"
	// KEKFileEnv names a file of key-encryption keys, one a line, the
	// current first; it is the environment form of --sshca-kek-file.
	KEKFileEnv = "GAFFER_SSHCA_KEK_FILE"
	// KEKFileName is the generated keys' file in the data directory, used
	// when none of the above is set.
	KEKFileName = "sshca.kek"
)

// keyringName names the SSH CA's keyring (and $GAFFER_KEK_NAME for
// --kek-command).
const keyringName = "sshca"

// LoadKeyring finds the key-encryption keys: key itself (from
// $GAFFER_SSHCA_KEK, with previous from $GAFFER_SSHCA_KEK_PREVIOUS), else
// file (--sshca-kek-file), else what command (--kek-command, run with
// $GAFFER_KEK_NAME=sshca) prints, else <dataDir>/sshca.kek, generated
// (mode 0600) when missing. generated reports that last case, so the
// caller can warn that production should keep the keys elsewhere.
func LoadKeyring(key, previous, file, command, dataDir string) (kr *seal.Keyring, generated bool, err error) {
	o := seal.Options{Name: keyringName, Key: key, KeyOrigin: "$" + KEKEnv,
		File: file, FileOrigin: "--sshca-kek-file", Command: command, DataDir: dataDir}
	if previous != "" {
		o.Previous = strings.Split(previous, ",")
	}
	kr, generated, err = seal.Load(context.Background(), o)
	if err != nil {
		return nil, false, fmt.Errorf("sshca: %w", err)
	}
	return kr, generated, nil
}

// legacyFormat is how CA keys were sealed before internal/platform/seal:
// "gsk1" | nonce (12 bytes) | AES-256-GCM ciphertext, with
// "gaffer-sshca-key:" + the CA key's ID as additional data, and in kek_id
// hex(SHA-256("gaffer-sshca-kek-id:" + key)[:8]). Start re-seals such rows
// in the keyring's format.
var legacyFormat = seal.Legacy{Magic: []byte("gsk1"), AADPrefix: "gaffer-sshca-key:",
	IDDomain: "gaffer-sshca-kek-id:", IDBytes: 8}

// sealedKeys is the column of sealed CA private keys; a key is bound to
// its CA key ID.
var sealedKeys = seal.Column{Table: "sshca_ca_keys", Key: "id", Sealed: "sealed_private_key", KeyID: "kek_id",
	Label: func(id string) string { return id }, Legacy: &legacyFormat}

// Rewrap re-seals, in one transaction, every CA private key that is not
// sealed with the current key-encryption key in the keyring's format (keys
// under an older key, and keys sealed before the keyring), and returns how
// many it re-sealed. On error nothing changes.
func (a *Authority) Rewrap(ctx context.Context) (int, error) {
	if a.keys == nil {
		return 0, errNoKeys
	}
	var n int
	err := a.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = a.keys.Reseal(ctx, tx, sealedKeys)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sshca: %w", err)
	}
	return n, nil
}

// RotateKEK generates a new key-encryption key in Gaffer's own key file,
// re-seals every CA private key under it and then forgets the old keys; it
// returns the new key's ID and how many keys it re-sealed. With keys
// supplied by the operator it fails with seal.ErrNotManaged: put the new
// key first where they are kept, the old one after it, and restart.
func (a *Authority) RotateKEK(ctx context.Context) (string, int, error) {
	if a.keys == nil {
		return "", 0, errNoKeys
	}
	id, err := a.keys.Rotate()
	if err != nil {
		return "", 0, fmt.Errorf("sshca: %w", err)
	}
	n, err := a.Rewrap(ctx)
	if err != nil {
		return id, n, err
	}
	if err := a.keys.Forget(); err != nil {
		return id, n, fmt.Errorf("sshca: %w", err)
	}
	return id, n, nil
}

// KEKRotateResponse answers POST /api/v1/sshca/kek/rotate.
type KEKRotateResponse struct {
	// KEKID is the new key-encryption key's ID.
	KEKID string `json:"kek_id"`
	// Rewrapped is how many CA private keys were re-sealed under it.
	Rewrapped int `json:"rewrapped"`
}

// apiRotateKEK is POST /api/v1/sshca/kek/rotate: 409 kek_not_managed when the
// operator supplies the keys.
func (s *Service) apiRotateKEK(w http.ResponseWriter, r *http.Request) error {
	id, n, err := s.ca.RotateKEK(r.Context())
	if errors.Is(err, seal.ErrNotManaged) {
		return httpapi.Errorf(http.StatusConflict, "kek_not_managed", "%v", err)
	}
	if err != nil {
		return err
	}
	httpapi.SetAuditDetail(r, "new key-encryption key "+id+", re-sealed "+strconv.Itoa(n)+" CA keys")
	return httpapi.WriteJSON(w, http.StatusOK, KEKRotateResponse{KEKID: id, Rewrapped: n})
}
