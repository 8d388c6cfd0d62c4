package certs

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
)

// MaxCSRBytes bounds a PEM CSR.
const MaxCSRBytes = 64 << 10

// ParseCSR decodes a PEM (or raw DER) certificate signing request and
// checks its signature, so that the requester holds the key.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	if len(data) > MaxCSRBytes {
		return nil, badInput("CSR: %d bytes is over the limit of %d", len(data), MaxCSRBytes)
	}
	der := data
	if s := strings.TrimSpace(string(data)); strings.HasPrefix(s, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil {
			return nil, badInput("CSR: malformed PEM")
		}
		if blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
			return nil, badInput("CSR: PEM block is %q, want CERTIFICATE REQUEST", blk.Type)
		}
		der = blk.Bytes
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, badInput("CSR: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, badInput("CSR: signature does not verify: %v", err)
	}
	if _, err := KeyType(csr.PublicKey); err != nil {
		return nil, badInput("CSR: %v", err)
	}
	return csr, nil
}

// csrNames returns a CSR's requested names as text.
func csrNames(csr *x509.CertificateRequest) []string {
	n := Names{DNS: csr.DNSNames, IPs: csr.IPAddresses, Emails: csr.EmailAddresses, URIs: csr.URIs}
	if cn := csr.Subject.CommonName; cn != "" {
		return append([]string{cn}, n.All()...)
	}
	return n.All()
}
