package sshca

import (
	"bytes"
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

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
)

// Where the key-encryption key comes from.
const (
	// KEKEnv holds the key-encryption key itself: 32 bytes, base64 or
	// hex. It has no flag, so that the key never shows in a process list.
	KEKEnv = "GAFFER_SSHCA_KEK"
	// KEKFileEnv names a file holding the key-encryption key; it is the
	// environment form of the --sshca-kek-file flag.
	KEKFileEnv = "GAFFER_SSHCA_KEK_FILE"
	// KEKFileName is the generated key's file in the data directory, used
	// when neither is set.
	KEKFileName = "sshca.kek"
)

// KEK is the key-encryption key that seals CA private keys at rest with
// AES-256-GCM. It never enters the database; its ID (a hash of it) is
// stored beside each sealed key so that a wrong KEK is named as such.
type KEK struct {
	key  [32]byte
	aead cipher.AEAD
	// ID identifies the key without revealing it.
	ID string
	// Source says where the key came from, for logs.
	Source string
}

// NewKEK returns a KEK from 32 raw bytes.
func NewKEK(raw []byte, source string) (*KEK, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("sshca: key-encryption key from %s: want 32 bytes, got %d", source, len(raw))
	}
	k := &KEK{Source: source}
	copy(k.key[:], raw)
	block, err := aes.NewCipher(k.key[:])
	if err != nil {
		return nil, fmt.Errorf("sshca: key-encryption key: %w", err)
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("sshca: key-encryption key: %w", err)
	}
	sum := sha256.Sum256(append([]byte("gaffer-sshca-kek-id:"), raw...))
	k.ID = hex.EncodeToString(sum[:8])
	return k, nil
}

// ParseKEK decodes a key written as base64 (standard or URL alphabet,
// padded or not) or hex.
func ParseKEK(text, source string) (*KEK, error) {
	s := strings.TrimSpace(text)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return NewKEK(b, source)
		}
	}
	return nil, fmt.Errorf("sshca: key-encryption key from %s: want 32 bytes written as base64 or hex", source)
}

// LoadKEK finds the key-encryption key: the key itself (from
// $GAFFER_SSHCA_KEK), else the file named by --sshca-kek-file, else what
// command (--kek-command, run with $GAFFER_KEK_NAME=sshca) prints, else
// <dataDir>/sshca.kek, which is generated (mode 0600) when missing.
// generated reports that last case, so the caller can warn that production
// should keep the key elsewhere.
func LoadKEK(key, file, command, dataDir string) (k *KEK, generated bool, err error) {
	if key != "" {
		k, err := ParseKEK(key, "$"+KEKEnv)
		return k, false, err
	}
	if f := file; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, false, fmt.Errorf("sshca: read key-encryption key (--sshca-kek-file): %w", err)
		}
		k, err := ParseKEK(string(b), f)
		return k, false, err
	}
	if command != "" {
		out, err := seal.RunCommand(context.Background(), command, "sshca")
		if err != nil {
			return nil, false, fmt.Errorf("sshca: %w", err)
		}
		k, err := ParseKEK(out, "--kek-command")
		return k, false, err
	}
	path := filepath.Join(dataDir, KEKFileName)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKEK(string(b), path)
		return k, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("sshca: read key-encryption key: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, false, fmt.Errorf("sshca: generate key-encryption key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("sshca: generate key-encryption key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return LoadKEK("", "", "", dataDir)
		}
		return nil, false, fmt.Errorf("sshca: write key-encryption key: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(raw[:]) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, false, fmt.Errorf("sshca: write key-encryption key %s: %w", path, werr)
	}
	k, err = NewKEK(raw[:], path)
	return k, true, err
}

// sealMagic starts every sealed key: format version 1.
var sealMagic = []byte("gsk1")

// Seal encrypts plaintext, binding it to label (the CA key's ID) so that
// sealed keys cannot be swapped between rows.
func (k *KEK) Seal(plaintext []byte, label string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sshca: seal: %w", err)
	}
	out := append(append([]byte{}, sealMagic...), nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte("gaffer-sshca-key:"+label)), nil
}

// Open decrypts what Seal produced for label.
func (k *KEK) Open(sealed []byte, label string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < len(sealMagic)+n || !bytes.Equal(sealed[:len(sealMagic)], sealMagic) {
		return nil, fmt.Errorf("sshca: open sealed key %s: not a sealed key", label)
	}
	body := sealed[len(sealMagic):]
	pt, err := k.aead.Open(nil, body[:n], body[n:], []byte("gaffer-sshca-key:"+label))
	if err != nil {
		return nil, fmt.Errorf("sshca: open sealed key %s: wrong key-encryption key or corrupted data", label)
	}
	return pt, nil
}
