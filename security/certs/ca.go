package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Authority kinds.
const (
	KindRoot         = "root"
	KindIntermediate = "intermediate"
	KindACME         = "acme"
)

// URLs are where an issuing CA publishes its certificate, CRL and OCSP
// responder; they are written into every certificate it signs.
type URLs struct {
	// Base is Gaffer's external URL, e.g. https://gaffer.example.com.
	Base string
}

// CRL is the CRL distribution point of authority name.
func (u URLs) CRL(name string) string { return u.Base + "/api/v1/certs/crl/" + name }

// OCSP is the OCSP responder of authority name.
func (u URLs) OCSP(name string) string { return u.Base + "/api/v1/certs/ocsp/" + name }

// Issuer is the URL of authority name's certificate (DER).
func (u URLs) Issuer(name string) string { return u.Base + "/api/v1/certs/ca/" + name }

// CA is an internal certificate authority loaded for signing.
type CA struct {
	// Name is the authority's name.
	Name string
	// Kind is KindRoot or KindIntermediate.
	Kind string
	// Cert is the authority's certificate.
	Cert *x509.Certificate
	// Chain is the authority's issuers, nearest first, ending at the root
	// (empty for a root).
	Chain []*x509.Certificate
	// Policy decides what the authority signs.
	Policy Policy
	// URLs are written into the certificates it signs.
	URLs URLs

	signer crypto.Signer // nil when the key is offline
}

// NewCA returns a CA that signs with key.
func NewCA(name, kind string, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer, p Policy, u URLs) *CA {
	return &CA{Name: name, Kind: kind, Cert: cert, Chain: chain, Policy: p, URLs: u, signer: key}
}

// Online reports whether the CA's key is available for signing.
func (ca *CA) Online() bool { return ca.signer != nil }

// Signer returns the CA's key, or nil when offline.
func (ca *CA) Signer() crypto.Signer { return ca.signer }

// ErrOffline is returned when an authority whose key is kept offline is
// asked to sign.
var ErrOffline = errors.New("certs: the authority's key is offline")

// Template is what a certificate will say, after policy checks.
type Template struct {
	CommonName  string
	Names       Names
	PublicKey   crypto.PublicKey
	NotBefore   time.Time
	Validity    time.Duration
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// Subject, when set, replaces the subject built from CommonName (CA
	// certificates).
	Subject *pkix.Name
	// IsCA makes a CA certificate; MaxPathLen then applies (-1 unset).
	IsCA       bool
	MaxPathLen int
	// OwnKey says Gaffer generated the subject key itself, so lints of
	// key weaknesses it cannot have are skipped.
	OwnKey bool
}

// NewSerial returns a random positive 128-bit serial number.
func NewSerial() (*big.Int, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("certs: serial: %w", err)
	}
	b[0] = b[0]&0x7f | 0x40 // positive, and always 16 bytes long
	return new(big.Int).SetBytes(b[:]), nil
}

// Sign builds the certificate described by t, signs it and runs zlint on
// it; a certificate with lint errors is returned as a *LintError and
// nothing else happens.
func (ca *CA) Sign(t *Template) (*x509.Certificate, error) {
	if ca.signer == nil {
		return nil, ErrOffline
	}
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	nb := t.NotBefore
	if nb.IsZero() {
		nb = time.Now().Add(-time.Minute)
	}
	nb = nb.UTC().Truncate(time.Second)
	na := nb.Add(t.Validity)
	if na.After(ca.Cert.NotAfter) {
		return nil, refuse("validity until %s would outlive the authority %s (until %s)",
			na.Format(time.RFC3339), ca.Name, ca.Cert.NotAfter.Format(time.RFC3339))
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              t.KeyUsage,
		ExtKeyUsage:           t.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  t.IsCA,
		DNSNames:              t.Names.DNS,
		IPAddresses:           t.Names.IPs,
		EmailAddresses:        t.Names.Emails,
		URIs:                  t.Names.URIs,
	}
	if t.Subject != nil {
		tmpl.Subject = *t.Subject
	} else if t.CommonName != "" {
		tmpl.Subject = pkix.Name{CommonName: t.CommonName}
	}
	if t.IsCA {
		tmpl.MaxPathLen = t.MaxPathLen
		tmpl.MaxPathLenZero = t.MaxPathLen == 0
		if tmpl.KeyUsage == 0 {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		}
	} else if tmpl.KeyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, rsa := t.PublicKey.(interface{ Size() int }); rsa && !isECDSA(t.PublicKey) {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	if !t.IsCA && tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if ca.URLs.Base != "" && ca.Kind != "" {
		tmpl.CRLDistributionPoints = []string{ca.URLs.CRL(ca.Name)}
		tmpl.OCSPServer = []string{ca.URLs.OCSP(ca.Name)}
		tmpl.IssuingCertificateURL = []string{ca.URLs.Issuer(ca.Name)}
	}
	if t.IsCA {
		tmpl.SubjectKeyId, err = subjectKeyID(t.PublicKey)
		if err != nil {
			return nil, err
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, t.PublicKey, ca.signer)
	if err != nil {
		return nil, fmt.Errorf("certs: sign with %s: %w", ca.Name, err)
	}
	if err := Lint(der, &ca.Policy, t.OwnKey); err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func isECDSA(pub crypto.PublicKey) bool {
	kt, _ := KeyType(pub)
	return kt == KeyECDSAP256 || kt == KeyECDSAP384
}

// subjectKeyID is the RFC 5280 method 1 key identifier.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certs: key identifier: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("certs: key identifier: %w", err)
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}

// NewRoot creates a self-signed root CA certificate and key, valid from
// an hour before now for validity.
func NewRoot(name string, subject pkix.Name, keyType string, validity time.Duration, now time.Time) (*CA, error) {
	key, err := GenerateKey(keyType)
	if err != nil {
		return nil, err
	}
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return nil, err
	}
	nb := now.Add(-time.Hour).UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject, NotBefore: nb, NotAfter: nb.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: true, SubjectKeyId: ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("certs: self-sign root %s: %w", name, err)
	}
	if err := Lint(der, &Policy{}, true); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return NewCA(name, KindRoot, cert, nil, key, Policy{}, URLs{}), nil
}

// NewIntermediate creates an issuing CA signed by parent.
func (ca *CA) NewIntermediate(name string, subject pkix.Name, keyType string, validity time.Duration, p Policy, now time.Time) (*CA, error) {
	key, err := GenerateKey(keyType)
	if err != nil {
		return nil, err
	}
	cert, err := ca.Sign(&Template{Subject: &subject, PublicKey: key.Public(), Validity: validity, IsCA: true, MaxPathLen: 0, OwnKey: true,
		NotBefore: now.Add(-time.Minute)})
	if err != nil {
		return nil, err
	}
	chain := append([]*x509.Certificate{ca.Cert}, ca.Chain...)
	return NewCA(name, KindIntermediate, cert, chain, key, p, ca.URLs), nil
}
