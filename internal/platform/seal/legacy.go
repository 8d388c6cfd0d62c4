package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Legacy describes a format a system sealed with before the keyring, so
// that its blobs can be opened once and re-sealed: AES-256-GCM,
//
//	Magic | nonce (12 bytes) | ciphertext and tag
//
// with AADPrefix+label as additional data, and the key named beside the
// blob (not in it) by IDPrefix + hex(SHA-256(IDDomain + key)[:IDBytes]).
type Legacy struct {
	// Magic starts every blob; nil when the format had none.
	Magic []byte
	// AADPrefix is prepended to the label as additional data.
	AADPrefix string
	// IDPrefix, IDDomain and IDBytes derive a key's legacy ID.
	IDPrefix string
	IDDomain string
	IDBytes  int
}

// keyID is a raw key's ID in the legacy format.
func (l Legacy) keyID(raw []byte) string {
	sum := sha256.Sum256(append([]byte(l.IDDomain), raw...))
	n := min(max(l.IDBytes, 1), len(sum))
	return l.IDPrefix + hex.EncodeToString(sum[:n])
}

// OpenLegacy decrypts a blob sealed for label in format l by the key whose
// legacy ID is keyID (stored beside the blob). The error names the key and
// what is wrong.
func (kr *Keyring) OpenLegacy(l Legacy, blob []byte, keyID, label string) ([]byte, error) {
	kr.mu.RLock()
	var k *key
	var ids []string
	for _, c := range kr.keys {
		id := l.keyID(c.raw)
		if id == keyID {
			k = c
		}
		ids = append(ids, id)
	}
	kr.mu.RUnlock()
	if k == nil {
		return nil, fmt.Errorf("seal: open %s %s (sealed before the keyring): it is sealed with key-encryption key %s, "+
			"which is not among the %s keys from %s (%s)", kr.name, label, keyID, kr.name, kr.source, strings.Join(ids, ", "))
	}
	if len(blob) < len(l.Magic)+nonceSize+tagSize || !bytes.Equal(blob[:len(l.Magic)], l.Magic) {
		return nil, fmt.Errorf("seal: open %s %s (sealed before the keyring, key %s): %d bytes, not a blob of that format",
			kr.name, label, keyID, len(blob))
	}
	body := blob[len(l.Magic):]
	pt, err := k.aead.Open(nil, body[:nonceSize], body[nonceSize:], []byte(l.AADPrefix+label))
	if err != nil {
		return nil, fmt.Errorf("seal: open %s %s (sealed before the keyring) with key-encryption key %s: "+
			"authentication failed (the blob is corrupted or belongs to another row)", kr.name, label, keyID)
	}
	return pt, nil
}
