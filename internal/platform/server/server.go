// Package server assembles a Gaffer process: it opens the shared
// dependencies (store, bus, jobs, audit log, tokens), constructs the
// selected systems' services, serves HTTP, and shuts everything down in
// order on SIGTERM.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/console"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/selfmetrics"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/tlsca"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
)

// Server is a running Gaffer process.
type Server struct {
	cfg    Config
	log    *slog.Logger
	deps   *platform.Deps
	router *httpapi.Router
	shell  *ui.Shell

	services []namedService
	metrics  *selfmetrics.Recorder
	// measureDone is closed when the self-measurement loop has returned.
	measureDone chan struct{}
	listener    net.Listener
	http        *http.Server
	// tls is the listeners' certificate with --tls, else nil.
	tls     *tlsca.Server
	ready   atomic.Bool
	started time.Time
	closers []func()
	// stopping is closed when Shutdown begins (Deps.Stopping).
	stopping chan struct{}
	stopOnce sync.Once
}

type namedService struct {
	name string
	svc  platform.Service
}

// New opens the dependencies and constructs the selected systems. worker
// builds a job-only process (`gaffer worker`): no HTTP, no services started.
func New(ctx context.Context, cfg Config, log *slog.Logger, worker bool) (_ *Server, err error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, started: time.Now()}
	egressPolicy, err := egress.Parse(cfg.EgressAllow)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}
	warnDataDirOpen(log, cfg.DataDir)
	if !worker {
		if err := s.loadTLS(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { st.Close() })
	tokens, err := auth.NewTokens(ctx, st, cfg.Now)
	if err != nil {
		return nil, err
	}
	if err := s.installAdminToken(tokens, worker); err != nil {
		return nil, err
	}
	auditLog, err := audit.Open(ctx, st, audit.Options{Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { auditLog.Close(context.Background()) })
	b, err := s.openBus(ctx, worker)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, b.Close)
	if err := denyBusListener(egressPolicy, b); err != nil {
		return nil, err
	}
	s.metrics = selfmetrics.New(map[string]string{"nf.app": "gaffer"})
	q, err := jobs.New(ctx, st, jobs.Options{Workers: cfg.JobWorkers, PollInterval: cfg.JobPollInterval,
		RescueAfter: cfg.JobRescueAfter, Log: log, Observe: s.observeJob})
	if err != nil {
		return nil, err
	}
	registerPlatformJobs(q, tokens, auditLog, cfg)
	s.stopping = make(chan struct{})
	s.deps = &platform.Deps{Log: log, Store: st, Bus: b, Jobs: q, Audit: auditLog, Tokens: tokens, Metrics: s.metrics.Registry,
		DataDir: cfg.DataDir, Demo: cfg.Demo, Worker: worker, Settings: cfg.Settings, Stopping: s.stopping, Now: cfg.Now, Egress: egressPolicy,
		KEKCommand: cfg.KEKCommand}
	if s.deps.Now == nil {
		s.deps.Now = time.Now
	}
	s.router = httpapi.NewRouter(httpapi.Options{Auth: httpapi.TokenAuthenticator{Tokens: tokens}, Audit: auditLog, Log: log,
		Observe: s.observeRequest})
	if s.shell, err = ui.New(s.router, tokens, log); err != nil {
		return nil, err
	}
	if err := s.buildServices(ctx); err != nil {
		return nil, err
	}
	warnKEKBesideDatabase(log, cfg)
	s.platformRoutes()
	s.caRoute()
	s.metricsRoute()
	s.pprofRoutes()
	console.New(tokens, auditLog, q, s.Checks, s.overviewSources()).Register(s.router, s.shell)
	return s, nil
}

func (s *Server) installAdminToken(tokens *auth.Tokens, worker bool) error {
	if worker {
		return nil
	}
	tok, created, err := loadAdminToken(s.cfg.AdminTokenFile)
	if err != nil {
		return err
	}
	tokens.SetAdminToken(tok)
	if created {
		s.log.Info("generated the admin token; log in to the UI or use the CLI with it", "file", s.cfg.AdminTokenFile)
	} else {
		s.log.Info("using the admin token", "file", s.cfg.AdminTokenFile)
	}
	return nil
}

func (s *Server) openBus(ctx context.Context, worker bool) (*bus.Bus, error) {
	o := bus.Options{URL: s.cfg.NATSURL, CredsFile: s.cfg.NATSCreds, DataDir: s.cfg.DataDir,
		Listen: s.cfg.NATSListen, ListenAnyPort: s.cfg.NATSListenAnyPort, MaxAge: s.cfg.EventMaxAge, MaxBytes: s.cfg.EventMaxBytes, Log: s.log,
		TLS: s.serverTLS()}
	if worker && o.URL == "" {
		// A worker joins the embedded server of the `gaffer serve` that
		// shares its data directory.
		u, err := bus.LocalURL(s.cfg.DataDir)
		if err != nil {
			return nil, err
		}
		o.URL = u
	}
	if o.URL != "" {
		var err error
		if o.ClientTLS, err = s.workerNATSTLS(o.URL); err != nil {
			return nil, err
		}
	}
	return bus.Open(ctx, o)
}

func (s *Server) buildServices(ctx context.Context) error {
	modules, err := platform.Modules()
	if err != nil {
		return err
	}
	selected := map[string]bool{}
	for _, m := range modules {
		if s.cfg.wantsRole(m) {
			selected[m.Name] = true
			for _, former := range m.FormerNames {
				selected[former] = true
			}
		}
	}
	for _, r := range s.cfg.Roles {
		if r != "all" && !selected[r] {
			return fmt.Errorf("roles: unknown role %q", r)
		}
	}
	for _, m := range modules {
		if !selected[m.Name] {
			continue
		}
		for _, former := range m.FormerNames {
			if err := s.deps.Store.RenameSystem(ctx, former, m.Name); err != nil {
				return err
			}
		}
		if m.Migrations != nil {
			if err := s.deps.Store.Migrate(ctx, m.Name, m.Migrations); err != nil {
				return err
			}
		}
		svc, err := m.New(ctx, s.deps)
		if err != nil {
			return fmt.Errorf("start %s: %w", m.Name, err)
		}
		s.deps.Provide(m.Name, svc)
		s.services = append(s.services, namedService{name: m.Name, svc: svc})
		if rp, ok := svc.(platform.RouteProvider); ok {
			rp.Routes(s.router)
		}
		if pp, ok := svc.(platform.PageProvider); ok {
			pp.Pages(s.shell)
		}
	}
	return nil
}

// overviewSources are the services that contribute to the overview page.
func (s *Server) overviewSources() []console.Source {
	var out []console.Source
	for _, ns := range s.services {
		if p, ok := ns.svc.(platform.OverviewProvider); ok {
			out = append(out, console.Source{System: ns.name, Provider: p})
		}
	}
	return out
}

// Deps returns the shared dependencies (for tests and the worker).
func (s *Server) Deps() *platform.Deps { return s.deps }

// Router returns the HTTP router (for tests that enumerate routes).
func (s *Server) Router() *httpapi.Router { return s.router }

// Addr is the HTTP address once Start has returned.
func (s *Server) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Start starts the job queue, the services, demo data (if asked for) and
// the HTTP server, and returns once the server is ready.
func (s *Server) Start(ctx context.Context) error {
	if err := s.deps.Jobs.Start(ctx, !s.cfg.NoJobs); err != nil {
		return err
	}
	s.measureDone = make(chan struct{})
	go func() {
		defer close(s.measureDone)
		s.measureLoop(s.stopping)
	}()
	for _, ns := range s.services {
		if err := ns.svc.Start(ctx); err != nil {
			return fmt.Errorf("start %s: %w", ns.name, err)
		}
	}
	if s.cfg.Demo {
		for _, ns := range s.services {
			if dl, ok := ns.svc.(platform.DemoLoader); ok {
				if err := dl.LoadDemo(ctx); err != nil {
					return fmt.Errorf("load %s demo data: %w", ns.name, err)
				}
			}
		}
		if err := s.loadDemoToken(ctx); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.listener = ln
	if err := s.deps.Egress.DenyListener(ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}
	if allowed := s.deps.Egress.Allowed(); len(allowed) > 0 {
		s.log.Info("outbound requests may reach these ranges and hosts besides public addresses", "egress_allow", allowed)
	}
	s.http = &http.Server{Handler: s.router, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: s.cfg.HTTPReadHeaderTimeout, ReadTimeout: s.cfg.HTTPReadTimeout,
		WriteTimeout: s.cfg.HTTPWriteTimeout, IdleTimeout: s.cfg.HTTPIdleTimeout, TLSConfig: s.serverTLS()}
	serve := s.http.Serve
	if s.tls != nil {
		serve = func(ln net.Listener) error { return s.http.ServeTLS(ln, "", "") }
	}
	go func() {
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "error", err)
		}
	}()
	s.ready.Store(true)
	s.log.Info("gaffer is ready", "url", s.scheme()+"://"+ln.Addr().String(), "data_dir", s.cfg.DataDir,
		"database", string(s.deps.Store.Dialect), "nats_embedded", s.deps.Bus.Embedded(),
		"startup", time.Since(s.started).Round(time.Millisecond).String())
	return nil
}

// denyBusListener keeps outbound requests off the embedded NATS server's
// listener, which speaks a protocol a crafted request body could drive.
func denyBusListener(p *egress.Policy, b *bus.Bus) error {
	if b.ClientURL == "" {
		return nil
	}
	u, err := url.Parse(b.ClientURL)
	if err != nil {
		return fmt.Errorf("egress: embedded nats address: %w", err)
	}
	return p.DenyListener(u.Host)
}

// StartWorker starts only the job queue (`gaffer worker`).
func (s *Server) StartWorker(ctx context.Context) error {
	if err := s.deps.Jobs.Start(ctx, true); err != nil {
		return err
	}
	s.ready.Store(true)
	s.log.Info("gaffer worker is ready", "kinds", len(s.deps.Jobs.Kinds()), "database", string(s.deps.Store.Dialect))
	return nil
}

// Shutdown stops taking requests, lets in-flight requests and jobs finish
// (until the shutdown timeout, after which running jobs are cancelled and
// re-queued), stops the services in reverse order, and closes the
// dependencies.
func (s *Server) Shutdown() error {
	s.ready.Store(false)
	s.stopOnce.Do(func() { close(s.stopping) })
	if s.measureDone != nil {
		<-s.measureDone // it stores into the metrics system, stopped below
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	s.router.FlushAudit(ctx)
	if err := s.deps.Audit.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	for i := len(s.services) - 1; i >= 0; i-- {
		if err := s.services[i].svc.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.services[i].name, err))
		}
	}
	if err := s.deps.Jobs.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	s.closeAll()
	return errors.Join(errs...)
}

func (s *Server) closeAll() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Run starts the server and blocks until ctx is done, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		s.Shutdown()
		return err
	}
	<-ctx.Done()
	s.log.Info("shutting down")
	return s.Shutdown()
}
