package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// ServerValidity is how long a server certificate the CA issues is valid;
// an Issuer renews it when a third of that is left.
const ServerValidity = 90 * 24 * time.Hour

// Names are the host names and IP addresses a server certificate names.
type Names struct {
	DNS []string
	IPs []net.IP
}

// ParseNames sorts names into DNS names and IP addresses, dropping
// duplicates and empty entries. A name that is neither an IP address nor
// a valid host name (letters, digits and hyphens in dot-separated labels,
// optionally starting with "*.") is an error naming it.
func ParseNames(names []string) (Names, error) {
	var out Names
	seen := map[string]bool{}
	for _, raw := range names {
		n := strings.ToLower(strings.TrimSpace(raw))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			out.IPs = append(out.IPs, ip)
			continue
		}
		if err := validHostName(n); err != nil {
			return Names{}, fmt.Errorf("tls-names: %q is neither an IP address nor a host name: %w", raw, err)
		}
		out.DNS = append(out.DNS, n)
	}
	if len(out.DNS) == 0 && len(out.IPs) == 0 {
		return Names{}, fmt.Errorf("tls-names: no name for the server certificate")
	}
	return out, nil
}

func validHostName(n string) error {
	if len(n) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	labels := strings.Split(strings.TrimPrefix(n, "*."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("label %q must have 1 to 63 characters", l)
		}
		for i, r := range l {
			ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(l)-1
			if !ok {
				return fmt.Errorf("label %q has %q", l, r)
			}
		}
	}
	return nil
}

// Issue creates a server certificate (a new P-256 key) for names, valid
// from shortly before now for ServerValidity, signed by the CA. The
// chain in the result holds the leaf and the CA certificate.
func (ca *CA) Issue(names Names, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls: generate server key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := ""
	if len(names.DNS) > 0 {
		cn = names.DNS[0]
	} else if len(names.IPs) > 0 {
		cn = names.IPs[0].String()
	}
	notAfter := now.Add(ServerValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Gaffer"}},
		DNSNames:     names.DNS,
		IPAddresses:  names.IPs,
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("tls: issue server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls: parse server certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// Issuer hands out the server certificate, issuing a new one when a third
// of the current one's validity is left, so a long-running server never
// presents an expired certificate. The key lives only in memory.
type Issuer struct {
	ca    *CA
	names Names
	now   func() time.Time

	mu   sync.Mutex
	cert *tls.Certificate
}

// NewIssuer issues the first certificate for names at now().
func NewIssuer(ca *CA, names Names, now func() time.Time) (*Issuer, error) {
	if now == nil {
		now = time.Now
	}
	cert, err := ca.Issue(names, now())
	if err != nil {
		return nil, err
	}
	return &Issuer{ca: ca, names: names, now: now, cert: cert}, nil
}

// Certificate returns the current certificate, renewing it when due. A
// failed renewal keeps the current one (it is still valid for weeks).
func (i *Issuer) Certificate() *tls.Certificate {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.now()
	leaf := i.cert.Leaf
	if now.After(leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 3)) {
		if c, err := i.ca.Issue(i.names, now); err == nil {
			i.cert = c
		}
	}
	return i.cert
}
