// Package tlsca is Gaffer's own certificate authority for its listeners:
// `gaffer serve --tls` creates a CA in the data directory on first start
// and issues the server certificate that HTTPS and the embedded NATS
// present. Clients (the CLI, workers, agents) pin the CA's certificate
// from a file (see ClientConfig); it is also served at a public route as
// the bootstrap bundle, checked by its SHA-256 fingerprint.
package tlsca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Files the CA keeps in the data directory.
const (
	// CertFile is the CA certificate (PEM): the bootstrap bundle clients pin.
	CertFile = "ca.pem"
	// KeyFile is the CA's private key (PEM, PKCS #8), mode 0600.
	KeyFile = "ca.key"
)

// CAValidity is how long a CA created by LoadOrCreate is valid.
const CAValidity = 10 * 365 * 24 * time.Hour

// backdate is how far before now certificates start, for clocks that lag.
const backdate = 5 * time.Minute

// CA is a certificate authority: its certificate and private key.
type CA struct {
	Cert *x509.Certificate
	// PEM is Cert, PEM-encoded (the contents of CertFile).
	PEM []byte
	key crypto.Signer
}

// LoadOrCreate loads the CA kept in dir, or creates one there (key 0600,
// certificate 0644 less the umask) when neither file exists. created
// reports whether it did. A key readable by others, a certificate that
// does not match its key, or one expired at now is an error.
func LoadOrCreate(dir string, now time.Time) (_ *CA, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	if errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist) {
		ca, err := create(dir, now)
		return ca, err == nil, err
	}
	ca, err := load(certPath, keyPath, now)
	return ca, false, err
}

func create(dir string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Gaffer internal CA " + serial.Text(16)[:8], Organization: []string{"Gaffer"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tls: create CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: encode CA key: %w", err)
	}
	keyPath := filepath.Join(dir, KeyFile)
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeNew(filepath.Join(dir, CertFile), certPEM, 0o644); err != nil {
		os.Remove(keyPath)
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls: parse new CA certificate: %w", err)
	}
	return &CA{Cert: cert, PEM: certPEM, key: key}, nil
}

// writeNew writes a file that must not exist yet, and syncs it.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("tls: create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
}

func load(certPath, keyPath string, now time.Time) (*CA, error) {
	fi, err := os.Stat(keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls: CA key: %w (%s exists without it: restore the key or remove both files to create a new CA)", err, certPath)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("tls: CA key %s is mode %04o, readable by others: chmod 600 it", keyPath, fi.Mode().Perm())
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA key: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("tls: %s: no PEM \"PRIVATE KEY\" block", keyPath)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tls: %s: %w", keyPath, err)
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tls: %s: key of type %T cannot sign", keyPath, parsed)
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("tls: CA certificate: %w (%s exists without it: remove both files to create a new CA)", err, keyPath)
	}
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("tls: %s: %w", certPath, err)
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, fmt.Errorf("tls: %s is not a CA certificate", certPath)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("tls: %s does not belong to the key in %s", certPath, keyPath)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("tls: the CA in %s expired on %s: remove %s and %s to create a new one (and give clients the new %s)",
			certPath, cert.NotAfter.Format(time.RFC3339), certPath, keyPath, CertFile)
	}
	return &CA{Cert: cert, PEM: certPEM, key: key}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls: serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1<<32)), nil // at least 9 hex digits, never zero
}

// Fingerprint is the SHA-256 of a certificate's DER encoding, written
// "sha256:" and lower-case hex, as the serve log prints the CA's.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseCertificates decodes every PEM "CERTIFICATE" block of data; it
// fails when there is none or one does not parse.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return out, nil
}
