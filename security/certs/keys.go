package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
)

// Key types Gaffer generates. ECDSA P-256 is the default.
const (
	KeyECDSAP256 = "ecdsa-p256"
	KeyECDSAP384 = "ecdsa-p384"
	KeyRSA2048   = "rsa-2048"
	KeyRSA3072   = "rsa-3072"
	KeyRSA4096   = "rsa-4096"
	KeyEd25519   = "ed25519"
)

// KeyTypes lists the key types GenerateKey accepts.
var KeyTypes = []string{KeyECDSAP256, KeyECDSAP384, KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyEd25519}

// GenerateKey returns a new private key of the named type ("" is P-256).
func GenerateKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "", KeyECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case KeyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case KeyEd25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("certs: unknown key type %q (want one of %v)", keyType, KeyTypes)
}

// KeyType names the type of a public key as GenerateKey spells it, or
// reports an error for keys Gaffer does not certify.
func KeyType(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return KeyECDSAP256, nil
		case elliptic.P384():
			return KeyECDSAP384, nil
		}
		return "", fmt.Errorf("certs: ECDSA curve %s is not allowed (P-256 or P-384)", k.Curve.Params().Name)
	case *rsa.PublicKey:
		switch n := k.N.BitLen(); {
		case n < 2048:
			return "", fmt.Errorf("certs: RSA key of %d bits is too small (at least 2048)", n)
		case n > 8192:
			return "", fmt.Errorf("certs: RSA key of %d bits is too large (at most 8192)", n)
		case n <= 2048:
			return KeyRSA2048, nil
		case n <= 3072:
			return KeyRSA3072, nil
		default:
			return KeyRSA4096, nil
		}
	case ed25519.PublicKey:
		return KeyEd25519, nil
	}
	return "", fmt.Errorf("certs: public key type %T is not allowed", pub)
}

// marshalKey encodes a private key as PKCS #8 DER.
func marshalKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("certs: encode private key: %w", err)
	}
	return der, nil
}

// parseKey decodes a PKCS #8, PKCS #1 or SEC 1 DER private key.
func parseKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("certs: private key type %T cannot sign", k)
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("certs: not a PKCS #8, SEC 1 or PKCS #1 private key")
}

// Fingerprint is the hex SHA-256 of a certificate's DER.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// sameKey reports whether a private key belongs to a certificate.
func sameKey(priv crypto.Signer, cert *x509.Certificate) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := priv.Public().(equaler)
	return ok && e.Equal(cert.PublicKey)
}
