package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
)

// TLSHostNames are the names the internal CA's server certificate
// carries: the hosts of --listen and --nats-listen (this machine's host
// name instead when one listens on every address), localhost, 127.0.0.1,
// ::1 and --tls-names.
func (c *Config) TLSHostNames() []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	for _, addr := range []string{c.Listen, c.NATSListen} {
		if addr == "" {
			continue
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			continue // Validate and the listener report it
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			if h, err := os.Hostname(); err == nil {
				names = append(names, h)
			}
			continue
		}
		names = append(names, host)
	}
	return append(names, c.TLSNames...)
}

// tlsEnabled reports whether serve uses TLS.
func (c *Config) tlsEnabled() bool { return c.TLS || c.TLSCert != "" || c.TLSKey != "" }

// loadTLS prepares the server certificate (`serve --tls`) and logs the
// CA's fingerprint, for clients that fetch the bootstrap bundle.
func (s *Server) loadTLS() error {
	if !s.cfg.tlsEnabled() {
		return nil
	}
	t, err := tlsca.NewServer(tlsca.ServerOptions{DataDir: s.cfg.DataDir, CertFile: s.cfg.TLSCert, KeyFile: s.cfg.TLSKey,
		Names: s.cfg.TLSHostNames(), Now: s.cfg.Now})
	if err != nil {
		return err
	}
	s.tls = t
	names := append([]string{}, t.Leaf.DNSNames...)
	for _, ip := range t.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if t.CA == nil {
		s.log.Info("TLS with the operator's certificate", "subject", t.Leaf.Subject.String(), "names", names,
			"not_after", t.Leaf.NotAfter)
		return nil
	}
	msg := "TLS with a certificate from Gaffer's CA; clients pin the CA certificate (--ca-file)"
	if t.Created {
		msg = "created Gaffer's CA; clients pin its certificate (--ca-file)"
	}
	s.log.Info(msg, "ca_file", filepath.Join(s.cfg.DataDir, tlsca.CertFile), "ca_fingerprint", tlsca.Fingerprint(t.CA.Cert),
		"names", names, "not_after", t.Leaf.NotAfter)
	return nil
}

// caRoute serves the CA certificate: the bootstrap bundle clients pin.
// It is public, as a CA certificate is; a client checks what it fetched
// against the fingerprint the serve log prints before trusting it.
func (s *Server) caRoute() {
	s.router.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/tls/ca", Public: true,
		Summary: "The CA certificate (PEM) of `serve --tls`, for clients to pin (check its SHA-256 fingerprint against the serve log)",
		Handler: s.handleCA})
}

// handleCA answers the CA certificate of serve --tls as PEM, with its fingerprint (GET /api/v1/tls/ca).
func (s *Server) handleCA(w http.ResponseWriter, r *http.Request) error {
	if s.tls == nil || s.tls.CA == nil {
		reason := "this server does not use TLS"
		if s.tls != nil {
			reason = "this server presents an operator's certificate (--tls-cert): get its CA from the operator"
		}
		return httpapi.Errorf(http.StatusNotFound, "not_found", "no Gaffer CA: %s", reason)
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("X-Gaffer-CA-Fingerprint", tlsca.Fingerprint(s.tls.CA.Cert))
	_, err := w.Write(s.tls.CA.PEM)
	return err
}

// serverTLS is the listeners' TLS configuration, nil without TLS.
func (s *Server) serverTLS() *tls.Config {
	if s.tls == nil {
		return nil
	}
	return s.tls.Config
}

// scheme is the HTTP URL scheme the server answers on.
func (s *Server) scheme() string {
	if s.tls != nil {
		return "https"
	}
	return "http"
}

// workerNATSTLS is how a process connecting to NATS by URL verifies it:
// --ca-file, or for a worker joining a TLS embedded server of its data
// directory, <data-dir>/ca.pem.
func (s *Server) workerNATSTLS(url string) (*tls.Config, error) {
	file := s.cfg.CAFile
	if file == "" && strings.HasPrefix(url, "tls://") {
		file = filepath.Join(s.cfg.DataDir, tlsca.CertFile)
	}
	if file == "" {
		return nil, nil
	}
	c, err := tlsca.ClientConfig(file)
	if err != nil {
		return nil, fmt.Errorf("nats: the embedded NATS uses TLS: %w", err)
	}
	return c, nil
}
