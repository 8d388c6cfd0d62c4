package certs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/egress"
)

// acmeValidationTimeout bounds one challenge validation.
const acmeValidationTimeout = 10 * time.Second

// idPeACMEIdentifier is the tls-alpn-01 certificate extension (RFC 8737).
var idPeACMEIdentifier = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 31}

// acmeValidator checks challenges by connecting to the identifier: port 80
// for http-01 and 443 for tls-alpn-01 unless the settings move them, and
// to Settings.ACMEResolveTo instead of the identifier's DNS address when
// that is set (tests and closed networks). Connections dial through the
// egress policy, so a client cannot make Gaffer fetch from loopback,
// link-local or private addresses by naming them.
type acmeValidator struct {
	httpPort, tlsPort int
	resolveTo         string
	dnsResolver       string
	// egress is the outbound policy (the service sets Deps.Egress; nil
	// is the default policy).
	egress *egress.Policy
}

func newACMEValidator(s *Settings) *acmeValidator {
	return &acmeValidator{httpPort: s.ACMEHTTPPort, tlsPort: s.ACMETLSPort, resolveTo: s.ACMEResolveTo, dnsResolver: s.ACMEDNSResolver}
}

func (v *acmeValidator) addr(identifier string, port int) string {
	host := identifier
	if v.resolveTo != "" {
		host = v.resolveTo
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (v *acmeValidator) validate(ctx context.Context, typ, identifier, token, keyAuth string) *acmeProblem {
	ctx, cancel := context.WithTimeout(ctx, acmeValidationTimeout)
	defer cancel()
	switch typ {
	case "http-01":
		return v.http01(ctx, identifier, token, keyAuth)
	case "tls-alpn-01":
		return v.tlsALPN01(ctx, identifier, keyAuth)
	case "dns-01":
		return v.dns01(ctx, identifier, keyAuth)
	}
	return problem(http.StatusBadRequest, probMalformed, "unknown challenge type %s", typ)
}

func (v *acmeValidator) http01(ctx context.Context, identifier, token, keyAuth string) *acmeProblem {
	client := &http.Client{
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return v.egress.DialContext(ctx, network, v.addr(identifier, v.httpPort), acmeValidationTimeout)
		}, DisableKeepAlives: true},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		},
	}
	url := "http://" + identifier + "/.well-known/acme-challenge/" + token
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return problem(http.StatusBadRequest, probMalformed, "http-01: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return problem(http.StatusBadRequest, probConnection, "http-01: fetch %s: %s", url, connFailure(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if resp.StatusCode != http.StatusOK {
		return problem(http.StatusForbidden, probUnauthorized, "http-01: %s answered HTTP %d, want 200", url, resp.StatusCode)
	}
	if got := strings.TrimRight(string(body), " \t\r\n"); got != keyAuth {
		return problem(http.StatusForbidden, probIncorrectResp, "http-01: %s answered with a body that is not the key authorization", url)
	}
	return nil
}

func (v *acmeValidator) tlsALPN01(ctx context.Context, identifier, keyAuth string) *acmeProblem {
	raw, err := v.egress.DialContext(ctx, "tcp", v.addr(identifier, v.tlsPort), acmeValidationTimeout)
	if err != nil {
		return problem(http.StatusBadRequest, probConnection, "tls-alpn-01: connect to %s: %s", identifier, connFailure(err))
	}
	conn := tls.Client(raw, &tls.Config{
		ServerName: identifier, NextProtos: []string{"acme-tls/1"}, InsecureSkipVerify: true, // the certificate is self-signed by design
	})
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		return problem(http.StatusBadRequest, probConnection, "tls-alpn-01: connect to %s: %s", identifier, connFailure(err))
	}
	st := conn.ConnectionState()
	if st.NegotiatedProtocol != "acme-tls/1" {
		return problem(http.StatusForbidden, probUnauthorized, "tls-alpn-01: the server did not negotiate acme-tls/1")
	}
	if len(st.PeerCertificates) == 0 {
		return problem(http.StatusForbidden, probUnauthorized, "tls-alpn-01: no certificate")
	}
	return checkALPNCert(st.PeerCertificates[0], identifier, keyAuth)
}

func checkALPNCert(c *x509.Certificate, identifier, keyAuth string) *acmeProblem {
	if len(c.DNSNames) != 1 || !strings.EqualFold(c.DNSNames[0], identifier) {
		return problem(http.StatusForbidden, probIncorrectResp, "tls-alpn-01: certificate names %v, want exactly %s", c.DNSNames, identifier)
	}
	want := sha256.Sum256([]byte(keyAuth))
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(idPeACMEIdentifier) {
			continue
		}
		var got []byte
		if _, err := asn1.Unmarshal(ext.Value, &got); err != nil || !ext.Critical || !bytes.Equal(got, want[:]) {
			return problem(http.StatusForbidden, probIncorrectResp, "tls-alpn-01: acmeIdentifier extension is wrong or not critical")
		}
		return nil
	}
	return problem(http.StatusForbidden, probIncorrectResp, "tls-alpn-01: certificate lacks the acmeIdentifier extension")
}

func (v *acmeValidator) dns01(ctx context.Context, identifier, keyAuth string) *acmeProblem {
	if v.dnsResolver == "" {
		return problem(http.StatusBadRequest, probMalformed, "dns-01 is not offered by this server")
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, v.dnsResolver)
	}}
	txts, err := r.LookupTXT(ctx, "_acme-challenge."+identifier)
	if err != nil {
		return problem(http.StatusBadRequest, acmeErr+"dns", "dns-01: look up _acme-challenge.%s: %v", identifier, err)
	}
	sum := sha256.Sum256([]byte(keyAuth))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, t := range txts {
		if t == want {
			return nil
		}
	}
	return problem(http.StatusForbidden, probIncorrectResp, "dns-01: no TXT record at _acme-challenge.%s holds the key authorization digest", identifier)
}
