package sshca

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// KRL section types, from OpenSSH's PROTOCOL.krl.
const (
	krlMagic            = "SSHKRL\n\x00"
	krlFormatVersion    = 1
	krlSectionCerts     = 1
	krlSectionExplicit  = 2
	krlSectionSHA1      = 3
	krlSectionSignature = 4
	krlSectionSHA256    = 5
	krlSectionExtension = 255
	krlCertSerialList   = 0x20
	krlCertSerialRange  = 0x21
	krlCertSerialBitmap = 0x22
	krlCertKeyID        = 0x23
	krlCertExtension    = 0x39
)

// KRL is an OpenSSH key revocation list: what sshd's RevokedKeys and
// `ssh-keygen -Q` read.
type KRL struct {
	// Version increases each time the list changes.
	Version     uint64
	GeneratedAt time.Time
	Comment     string
	// Certs revoke certificates, per CA key.
	Certs []KRLCerts
	// Keys are wire-format public keys revoked outright, together with
	// every certificate for them.
	Keys [][]byte
	// SHA1 and SHA256 are hashes of revoked public key blobs (read only;
	// Marshal writes Keys instead).
	SHA1, SHA256 [][]byte
}

// KRLCerts revokes certificates issued by one CA key.
type KRLCerts struct {
	// CAKey is the CA's wire-format public key; nil means any CA.
	CAKey   []byte
	Serials []uint64
	// Ranges are inclusive [min, max] serial ranges (read only).
	Ranges [][2]uint64
	KeyIDs []string
}

// Marshal encodes the list. Serials and key IDs are written sorted and
// without repeats; serial 0, which OpenSSH cannot revoke, is dropped.
func (k *KRL) Marshal() []byte {
	var b []byte
	b = append(b, krlMagic...)
	b = binary.BigEndian.AppendUint32(b, krlFormatVersion)
	b = binary.BigEndian.AppendUint64(b, k.Version)
	b = binary.BigEndian.AppendUint64(b, uint64(k.GeneratedAt.Unix()))
	b = binary.BigEndian.AppendUint64(b, 0) // flags
	b = appendString(b, nil)                // reserved
	b = appendString(b, []byte(k.Comment))
	for _, c := range k.Certs {
		var sect []byte
		sect = appendString(sect, c.CAKey)
		sect = appendString(sect, nil) // reserved
		subsections := 0
		serials := slices.Clone(c.Serials)
		slices.Sort(serials)
		serials = slices.Compact(serials)
		if len(serials) > 0 && serials[0] == 0 {
			serials = serials[1:]
		}
		if len(serials) > 0 {
			var list []byte
			for _, s := range serials {
				list = binary.BigEndian.AppendUint64(list, s)
			}
			sect = append(sect, krlCertSerialList)
			sect = appendString(sect, list)
			subsections++
		}
		ids := slices.Clone(c.KeyIDs)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) > 0 {
			var list []byte
			for _, id := range ids {
				list = appendString(list, []byte(strings.ReplaceAll(id, "\x00", "")))
			}
			sect = append(sect, krlCertKeyID)
			sect = appendString(sect, list)
			subsections++
		}
		if subsections > 0 {
			b = append(b, krlSectionCerts)
			b = appendString(b, sect)
		}
	}
	if len(k.Keys) > 0 {
		keys := slices.Clone(k.Keys)
		slices.SortFunc(keys, bytes.Compare)
		keys = slices.CompactFunc(keys, bytes.Equal)
		var sect []byte
		for _, key := range keys {
			sect = appendString(sect, key)
		}
		b = append(b, krlSectionExplicit)
		b = appendString(b, sect)
	}
	return b
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// wire reads SSH wire-format values.
type wire struct {
	b   []byte
	err error
}

func (w *wire) fail(what string) {
	if w.err == nil {
		w.err = fmt.Errorf("sshca: KRL: truncated %s", what)
	}
	w.b = nil
}

func (w *wire) u32(what string) uint32 {
	if len(w.b) < 4 {
		w.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(w.b)
	w.b = w.b[4:]
	return v
}

func (w *wire) u64(what string) uint64 {
	if len(w.b) < 8 {
		w.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(w.b)
	w.b = w.b[8:]
	return v
}

func (w *wire) byte1(what string) byte {
	if len(w.b) < 1 {
		w.fail(what)
		return 0
	}
	v := w.b[0]
	w.b = w.b[1:]
	return v
}

func (w *wire) str(what string) []byte {
	n := w.u32(what)
	if w.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(w.b)) {
		w.fail(what)
		return nil
	}
	s := w.b[:n:n]
	w.b = w.b[n:]
	return s
}

// ParseKRL decodes a KRL. It refuses signed KRLs (OpenSSH 9.4 and later
// refuse them too) and critical extensions it does not know.
func ParseKRL(b []byte) (*KRL, error) {
	if !bytes.HasPrefix(b, []byte(krlMagic)) {
		return nil, errors.New("sshca: KRL: bad magic")
	}
	w := &wire{b: b[len(krlMagic):]}
	if v := w.u32("format version"); w.err == nil && v != krlFormatVersion {
		return nil, fmt.Errorf("sshca: KRL: format version %d, want %d", v, krlFormatVersion)
	}
	k := &KRL{Version: w.u64("version")}
	k.GeneratedAt = time.Unix(int64(w.u64("generated date")&(1<<62-1)), 0).UTC()
	w.u64("flags")
	w.str("reserved")
	k.Comment = string(w.str("comment"))
	for w.err == nil && len(w.b) > 0 {
		typ := w.byte1("section type")
		data := w.str("section")
		if w.err != nil {
			break
		}
		if err := k.parseSection(typ, data); err != nil {
			return nil, err
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	return k, nil
}

func (k *KRL) parseSection(typ byte, data []byte) error {
	s := &wire{b: data}
	switch typ {
	case krlSectionCerts:
		c := KRLCerts{CAKey: s.str("CA key")}
		if len(c.CAKey) == 0 {
			c.CAKey = nil
		} else if _, err := ssh.ParsePublicKey(c.CAKey); err != nil {
			return fmt.Errorf("sshca: KRL: CA key: %w", err)
		}
		s.str("reserved")
		for s.err == nil && len(s.b) > 0 {
			sub := s.byte1("certificate subsection type")
			body := &wire{b: s.str("certificate subsection")}
			if s.err != nil {
				break
			}
			if err := c.parseSubsection(sub, body); err != nil {
				return err
			}
		}
		k.Certs = append(k.Certs, c)
	case krlSectionExplicit:
		for s.err == nil && len(s.b) > 0 {
			blob := s.str("key")
			if s.err == nil {
				if _, err := ssh.ParsePublicKey(blob); err != nil {
					return fmt.Errorf("sshca: KRL: revoked key: %w", err)
				}
				k.Keys = append(k.Keys, blob)
			}
		}
	case krlSectionSHA1, krlSectionSHA256:
		for s.err == nil && len(s.b) > 0 {
			h := s.str("key hash")
			if typ == krlSectionSHA1 {
				k.SHA1 = append(k.SHA1, h)
			} else {
				k.SHA256 = append(k.SHA256, h)
			}
		}
	case krlSectionSignature:
		return errors.New("sshca: KRL: signed KRLs are not supported")
	case krlSectionExtension:
		name := s.str("extension name")
		if critical := s.byte1("extension critical flag"); s.err == nil && critical != 0 {
			return fmt.Errorf("sshca: KRL: unsupported critical extension %q", name)
		}
		s.str("extension contents")
	default:
		return fmt.Errorf("sshca: KRL: unknown section type %d", typ)
	}
	return s.err
}

func (c *KRLCerts) parseSubsection(typ byte, s *wire) error {
	switch typ {
	case krlCertSerialList:
		for s.err == nil && len(s.b) > 0 {
			c.Serials = append(c.Serials, s.u64("serial"))
		}
	case krlCertSerialRange:
		lo, hi := s.u64("serial range"), s.u64("serial range")
		if s.err == nil && (lo > hi || lo == 0) {
			return fmt.Errorf("sshca: KRL: bad serial range %d-%d", lo, hi)
		}
		c.Ranges = append(c.Ranges, [2]uint64{lo, hi})
	case krlCertSerialBitmap:
		offset := s.u64("bitmap offset")
		bitmap := new(big.Int).SetBytes(s.str("bitmap"))
		for i := 0; i < bitmap.BitLen() && s.err == nil; i++ {
			if bitmap.Bit(i) == 1 {
				c.Serials = append(c.Serials, offset+uint64(i))
			}
		}
	case krlCertKeyID:
		for s.err == nil && len(s.b) > 0 {
			c.KeyIDs = append(c.KeyIDs, string(s.str("key ID")))
		}
	case krlCertExtension:
		name := s.str("extension name")
		if critical := s.byte1("extension critical flag"); s.err == nil && critical != 0 {
			return fmt.Errorf("sshca: KRL: unsupported critical certificate extension %q", name)
		}
		s.str("extension contents")
	default:
		return fmt.Errorf("sshca: KRL: unknown certificate subsection type %d", typ)
	}
	return s.err
}

// IsRevoked reports whether the list revokes key: a certificate by serial
// or key ID under its CA, or the plain key (a certificate's own key).
func (k *KRL) IsRevoked(key ssh.PublicKey) bool {
	if cert, ok := key.(*ssh.Certificate); ok {
		ca := cert.SignatureKey.Marshal()
		for _, c := range k.Certs {
			if c.CAKey != nil && !bytes.Equal(c.CAKey, ca) {
				continue
			}
			if c.CAKey != nil && (slices.Contains(c.Serials, cert.Serial) || inRanges(c.Ranges, cert.Serial)) {
				return true
			}
			if slices.Contains(c.KeyIDs, cert.KeyId) {
				return true
			}
		}
		key = cert.Key
	}
	blob := key.Marshal()
	s1, s256 := sha1.Sum(blob), sha256.Sum256(blob)
	return slices.ContainsFunc(k.Keys, func(b []byte) bool { return bytes.Equal(b, blob) }) ||
		slices.ContainsFunc(k.SHA1, func(b []byte) bool { return bytes.Equal(b, s1[:]) }) ||
		slices.ContainsFunc(k.SHA256, func(b []byte) bool { return bytes.Equal(b, s256[:]) })
}

func inRanges(ranges [][2]uint64, serial uint64) bool {
	for _, r := range ranges {
		if serial >= r[0] && serial <= r[1] {
			return true
		}
	}
	return false
}
