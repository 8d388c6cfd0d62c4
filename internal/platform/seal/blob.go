package seal

import (
	"bytes"
	"errors"
	"fmt"
)

// The sealed-blob format (version 1), written by Keyring.Seal:
//
//	"gsl1" | len(id) (1 byte, 1..64) | id | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The additional data authenticated with it is the header (everything
// before the nonce), the keyring's name, a zero byte and the label, so a
// blob opens only for the row and the keyring it was sealed for.
var blobMagic = []byte("gsl1")

const (
	nonceSize = 12
	tagSize   = 16
	maxIDLen  = 64
)

// Blob is a parsed sealed blob.
type Blob struct {
	// KeyID names the key-encryption key that sealed it.
	KeyID string
	// Header is the bytes before the nonce, authenticated with the label.
	Header []byte
	// Nonce is the AES-GCM nonce.
	Nonce []byte
	// Ciphertext is the ciphertext followed by the tag.
	Ciphertext []byte
}

// ParseBlob splits a sealed blob into its key ID, nonce and ciphertext,
// without opening it. The error says which part is missing or malformed.
func ParseBlob(b []byte) (Blob, error) {
	if len(b) < len(blobMagic) || !bytes.Equal(b[:len(blobMagic)], blobMagic) {
		return Blob{}, errors.New("not a sealed blob: it does not start with \"gsl1\"")
	}
	rest := b[len(blobMagic):]
	if len(rest) < 1 {
		return Blob{}, errors.New("sealed blob: truncated before the key ID's length")
	}
	n := int(rest[0])
	if n == 0 || n > maxIDLen {
		return Blob{}, fmt.Errorf("sealed blob: key ID length %d, want 1 to %d", n, maxIDLen)
	}
	rest = rest[1:]
	if len(rest) < n {
		return Blob{}, fmt.Errorf("sealed blob: truncated key ID (%d of %d bytes)", len(rest), n)
	}
	id := string(rest[:n])
	if err := checkKeyID(id); err != nil {
		return Blob{}, fmt.Errorf("sealed blob: %w", err)
	}
	rest = rest[n:]
	if len(rest) < nonceSize+tagSize {
		return Blob{}, fmt.Errorf("sealed blob under key %s: %d bytes after the key ID, want at least %d (nonce and tag)",
			id, len(rest), nonceSize+tagSize)
	}
	header := b[:len(blobMagic)+1+n]
	return Blob{KeyID: id, Header: header, Nonce: rest[:nonceSize], Ciphertext: rest[nonceSize:]}, nil
}

// checkKeyID accepts IDs of printable ASCII without spaces.
func checkKeyID(id string) error {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("key ID %q: byte %d is not printable ASCII", id, i)
		}
	}
	return nil
}

// appendHeader appends the header of a blob sealed under id.
func appendHeader(dst []byte, id string) []byte {
	dst = append(dst, blobMagic...)
	dst = append(dst, byte(len(id)))
	return append(dst, id...)
}

// additionalData is what a blob's ciphertext is bound to.
func additionalData(header []byte, name, label string) []byte {
	ad := make([]byte, 0, len(header)+len(name)+1+len(label))
	ad = append(ad, header...)
	ad = append(ad, name...)
	ad = append(ad, 0)
	return append(ad, label...)
}
