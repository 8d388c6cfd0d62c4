package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"
)

// ServerOptions say where a server's certificate comes from.
type ServerOptions struct {
	// DataDir keeps the internal CA (CertFile, KeyFile).
	DataDir string
	// CertFile and KeyFile are an operator's certificate (chain) and key,
	// PEM; when set the internal CA is not used.
	CertFile, KeyFile string
	// Names go into a certificate the internal CA issues.
	Names []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the TLS material of a serving process.
type Server struct {
	// Config serves HTTPS and NATS (TLS 1.2 or later).
	Config *tls.Config
	// CA is the internal CA, nil when an operator's certificate is used.
	CA *CA
	// Created reports that the CA was created by this start.
	Created bool
	// Leaf is the certificate presented at start.
	Leaf *x509.Certificate
}

// NewServer loads or creates what a server presents: the operator's
// certificate when both files are named, else one issued by the internal
// CA in DataDir (created on first use) for Names.
func NewServer(o ServerOptions) (*Server, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("tls-cert, tls-key: give both or neither")
	}
	if o.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls-cert, tls-key: %w", err)
		}
		if pair.Leaf == nil {
			if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
				return nil, fmt.Errorf("tls-cert: %s: %w", o.CertFile, err)
			}
		}
		if o.Now().After(pair.Leaf.NotAfter) {
			return nil, fmt.Errorf("tls-cert: %s expired on %s", o.CertFile, pair.Leaf.NotAfter.Format(time.RFC3339))
		}
		return &Server{Config: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}},
			Leaf: pair.Leaf}, nil
	}
	names, err := ParseNames(o.Names)
	if err != nil {
		return nil, err
	}
	ca, created, err := LoadOrCreate(o.DataDir, o.Now())
	if err != nil {
		return nil, err
	}
	issuer, err := NewIssuer(ca, names, o.Now)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return issuer.Certificate(), nil }}
	return &Server{Config: cfg, CA: ca, Created: created, Leaf: issuer.Certificate().Leaf}, nil
}

// ClientConfig is a client's TLS configuration trusting only the CA
// certificates in caFile (PEM): the pinned bootstrap bundle.
func ClientConfig(caFile string) (*tls.Config, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca-file: %w", err)
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("ca-file: %s: %w", caFile, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}
