package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
)

// Config is everything `gaffer serve` and `gaffer worker` are told.
type Config struct {
	// Listen is the HTTP address (default 127.0.0.1:7070; port 0 picks one).
	Listen string
	// DataDir holds the SQLite database, JetStream files, the TSDB and
	// generated secrets.
	DataDir string
	// DB is a postgres:// address; empty means SQLite in DataDir.
	DB string
	// NATSURL names an external NATS server or cluster; empty embeds one.
	NATSURL string
	// NATSCreds is a credentials file for the external NATS.
	NATSCreds string
	// NATSListen is where the embedded NATS accepts other processes
	// (workers, agents); empty keeps it in-process.
	NATSListen string
	// NATSListenAnyPort is true when the operator did not choose
	// NATSListen: if its port is in use, the embedded NATS listens on a
	// free port at once (see bus.Options.ListenAnyPort).
	NATSListenAnyPort bool
	// Roles selects the systems to run: "all" or names.
	Roles []string
	// Demo loads demo data.
	Demo bool
	// AdminTokenFile holds the bootstrap admin token (default
	// <data-dir>/admin.token).
	AdminTokenFile string
	// EventMaxAge and EventMaxBytes bound the event stream.
	EventMaxAge   time.Duration
	EventMaxBytes int64
	// JobWorkers is how many jobs this process runs at once (0: the
	// default, 500).
	JobWorkers int
	// NoJobs makes `gaffer serve` enqueue jobs without working them, for
	// API-only nodes whose jobs run on `gaffer worker` processes.
	NoJobs bool
	// JobPollInterval is how often queued jobs from other processes are
	// picked up.
	JobPollInterval time.Duration
	// JobRescueAfter is how long a job may stay running before it is taken
	// for abandoned by a dead process and run again (default 2 minutes).
	JobRescueAfter time.Duration
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// HTTPReadHeaderTimeout bounds reading a request's header (default
	// 10 s) and HTTPReadTimeout reading the whole request, header and
	// body (default 1 minute); once the body is read, net/http lifts the
	// read deadline. HTTPWriteTimeout bounds a request from the end of its
	// header to the end of its response, so that a client reading slowly
	// cannot hold a connection (default 10 minutes, above every query
	// budget). HTTPIdleTimeout is how long a kept-alive connection may
	// wait for its next request (default 2 minutes). Streaming routes
	// (httpapi.Route.Streaming) are exempt from the read and write
	// timeouts.
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	// KEKCommand is --kek-command: a shell command printing a
	// key-encryption key, run with the key's name ("certs", "sshca") in
	// $GAFFER_KEK_NAME, for keys kept in a KMS or vault (see
	// Deps.KEKCommand).
	KEKCommand string
	// AuditRetention is how long audit entries stay in the database
	// (default 90 days); older ones are exported to AuditExportDir
	// (default <data-dir>/audit-export) as JSON lines, then deleted.
	AuditRetention time.Duration
	AuditExportDir string
	// Version is reported by /healthz and the OpenAPI document.
	Version string
	// Now is the clock systems read through Deps.Now; nil means
	// time.Now. Tests set a fixed or anchored clock (see
	// platformtest.Options.Now) so that results do not depend on the hour.
	Now func() time.Time
	// EgressAllow are --egress-allow entries: the CIDR ranges, addresses
	// and host names outbound requests made for users may reach beyond
	// public addresses (see internal/platform/egress).
	EgressAllow []string
	// TLS (--tls) serves HTTPS and TLS on the embedded NATS listener with
	// a certificate from the internal CA in DataDir (created on first
	// start), or the operator's TLSCert and TLSKey (which imply TLS).
	// TLSNames are added to the names the internal CA's certificate
	// carries (see TLSHostNames).
	TLS             bool
	TLSCert, TLSKey string
	TLSNames        []string
	// CAFile (--ca-file) is the CA certificate (PEM) a URL connection to
	// NATS verifies; a worker joining an embedded NATS that uses TLS
	// defaults to <data-dir>/ca.pem.
	CAFile string
	// Settings are the systems' own settings, by module name (see
	// platform.Module.Flags).
	Settings map[string]any
}

// DefaultAuditRetention is how long audit entries are kept in the
// database unless Config.AuditRetention says otherwise.
const DefaultAuditRetention = 90 * 24 * time.Hour

// The HTTP server's timeouts when Config leaves them zero.
const (
	DefaultHTTPReadHeaderTimeout = 10 * time.Second
	DefaultHTTPReadTimeout       = time.Minute
	DefaultHTTPWriteTimeout      = 10 * time.Minute
	DefaultHTTPIdleTimeout       = 2 * time.Minute
)

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7070"
	}
	if c.DataDir == "" {
		c.DataDir = "gaffer-data"
	}
	if c.AdminTokenFile == "" {
		c.AdminTokenFile = filepath.Join(c.DataDir, "admin.token")
	}
	if len(c.Roles) == 0 {
		c.Roles = []string{"all"}
	}
	if c.EventMaxAge == 0 {
		c.EventMaxAge = 7 * 24 * time.Hour
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = DefaultAuditRetention
	}
	if c.AuditExportDir == "" {
		c.AuditExportDir = filepath.Join(c.DataDir, "audit-export")
	}
	if c.HTTPReadHeaderTimeout == 0 {
		c.HTTPReadHeaderTimeout = DefaultHTTPReadHeaderTimeout
	}
	if c.HTTPReadTimeout == 0 {
		c.HTTPReadTimeout = DefaultHTTPReadTimeout
	}
	if c.HTTPWriteTimeout == 0 {
		c.HTTPWriteTimeout = DefaultHTTPWriteTimeout
	}
	if c.HTTPIdleTimeout == 0 {
		c.HTTPIdleTimeout = DefaultHTTPIdleTimeout
	}
	if c.Version == "" {
		c.Version = "dev"
	}
}

// Validate checks the configuration, naming the faulty setting.
func (c *Config) Validate() error {
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") &&
		!strings.HasPrefix(c.DB, "sqlite:") {
		return fmt.Errorf("db: %q is neither a postgres:// address nor sqlite:<path>", c.DB)
	}
	if c.EventMaxAge < 0 {
		return errors.New("event-retention: must not be negative")
	}
	if c.EventMaxBytes < 0 {
		return errors.New("event-max-bytes: must not be negative")
	}
	if c.JobWorkers < 0 {
		return errors.New("job-workers: must not be negative")
	}
	if c.AuditRetention < 0 {
		return fmt.Errorf("audit-retention: must not be negative, got %s", c.AuditRetention)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"http-read-header-timeout", c.HTTPReadHeaderTimeout}, {"http-read-timeout", c.HTTPReadTimeout},
		{"http-write-timeout", c.HTTPWriteTimeout}, {"http-idle-timeout", c.HTTPIdleTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("%s: must not be negative, got %s", d.flag, d.v)
		}
	}
	if len(c.TLSNames) > 0 && (!c.TLS || c.TLSCert != "") {
		return errors.New("tls-names: names go into the certificate Gaffer's CA issues: they need --tls and no --tls-cert")
	}
	if c.HTTPReadTimeout > 0 && c.HTTPReadHeaderTimeout > c.HTTPReadTimeout {
		return fmt.Errorf("http-read-header-timeout: %s is longer than http-read-timeout (%s), which includes the header",
			c.HTTPReadHeaderTimeout, c.HTTPReadTimeout)
	}
	return nil
}

// DatabaseDSN is the database the server opens.
func (c *Config) DatabaseDSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "gaffer.db")
}

// wantsRole reports whether --roles selects module m, by its name or a
// name it had before.
func (c *Config) wantsRole(m platform.Module) bool {
	for _, r := range c.Roles {
		if r == "all" || r == m.Name || slices.Contains(m.FormerNames, r) {
			return true
		}
	}
	return false
}
