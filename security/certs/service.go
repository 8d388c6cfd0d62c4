package certs

import (
	"context"
	"crypto/x509"
	"embed"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/security/certs/certsapi"
)

// Name is the system's role name.
const Name = certsapi.Name

// Scopes of the certificate manager's API. Exports of private keys and
// changes to authorities need the admin scope.
const (
	ScopeRead  = certsapi.ScopeRead
	ScopeWrite = certsapi.ScopeWrite
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

//go:embed templates/*.html
var templatesFS embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrationsFS, "migrations"),
		Flags: flags, New: New, Commands: func() []*cobra.Command { return []*cobra.Command{newCertsCommand()} }})
}

// Settings are the system's flags of `gaffer serve` and `gaffer worker`.
type Settings struct {
	// URL is Gaffer's external base URL, written into certificates as the
	// CRL distribution point, OCSP responder and issuer URL.
	URL string
	// DefaultAuthority issues when a request names none.
	DefaultAuthority string
	// NotifyDays are the default expiry notification thresholds.
	NotifyDays []int
	// CheckInterval is how often expiry notifications and automatic
	// rotation run.
	CheckInterval time.Duration
	// ACMEHTTPPort and ACMETLSPort are the ports the ACME server connects
	// to for http-01 and tls-alpn-01 validation (80 and 443).
	ACMEHTTPPort, ACMETLSPort int
	// ACMEResolveTo, when set, makes the ACME server connect to this
	// address for every identifier instead of resolving it in DNS: for
	// tests and closed networks (e.g. 127.0.0.1).
	ACMEResolveTo string
	// ACMEDNSResolver, when set (host:port), makes the ACME server offer
	// dns-01 (and so wildcards) and look TXT records up there.
	ACMEDNSResolver string
	// ScanTargets are scanned for certificates every ScanInterval (like
	// Lemur's sources): host:port, hosts on ScanPorts, CIDR ranges.
	ScanTargets  []string
	ScanPorts    []int
	ScanInterval time.Duration
	// DestinationCAFile holds PEM certificates trusted, besides the
	// system's roots, for webhook destinations' https servers.
	DestinationCAFile string
}

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{URL: "http://127.0.0.1:7070", NotifyDays: DefaultNotifyDays, CheckInterval: time.Hour,
		ACMEHTTPPort: 80, ACMETLSPort: 443, ScanPorts: []int{443}, ScanInterval: 24 * time.Hour}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.StringVar(&s.URL, "certs-url", s.URL, "Gaffer's external URL, written into certificates for CRL, OCSP and issuer downloads")
	fs.StringVar(&s.DefaultAuthority, "certs-default-authority", s.DefaultAuthority, "authority that issues when a request names none (default: the only intermediate; with several, a request must name one)")
	fs.IntSliceVar(&s.NotifyDays, "certs-notify-days", s.NotifyDays, "days before expiry to notify owners")
	fs.DurationVar(&s.CheckInterval, "certs-check-interval", s.CheckInterval, "how often expiry notifications and automatic rotation run")
	fs.IntVar(&s.ACMEHTTPPort, "certs-acme-http-port", s.ACMEHTTPPort, "port the ACME server validates http-01 challenges on")
	fs.IntVar(&s.ACMETLSPort, "certs-acme-tls-port", s.ACMETLSPort, "port the ACME server validates tls-alpn-01 challenges on")
	fs.StringVar(&s.ACMEResolveTo, "certs-acme-resolve-to", s.ACMEResolveTo, "connect to this address for every ACME identifier instead of resolving it (tests and closed networks)")
	fs.StringSliceVar(&s.ScanTargets, "certs-scan-targets", s.ScanTargets, "TLS endpoints to discover certificates on periodically: host:port, hosts, CIDR ranges")
	fs.IntSliceVar(&s.ScanPorts, "certs-scan-ports", s.ScanPorts, "ports for scan targets without one")
	fs.DurationVar(&s.ScanInterval, "certs-scan-interval", s.ScanInterval, "how often the scan targets are scanned")
	fs.StringVar(&s.DestinationCAFile, "certs-destination-ca-file", s.DestinationCAFile, "PEM file of CA certificates trusted, besides the system's, for https webhook destinations")
	fs.StringVar(&s.ACMEDNSResolver, "certs-acme-dns-resolver", s.ACMEDNSResolver, "DNS server (host:port) for dns-01 validation; when set the ACME server offers dns-01 and wildcards")
	return s
}

// Service is the certificate manager running in a Gaffer process.
type Service struct {
	deps     *platform.Deps
	settings *Settings
	mgr      *Manager
	acme     *acmeServer
	pages    map[string]*ui.Page
}

// New builds the service; the key-encryption keys come from the
// environment ($GAFFER_CERTS_KEK and the like, see LoadKeyring),
// deps.KEKCommand or the data directory.
func New(ctx context.Context, deps *platform.Deps) (platform.Service, error) {
	settings := platform.SettingOr(deps, Name, DefaultSettings)
	keys, generated, err := LoadKeyring(os.Getenv, deps.KEKCommand, deps.DataDir)
	if err != nil {
		return nil, err
	}
	if generated {
		// A warning, except in a demo, whose keys guard demo data.
		logKEK := deps.Log.Warn
		if deps.Demo {
			logKEK = deps.Log.Info
		}
		logKEK("certs: generated a key-encryption key for private keys in the data directory; "+
			"in production keep it elsewhere and pass it with $"+KEKEnv+" or $"+KEKFileEnv, "file", keys.Source())
	}
	roots, err := destinationRoots(settings.DestinationCAFile)
	if err != nil {
		return nil, err
	}
	s := &Service{deps: deps, settings: settings}
	s.mgr = NewManager(ManagerOptions{Store: deps.Store, Keys: keys, URLs: URLs{Base: strings.TrimRight(settings.URL, "/")},
		Log: deps.Log, Audit: deps.Audit, DefaultAuthority: settings.DefaultAuthority, Egress: deps.Egress,
		DestinationRoots: roots, Now: deps.Now})
	s.mgr.notifyDays = settings.NotifyDays
	s.mgr.bus = deps.Bus
	s.acme = newACMEServer(s.mgr, settings)
	s.acme.validator.egress = deps.Egress
	if err := s.registerJobs(); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	return s, nil
}

// destinationRoots returns the system's roots plus the certificates of
// the PEM file at path, or nil (the system's roots) when path is empty.
func destinationRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certs-destination-ca-file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("certs-destination-ca-file: %s holds no PEM certificate", path)
	}
	return roots, nil
}

// Manager returns the Go API.
func (s *Service) Manager() *Manager { return s.mgr }

// Start re-seals, under the current key-encryption key, every key still
// sealed with an older one (after the operator put a new key first);
// periodic work runs as jobs.
func (s *Service) Start(ctx context.Context) error {
	n, err := s.mgr.Rewrap(ctx)
	if err != nil {
		return fmt.Errorf("certs: rewrap keys under the current key-encryption key: %w", err)
	}
	if n > 0 {
		s.deps.Log.Info("certs: re-sealed private keys under the current key-encryption key; the old key can be removed",
			"keys", n, "kek_id", s.mgr.keys.CurrentID())
	}
	return nil
}

// Stop has no background work to end.
func (s *Service) Stop(ctx context.Context) error { return nil }

// Health has nothing of its own to check: the server checks the database,
// and keys that do not open fail the start.
func (s *Service) Health(context.Context) error { return nil }
