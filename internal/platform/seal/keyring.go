package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// KeySize is the length of a key-encryption key: AES-256.
const KeySize = 32

// ErrNotManaged is returned by Keyring.Rotate when the keys come from the
// operator (a variable, a key file, a command), which Gaffer must not
// rewrite: rotate them where they are kept and restart.
var ErrNotManaged = errors.New("the key-encryption keys are not in Gaffer's own file; " +
	"put a new key first where they are kept, the old one after it, and restart")

// key is one AES-256-GCM key-encryption key.
type key struct {
	id   string
	raw  []byte
	aead cipher.AEAD
}

// KeyID returns the ID of a raw key: "kek-" and 16 hex digits of a hash
// of it. It names the key in blobs, columns, logs and errors without
// revealing it.
func KeyID(raw []byte) string {
	h := sha256.New()
	h.Write([]byte("gaffer seal kek\x00"))
	h.Write(raw)
	return "kek-" + hex.EncodeToString(h.Sum(nil)[:8])
}

func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("want %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &key{id: KeyID(raw), raw: slices.Clone(raw), aead: aead}, nil
}

// validName is what a keyring's name may be: it is written into
// $GAFFER_KEK_NAME, a file name and every blob's additional data.
var validName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Keyring is a named set of key-encryption keys: the current one seals,
// and every key opens what it sealed, until a rotation has re-sealed it
// under the current key. It is safe for concurrent use.
type Keyring struct {
	name   string
	source string
	// managed is the path of Gaffer's own generated key file, "" when the
	// keys come from the operator.
	managed string

	mu   sync.RWMutex
	keys []*key // current first
}

// New returns the keyring name ("certs", "sshca") of raw 32-byte keys, the
// current one first; source says where they came from, for errors and
// logs. Duplicate keys are kept once.
func New(name, source string, raws ...[]byte) (*Keyring, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("seal: keyring name %q: want lower-case letters, digits and dashes", name)
	}
	if len(raws) == 0 {
		return nil, fmt.Errorf("seal: the %s keyring from %s has no key", name, source)
	}
	kr := &Keyring{name: name, source: source}
	for i, raw := range raws {
		k, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("seal: %s key-encryption key %d from %s: %w", name, i+1, source, err)
		}
		if kr.find(k.id) == nil {
			kr.keys = append(kr.keys, k)
		}
	}
	return kr, nil
}

// Source says where the keys came from.
func (kr *Keyring) Source() string { return kr.source }

// Managed reports whether the keys are in Gaffer's own generated file,
// which Rotate may rewrite.
func (kr *Keyring) Managed() bool { return kr.managed != "" }

// CurrentID is the ID of the key that seals from now on.
func (kr *Keyring) CurrentID() string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.keys[0].id
}

// IDs lists the keys' IDs, the current one first.
func (kr *Keyring) IDs() []string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	ids := make([]string, len(kr.keys))
	for i, k := range kr.keys {
		ids[i] = k.id
	}
	return ids
}

// find returns the key with id, or nil; the caller holds mu.
func (kr *Keyring) find(id string) *key {
	for _, k := range kr.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Seal encrypts plaintext under the current key, bound to label (what the
// secret belongs to, e.g. "cert:SERIAL") so that a blob cannot be moved to
// another row. It returns the blob, which names the key, and the key's ID.
func (kr *Keyring) Seal(plaintext []byte, label string) ([]byte, string, error) {
	kr.mu.RLock()
	k := kr.keys[0]
	kr.mu.RUnlock()
	out := appendHeader(make([]byte, 0, len(blobMagic)+1+len(k.id)+nonceSize+len(plaintext)+tagSize), k.id)
	header := out
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("seal: %s %s: %w", kr.name, label, err)
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, additionalData(header, kr.name, label)), k.id, nil
}

// Open decrypts a blob Seal made for label, with the key the blob names.
// The error names the key and says whether it is not configured, or the
// blob is malformed, for another label or corrupted.
func (kr *Keyring) Open(blob []byte, label string) ([]byte, error) {
	b, err := ParseBlob(blob)
	if err != nil {
		return nil, fmt.Errorf("seal: open %s %s: %w", kr.name, label, err)
	}
	kr.mu.RLock()
	k := kr.find(b.KeyID)
	kr.mu.RUnlock()
	if k == nil {
		return nil, fmt.Errorf("seal: open %s %s: it is sealed with key-encryption key %s, which is not among the %s keys from %s (%s)",
			kr.name, label, b.KeyID, kr.name, kr.source, strings.Join(kr.IDs(), ", "))
	}
	pt, err := k.aead.Open(nil, b.Nonce, b.Ciphertext, additionalData(b.Header, kr.name, label))
	if err != nil {
		return nil, fmt.Errorf("seal: open %s %s with key-encryption key %s: authentication failed "+
			"(the blob is corrupted or belongs to another row)", kr.name, label, b.KeyID)
	}
	return pt, nil
}

// Rotate generates a new current key in Gaffer's own key file, keeping the
// earlier keys after it so that blobs they sealed still open, and returns
// its ID. Re-seal everything, then call Forget. With the operator's keys it
// fails with ErrNotManaged.
func (kr *Keyring) Rotate() (string, error) {
	if kr.managed == "" {
		return "", fmt.Errorf("seal: rotate the %s keys from %s: %w", kr.name, kr.source, ErrNotManaged)
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("seal: generate a %s key-encryption key: %w", kr.name, err)
	}
	k, err := newKey(raw)
	if err != nil {
		return "", fmt.Errorf("seal: generate a %s key-encryption key: %w", kr.name, err)
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	keys := append([]*key{k}, kr.keys...)
	if err := writeKeyFile(kr.managed, raws(keys), false); err != nil {
		return "", fmt.Errorf("seal: rotate the %s keys: %w", kr.name, err)
	}
	kr.keys = keys
	return k.id, nil
}

// Forget drops every key but the current one from Gaffer's own key file,
// once everything is re-sealed under the current key. With the operator's
// keys it does nothing: the operator removes old keys.
func (kr *Keyring) Forget() error {
	if kr.managed == "" {
		return nil
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	if err := writeKeyFile(kr.managed, raws(kr.keys[:1]), false); err != nil {
		return fmt.Errorf("seal: forget the old %s keys: %w", kr.name, err)
	}
	kr.keys = kr.keys[:1]
	return nil
}

func raws(keys []*key) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = k.raw
	}
	return out
}
