package certs

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
)

// Environment variables that supply key-encryption keys.
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
	KEKFileName = "certs.kek"
)

// ErrKEKNotManaged is returned by Keyring.Rotate when the keys come from
// the environment or an operator's file, which Gaffer must not rewrite.
var ErrKEKNotManaged = errors.New("certs: the key-encryption key is not in Gaffer's own file; rotate it where it is kept and then rewrap")

// kekKey is one AES-256-GCM key-encryption key.
type kekKey struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

func newKEKKey(raw []byte) (*kekKey, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("certs: key-encryption key: want 32 bytes, got %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("certs: key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("certs: key-encryption key: %w", err)
	}
	h := sha256.New()
	h.Write([]byte("gaffer certs kek\x00"))
	h.Write(raw)
	return &kekKey{id: "kek-" + hex.EncodeToString(h.Sum(nil)[:6]), raw: append([]byte(nil), raw...), aead: aead}, nil
}

func decodeKEK(text string) (*kekKey, error) {
	s := strings.TrimSpace(text)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return newKEKKey(b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return newKEKKey(b)
		}
	}
	return nil, errors.New("certs: key-encryption key must be 32 bytes written as hex or base64")
}

// Keyring holds the current key-encryption key, which seals every private
// key Gaffer stores (AES-256-GCM), and earlier keys that can still open
// what they sealed until Rewrap moves it to the current key.
type Keyring struct {
	mu      sync.RWMutex
	current *kekKey
	byID    map[string]*kekKey
	// source says where the keys came from, for logs.
	source string
	// managed is the path of Gaffer's own generated key file, "" when the
	// keys come from the operator.
	managed string
}

// NewKeyring returns a keyring of raw 32-byte keys, the current one first.
func NewKeyring(source string, keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("certs: a keyring needs at least one key")
	}
	kr := &Keyring{source: source, byID: map[string]*kekKey{}}
	for i, raw := range keys {
		k, err := newKEKKey(raw)
		if err != nil {
			return nil, fmt.Errorf("key %d from %s: %w", i+1, source, err)
		}
		if i == 0 {
			kr.current = k
		}
		kr.byID[k.id] = k
	}
	return kr, nil
}

// CurrentID identifies the key that seals from now on.
func (kr *Keyring) CurrentID() string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.current.id
}

// Source says where the keys came from.
func (kr *Keyring) Source() string { return kr.source }

// Seal encrypts a private key, binding it to label (what the key belongs
// to) so that sealed keys cannot be moved between rows. It returns the
// sealed bytes and the ID of the key that sealed them.
func (kr *Keyring) Seal(plaintext []byte, label string) ([]byte, string, error) {
	kr.mu.RLock()
	k := kr.current
	kr.mu.RUnlock()
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("certs: seal %s: %w", label, err)
	}
	return k.aead.Seal(nonce, nonce, plaintext, []byte(label)), k.id, nil
}

// Open decrypts what Seal sealed with the key kekID for label.
func (kr *Keyring) Open(sealed []byte, kekID, label string) ([]byte, error) {
	kr.mu.RLock()
	k := kr.byID[kekID]
	kr.mu.RUnlock()
	if k == nil {
		return nil, fmt.Errorf("certs: open %s: it is sealed with key-encryption key %s, which is not configured", label, kekID)
	}
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("certs: open %s: sealed key too short", label)
	}
	pt, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(label))
	if err != nil {
		return nil, fmt.Errorf("certs: open %s: wrong key-encryption key or corrupted data", label)
	}
	return pt, nil
}

// LoadKeyring finds the key-encryption keys: $GAFFER_CERTS_KEK (with
// $GAFFER_CERTS_KEK_PREVIOUS), else the file named by
// $GAFFER_CERTS_KEK_FILE, else what command (--kek-command, run with
// $GAFFER_KEK_NAME=certs) prints, in the key file's format, else
// <dataDir>/certs.kek, which is generated (mode 0600) when missing.
// generated reports that last case.
func LoadKeyring(getenv func(string) string, command, dataDir string) (kr *Keyring, generated bool, err error) {
	if v := getenv(KEKEnv); v != "" {
		lines := []string{v}
		if prev := getenv(KEKPreviousEnv); prev != "" {
			lines = append(lines, strings.Split(prev, ",")...)
		}
		kr, err := keyringFromLines("$"+KEKEnv, lines)
		return kr, false, err
	}
	if f := getenv(KEKFileEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, false, fmt.Errorf("certs: read key-encryption keys ($%s): %w", KEKFileEnv, err)
		}
		kr, err := keyringFromLines(f, strings.Split(string(b), "\n"))
		return kr, false, err
	}
	if command != "" {
		out, err := seal.RunCommand(context.Background(), command, "certs")
		if err != nil {
			return nil, false, fmt.Errorf("certs: %w", err)
		}
		kr, err := keyringFromLines("--kek-command", strings.Split(out, "\n"))
		return kr, false, err
	}
	path := filepath.Join(dataDir, KEKFileName)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		kr, err := keyringFromLines(path, strings.Split(string(b), "\n"))
		if kr != nil {
			kr.managed = path
		}
		return kr, false, err
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("certs: read key-encryption keys: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("certs: generate key-encryption key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("certs: generate key-encryption key: %w", err)
	}
	if err := writeKeyFile(path, [][]byte{raw}, true); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process was first
			return LoadKeyring(getenv, command, dataDir)
		}
		return nil, false, err
	}
	kr, err = NewKeyring(path, raw)
	if kr != nil {
		kr.managed = path
	}
	return kr, true, err
}

func keyringFromLines(source string, lines []string) (*Keyring, error) {
	var keys [][]byte
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, err := decodeKEK(l)
		if err != nil {
			return nil, fmt.Errorf("%s, line %d: %w", source, len(keys)+1, err)
		}
		keys = append(keys, k.raw)
	}
	return NewKeyring(source, keys...)
}

// writeKeyFile writes keys, base64, one a line; exclusive refuses to
// replace an existing file.
func writeKeyFile(path string, keys [][]byte, exclusive bool) error {
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	if exclusive {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("certs: write key-encryption key: %w", err)
		}
		_, werr := f.WriteString(sb.String())
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("certs: write key-encryption key %s: %w", path, werr)
		}
		return nil
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(sb.String()), 0o600); err != nil {
		return fmt.Errorf("certs: write key-encryption keys: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("certs: replace key-encryption keys: %w", err)
	}
	return nil
}

// Rotate generates a new current key in Gaffer's own key file, keeping the
// earlier keys after it so that sealed keys stay readable until rewrapped.
// It fails with ErrKEKNotManaged when the operator supplies the keys.
func (kr *Keyring) Rotate() (string, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.managed == "" {
		return "", ErrKEKNotManaged
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("certs: generate key-encryption key: %w", err)
	}
	k, err := newKEKKey(raw)
	if err != nil {
		return "", err
	}
	keys := [][]byte{raw, kr.current.raw}
	for id, old := range kr.byID {
		if id != kr.current.id {
			keys = append(keys, old.raw)
		}
	}
	if err := writeKeyFile(kr.managed, keys, false); err != nil {
		return "", err
	}
	kr.current = k
	kr.byID[k.id] = k
	return k.id, nil
}

// Forget drops every key but the current one from Gaffer's own key file,
// after a rewrap has moved every sealed key to the current key.
func (kr *Keyring) Forget() error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if kr.managed == "" {
		return nil
	}
	if err := writeKeyFile(kr.managed, [][]byte{kr.current.raw}, false); err != nil {
		return err
	}
	kr.byID = map[string]*kekKey{kr.current.id: kr.current}
	return nil
}
