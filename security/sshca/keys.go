package sshca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// CA key algorithms, as named in the API.
const (
	AlgEd25519   = "ed25519"
	AlgECDSAP256 = "ecdsa-p256"
	AlgECDSAP384 = "ecdsa-p384"
	AlgECDSAP521 = "ecdsa-p521"
	AlgRSA3072   = "rsa-3072"
	AlgRSA4096   = "rsa-4096"
)

// Algorithms lists the CA key algorithms, the default first.
var Algorithms = []string{AlgEd25519, AlgECDSAP256, AlgECDSAP384, AlgECDSAP521, AlgRSA3072, AlgRSA4096}

// generateKey makes a new CA private key.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgEd25519, "":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case AlgECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case AlgECDSAP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case AlgRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case AlgRSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("algorithm: %q is not one of %s", alg, strings.Join(Algorithms, ", "))
}

// caSigner wraps a CA private key as an ssh.Signer. RSA keys sign with
// rsa-sha2-512: OpenSSH refuses SHA-1 ("ssh-rsa") CA signatures.
func caSigner(key crypto.Signer) (ssh.Signer, error) {
	s, err := ssh.NewSignerFromSigner(key)
	if err != nil {
		return nil, fmt.Errorf("sshca: CA key: %w", err)
	}
	if s.PublicKey().Type() == ssh.KeyAlgoRSA {
		as, ok := s.(ssh.AlgorithmSigner)
		if !ok {
			return nil, errors.New("sshca: RSA CA key cannot choose its signature algorithm")
		}
		return ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512})
	}
	return s, nil
}

// marshalPrivate encodes a private key in the OpenSSH format, to be sealed.
func marshalPrivate(key crypto.Signer, comment string) ([]byte, error) {
	block, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		return nil, fmt.Errorf("sshca: encode CA key: %w", err)
	}
	return pem.EncodeToMemory(block), nil
}

// parsePrivate decodes what marshalPrivate produced.
func parsePrivate(pemBytes []byte) (ssh.Signer, error) {
	raw, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("sshca: decode CA key: %w", err)
	}
	var key crypto.Signer
	switch k := raw.(type) {
	case *ed25519.PrivateKey:
		key = *k
	case crypto.Signer:
		key = k
	default:
		return nil, fmt.Errorf("sshca: decode CA key: unexpected type %T", raw)
	}
	return caSigner(key)
}

// KeyInfo describes a public key for policy checks.
type KeyInfo struct {
	// Family is "ed25519", "ecdsa", "rsa", "sk-ed25519" or "sk-ecdsa".
	Family string
	// Bits is the key size (256 for ed25519).
	Bits int
}

// DescribeKey returns the family and size of a public key, or an error for
// key types Gaffer does not sign (certificates, DSA).
func DescribeKey(k ssh.PublicKey) (KeyInfo, error) {
	switch k.Type() {
	case ssh.KeyAlgoED25519:
		return KeyInfo{Family: "ed25519", Bits: 256}, nil
	case ssh.KeyAlgoSKED25519:
		return KeyInfo{Family: "sk-ed25519", Bits: 256}, nil
	case ssh.KeyAlgoECDSA256:
		return KeyInfo{Family: "ecdsa", Bits: 256}, nil
	case ssh.KeyAlgoECDSA384:
		return KeyInfo{Family: "ecdsa", Bits: 384}, nil
	case ssh.KeyAlgoECDSA521:
		return KeyInfo{Family: "ecdsa", Bits: 521}, nil
	case ssh.KeyAlgoSKECDSA256:
		return KeyInfo{Family: "sk-ecdsa", Bits: 256}, nil
	case ssh.KeyAlgoRSA:
		ck, ok := k.(ssh.CryptoPublicKey)
		if !ok {
			return KeyInfo{}, errors.New("public_key: cannot read the RSA key")
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return KeyInfo{}, errors.New("public_key: cannot read the RSA key")
		}
		return KeyInfo{Family: "rsa", Bits: rk.N.BitLen()}, nil
	}
	if strings.Contains(k.Type(), "-cert-v01@openssh.com") {
		return KeyInfo{}, fmt.Errorf("public_key: %s is a certificate; send the plain public key", k.Type())
	}
	return KeyInfo{}, fmt.Errorf("public_key: unsupported key type %s", k.Type())
}

// ParsePublicKey reads one public key in authorized_keys form ("ssh-ed25519
// AAAA... comment"), refusing certificates, unsupported types, and trailing
// keys.
func ParsePublicKey(text string) (ssh.PublicKey, KeyInfo, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, KeyInfo{}, errors.New("public_key: required")
	}
	if len(text) > 16<<10 {
		return nil, KeyInfo{}, errors.New("public_key: longer than 16 KiB")
	}
	if strings.ContainsAny(text, "\r\n") {
		return nil, KeyInfo{}, errors.New("public_key: want exactly one key on one line")
	}
	k, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(text))
	if err != nil {
		return nil, KeyInfo{}, fmt.Errorf("public_key: not an OpenSSH public key (%w)", err)
	}
	if len(options) > 0 || len(rest) > 0 {
		return nil, KeyInfo{}, errors.New("public_key: want a bare key, without authorized_keys options")
	}
	info, err := DescribeKey(k)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	return k, info, nil
}

// authorizedLine renders a key as one authorized_keys line without the
// trailing newline.
func authorizedLine(k ssh.PublicKey, comment string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	if comment != "" {
		line += " " + comment
	}
	return line
}
