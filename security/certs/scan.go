package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Scan limits.
const (
	// MaxScanProbes bounds the addresses times ports of one scan.
	MaxScanProbes = 4096
	// ScanConcurrency is how many endpoints a scan probes at once.
	ScanConcurrency = 32
	// DefaultScanTimeout bounds one TLS handshake.
	DefaultScanTimeout = 3 * time.Second
)

// ScanRequest asks to discover certificates on TLS endpoints: host:port,
// a host (on each of Ports), or a CIDR range (every address, on each of
// Ports).
type ScanRequest struct {
	Targets []string `json:"targets"`
	// Ports apply to targets without a port (default 443).
	Ports []int `json:"ports,omitempty"`
	// Timeout bounds each handshake ("3s").
	Timeout Duration `json:"timeout,omitempty"`
	Owner   string   `json:"owner,omitempty"`
	Team    string   `json:"team,omitempty"`
}

// ScanResult is what one endpoint presented.
type ScanResult struct {
	Endpoint   string    `json:"endpoint"`
	CertID     int64     `json:"cert_id,omitempty"`
	Serial     string    `json:"serial,omitempty"`
	CommonName string    `json:"common_name,omitempty"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	// New says the certificate was not in the inventory before.
	New   bool   `json:"new,omitempty"`
	Error string `json:"error,omitempty"`
}

// ScanResponse lists a scan's results; endpoints that refused the
// connection are counted, not listed.
type ScanResponse struct {
	Probed  int          `json:"probed"`
	Found   int          `json:"found"`
	Results []ScanResult `json:"results"`
}

type probe struct{ host, port string }

// expandTargets turns targets into probes, refusing more than
// MaxScanProbes.
func expandTargets(targets []string, ports []int) ([]probe, error) {
	if len(ports) == 0 {
		ports = []int{443}
	}
	for _, p := range ports {
		if p <= 0 || p > 65535 {
			return nil, badInput("port %d: want 1 to 65535", p)
		}
	}
	var out []probe
	add := func(host string, port string) error {
		out = append(out, probe{host, port})
		if len(out) > MaxScanProbes {
			return badInput("scan: more than %d endpoints; split it", MaxScanProbes)
		}
		return nil
	}
	for _, t := range targets {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(t); err == nil {
			pfx = pfx.Masked()
			if bits := pfx.Addr().BitLen() - pfx.Bits(); bits > 16 {
				return nil, badInput("scan: range %s has over 65536 addresses", t)
			}
			for a := pfx.Addr(); pfx.Contains(a); a = a.Next() {
				for _, p := range ports {
					if err := add(a.String(), strconv.Itoa(p)); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		if host, port, err := net.SplitHostPort(t); err == nil {
			if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
				return nil, badInput("scan target %q: bad port", t)
			}
			if err := add(host, port); err != nil {
				return nil, err
			}
			continue
		}
		if strings.ContainsAny(t, "/ ") {
			return nil, badInput("scan target %q: want host:port, a host, or a CIDR range", t)
		}
		for _, p := range ports {
			if err := add(t, strconv.Itoa(p)); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, badInput("scan: no targets")
	}
	return out, nil
}

// planScan expands req's targets into probes and refuses the request when
// an address target (or range) includes an address the egress policy
// refuses, naming it; targets given by name are checked as they are
// dialled, since their address is known only then.
func (m *Manager) planScan(req ScanRequest) ([]probe, error) {
	probes, err := expandTargets(req.Targets, req.Ports)
	if err != nil {
		return nil, err
	}
	for _, p := range probes {
		a, err := netip.ParseAddr(p.host)
		if err != nil {
			continue
		}
		port, _ := strconv.ParseUint(p.port, 10, 16)
		if err := m.egress.Check(p.host, netip.AddrPortFrom(a, uint16(port))); err != nil {
			return nil, badInput("scan targets: %v", err)
		}
	}
	return probes, nil
}

// Scan connects to every endpoint of req, records each certificate found
// in the inventory (new ones as discovered) with the endpoint where it
// was seen, and returns what each endpoint presented. Connections dial
// through the egress policy.
func (m *Manager) Scan(ctx context.Context, req ScanRequest) (ScanResponse, error) {
	probes, err := m.planScan(req)
	if err != nil {
		return ScanResponse{}, err
	}
	timeout := time.Duration(req.Timeout)
	if timeout <= 0 || timeout > time.Minute {
		timeout = DefaultScanTimeout
	}
	type found struct {
		endpoint string
		chain    []*x509.Certificate
		err      error
	}
	results := make([]found, len(probes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, ScanConcurrency)
	for i, p := range probes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ep := net.JoinHostPort(p.host, p.port)
			chain, err := m.fetchChain(ctx, p.host, ep, timeout)
			results[i] = found{endpoint: ep, chain: chain, err: err}
		}()
	}
	wg.Wait()
	res := ScanResponse{Probed: len(probes), Results: []ScanResult{}}
	for _, f := range results {
		if f.err != nil {
			var op *net.OpError
			if errors.As(f.err, &op) && op.Op == "dial" {
				continue // nothing listens there
			}
			res.Results = append(res.Results, ScanResult{Endpoint: f.endpoint, Error: f.err.Error()})
			continue
		}
		r, err := m.recordDiscovery(ctx, f.endpoint, f.chain, req)
		if err != nil {
			return res, err
		}
		res.Found++
		res.Results = append(res.Results, r)
	}
	return res, nil
}

func (m *Manager) fetchChain(ctx context.Context, host, endpoint string, timeout time.Duration) ([]*x509.Certificate, error) {
	cfg := &tls.Config{InsecureSkipVerify: true} // discovery reads what is served, trusted or not
	if net.ParseIP(host) == nil {
		cfg.ServerName = host
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := m.egress.DialContext(ctx, "tcp", endpoint, timeout)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, cfg)
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("tls handshake with %s: %w", endpoint, err)
	}
	chain := conn.ConnectionState().PeerCertificates
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s presented no certificate", endpoint)
	}
	return chain, nil
}

func (m *Manager) recordDiscovery(ctx context.Context, endpoint string, chain []*x509.Certificate, req ScanRequest) (ScanResult, error) {
	leaf := chain[0]
	r := ScanResult{Endpoint: endpoint, Serial: SerialHex(leaf), CommonName: leaf.Subject.CommonName, NotAfter: leaf.NotAfter.UTC()}
	now := m.now().UnixMilli()
	err := m.store.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM certs_certificates WHERE fingerprint = ?`, Fingerprint(leaf.Raw)).Scan(&r.CertID)
		if err != nil {
			r.CertID, err = m.insertCert(ctx, tx, &record{cert: leaf, chain: chain[1:], source: SourceDiscovered,
				owner: req.Owner, team: req.Team}, actor(ctx))
			if err != nil {
				return err
			}
			r.New = true
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO certs_endpoints (cert_id, endpoint, first_seen, last_seen) VALUES (?, ?, ?, ?)
			ON CONFLICT (cert_id, endpoint) DO UPDATE SET last_seen = excluded.last_seen`, r.CertID, endpoint, now, now)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("record %s from %s: %w", r.Serial, endpoint, err)
	}
	return r, nil
}
