package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

func init() {
	registerCommand(newServeCommand)
	registerCommand(newWorkerCommand)
}

type logFlags struct {
	level, format string
}

func (l *logFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&l.format, "log-format", "text", "log format: text or json")
}

func (l *logFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("log-level: %q is not one of debug, info, warn, error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log-format: %q is not one of text, json", l.format)
}

// addServerFlags adds the flags serve and worker share, including every
// system's own settings.
func addServerFlags(cmd *cobra.Command, cfg *server.Config) {
	f := cmd.Flags()
	settings, err := platform.AddModuleFlags(f)
	if err != nil {
		panic(err) // modules that require each other: a build error
	}
	cfg.Settings = settings
	f.StringVar(&cfg.DataDir, "data-dir", "gaffer-data", "directory for the SQLite database, event stream, metrics and secrets")
	f.StringVar(&cfg.DB, "db", "", "database: empty for SQLite in the data directory, or a postgres:// address")
	f.StringVar(&cfg.NATSURL, "nats-url", "", "external NATS server or cluster (empty: embedded nats-server with JetStream)")
	f.StringVar(&cfg.NATSCreds, "nats-creds", "", "credentials file for the external NATS")
	f.StringVar(&cfg.CAFile, "ca-file", "", "CA certificate (PEM) that NATS reached by URL must present a certificate from "+
		"(worker: default <data-dir>/ca.pem when the embedded NATS uses TLS)")
	f.IntVar(&cfg.JobWorkers, "job-workers", 500, "jobs of the default queue this process runs at once (serve: 0 runs none, leaving them to gaffer worker)")
	f.DurationVar(&cfg.JobPollInterval, "job-poll-interval", 100*time.Millisecond, "how often jobs queued by other processes are picked up")
	f.DurationVar(&cfg.JobRescueAfter, "job-rescue-after", 2*time.Minute, "how long a job may run before it is taken for abandoned by a dead process and run again")
	egress.AddFlag(f, &cfg.EgressAllow)
	f.StringVar(&cfg.KEKCommand, "kek-command", "", "shell command printing a key-encryption key (for a KMS or vault), run with the key's name (certs, sshca) in $GAFFER_KEK_NAME; used when no key or key file is given")
	f.DurationVar(&cfg.AuditRetention, "audit-retention", server.DefaultAuditRetention, "how long audit entries stay in the database; older ones are exported to --audit-export-dir, then deleted")
	f.StringVar(&cfg.AuditExportDir, "audit-export-dir", "", "directory for audit entries past --audit-retention, as JSON lines (default <data-dir>/audit-export)")
	f.Int("gc-percent", 50, "Go garbage collector target (GOGC): heap growth over live data before a collection; the GOGC variable wins unless this flag is given")
}

// setGCPercent applies --gc-percent. Gaffer's heap is mostly long-lived
// data (the metrics head, the memory tier), so Go's default of 100 would
// leave up to as much again in garbage: at 50 the resident memory per
// active series falls by about a quarter at no measured ingest cost
// (docs/benchmarks.md, "Metrics ingest and query").
func setGCPercent(cmd *cobra.Command) error {
	f := cmd.Flags()
	pct, err := f.GetInt("gc-percent")
	if err != nil {
		return err
	}
	if _, set := os.LookupEnv("GOGC"); set && !f.Changed("gc-percent") {
		return nil
	}
	if pct <= 0 {
		return fmt.Errorf("gc-percent: must be positive, got %d", pct)
	}
	debug.SetGCPercent(pct)
	return nil
}

func newServeCommand() *cobra.Command {
	var cfg server.Config
	var roles string
	var logs logFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run Gaffer: every selected system in one process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if err := setGCPercent(cmd); err != nil {
				return err
			}
			restrictUmask()
			cfg.Roles = strings.Split(roles, ",")
			cfg.NATSListenAnyPort = !cmd.Flags().Changed("nats-listen")
			if cfg.JobWorkers == 0 {
				cfg.NoJobs = true
			}
			cfg.Version = version()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			srv, err := server.New(ctx, cfg, log, false)
			if err != nil {
				return err
			}
			return srv.Run(ctx)
		},
	}
	addServerFlags(cmd, &cfg)
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:7070", "HTTP address")
	f.StringVar(&cfg.NATSListen, "nats-listen", "127.0.0.1:7422", "where the embedded NATS accepts workers and agents (empty: in-process only; when not given and the port is in use, a free port, recorded in the data directory)")
	f.BoolVar(&cfg.TLS, "tls", false, "serve HTTPS and TLS NATS with a certificate from Gaffer's CA in the data directory (created on first start; clients pin <data-dir>/ca.pem)")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "serve TLS with this certificate chain (PEM) instead of one from Gaffer's CA (implies --tls; needs --tls-key)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "private key (PEM) of --tls-cert")
	f.StringSliceVar(&cfg.TLSNames, "tls-names", nil, "extra host names and IP addresses for the certificate Gaffer's CA issues, besides the listen hosts, localhost, 127.0.0.1 and ::1 (repeatable)")
	f.StringVar(&roles, "roles", "all", "systems to run: all, or a comma-separated list")
	f.BoolVar(&cfg.Demo, "demo", false, "load demo data so every page shows something")
	f.StringVar(&cfg.AdminTokenFile, "admin-token-file", "", "file with the admin token; created with a random token if missing (default <data-dir>/admin.token)")
	f.DurationVar(&cfg.EventMaxAge, "event-retention", 7*24*time.Hour, "how long events are kept")
	f.Int64Var(&cfg.EventMaxBytes, "event-max-bytes", 0, "largest size of the event stream in bytes (0: no limit)")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests and jobs may take to finish on shutdown")
	f.DurationVar(&cfg.HTTPReadHeaderTimeout, "http-read-header-timeout", server.DefaultHTTPReadHeaderTimeout, "how long a client may take to send a request's header")
	f.DurationVar(&cfg.HTTPReadTimeout, "http-read-timeout", server.DefaultHTTPReadTimeout, "how long a client may take to send a whole request, header and body")
	f.DurationVar(&cfg.HTTPWriteTimeout, "http-write-timeout", server.DefaultHTTPWriteTimeout, "how long a request may take from the end of its header to the end of its response (streaming routes are exempt)")
	f.DurationVar(&cfg.HTTPIdleTimeout, "http-idle-timeout", server.DefaultHTTPIdleTimeout, "how long a kept-alive connection may wait for its next request")
	logs.add(cmd)
	return cmd
}

func newWorkerCommand() *cobra.Command {
	var cfg server.Config
	var logs logFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run an extra job worker that shares the database (and NATS) of a gaffer serve",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if err := setGCPercent(cmd); err != nil {
				return err
			}
			restrictUmask()
			cfg.Version = version()
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			w, err := server.New(ctx, cfg, log, true)
			if err != nil {
				return err
			}
			if err := w.StartWorker(ctx); err != nil {
				w.Shutdown()
				return err
			}
			<-ctx.Done()
			log.Info("worker shutting down")
			return w.Shutdown()
		},
	}
	addServerFlags(cmd, &cfg)
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long running jobs may take to finish on shutdown")
	logs.add(cmd)
	return cmd
}
