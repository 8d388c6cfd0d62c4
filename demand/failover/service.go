package failover

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/demand/failover/failoverapi"
	"github.com/gaffer-sre/gaffer/demand/failover/webhook"
	"github.com/gaffer-sre/gaffer/events/eventsapi"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Name is the system's role name.
const Name = failoverapi.Name

// Scopes of the failover routes.
const (
	ReadScope  = failoverapi.ReadScope
	WriteScope = failoverapi.WriteScope
)

func init() {
	platform.Register(platform.Module{Name: Name, Requires: []string{metricsapi.Name, eventsapi.Name},
		Migrations: store.MustSub(migrations, "migrations"), Flags: flags, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newFailoverCommand()} }})
}

// Settings are the system's flags of `gaffer serve` and `gaffer worker`.
type Settings struct {
	// Lease is how long an execution's step stays claimed without
	// renewal: the longest a crashed process's execution waits.
	Lease time.Duration
	// DetectInterval is the period of the detection job.
	DetectInterval time.Duration
	// DarkPoolInterval is the period of the dark pool job.
	DarkPoolInterval time.Duration
	// SecretEnvPrefix is the prefix of the environment variables a
	// webhook provider's secret_env may name.
	SecretEnvPrefix string
}

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{Lease: 15 * time.Second, DetectInterval: time.Minute, DarkPoolInterval: 10 * time.Minute,
		SecretEnvPrefix: DefaultSecretEnvPrefix}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.DurationVar(&s.Lease, "failover-lease", s.Lease,
		"how long a step stays claimed by a process that stopped renewing it before another process takes the execution over")
	fs.DurationVar(&s.DetectInterval, "failover-detect-interval", s.DetectInterval, "how often regional health is checked for a failover recommendation")
	fs.DurationVar(&s.DarkPoolInterval, "failover-darkpool-interval", s.DarkPoolInterval, "how often dark pools are sized from the forecast (fleets with manage_dark)")
	fs.StringVar(&s.SecretEnvPrefix, "failover-secret-env-prefix", s.SecretEnvPrefix,
		"prefix of the server environment variables a fleet's webhook secret_env may name")
	return s
}

// recoverInterval is how often executions left without a running step
// are picked up again.
const recoverInterval = 2 * time.Second

// Service is the failover system of one process.
type Service struct {
	settings Settings
	clock    func() time.Time // the platform's clock (deps.Clock)
	log      *slog.Logger
	db       *store.Store
	bus      *bus.Bus
	jobs     *jobs.Queue
	deps     *platform.Deps

	engine *engine
	worlds *worldStore
	// webhookClient makes webhook providers' calls, through the egress
	// policy.
	webhookClient *http.Client
	pages         *pages
	// synthetic caches exercises' demand by exercise ID.
	synthetic sync.Map

	stop    chan struct{}
	wg      sync.WaitGroup
	started bool
}

// New constructs the service and registers its job kinds.
func New(ctx context.Context, deps *platform.Deps) (platform.Service, error) {
	set := *platform.SettingOr(deps, Name, DefaultSettings)
	if set.Lease <= 0 || set.DetectInterval <= 0 || set.DarkPoolInterval <= 0 {
		return nil, errors.New("--failover-lease, --failover-detect-interval and --failover-darkpool-interval must be positive")
	}
	if set.SecretEnvPrefix == "" {
		return nil, errors.New("--failover-secret-env-prefix: must not be empty")
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{settings: set, clock: deps.Clock(), log: log.With("system", Name), db: deps.Store, bus: deps.Bus, jobs: deps.Jobs, deps: deps,
		stop: make(chan struct{})}
	s.worlds = &worldStore{db: s.db, now: s.now}
	s.webhookClient = webhook.NewClient(deps.Egress)
	s.engine = newEngine(s)
	if err := s.registerJobs(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) registerJobs() error {
	jobs.HandleFunc(s.jobs, stepKind, jobs.KindOptions{Timeout: 15 * time.Minute, MaxAttempts: 25}, s.engine.handle)
	jobs.HandleFunc(s.jobs, detectKind, jobs.KindOptions{Timeout: 2 * time.Minute, MaxAttempts: 1}, s.detectJob)
	jobs.HandleFunc(s.jobs, darkPoolKind, jobs.KindOptions{Timeout: 5 * time.Minute, MaxAttempts: 3}, s.darkPoolJob)
	if err := s.jobs.Every(detectKind, s.settings.DetectInterval, struct{}{}, false); err != nil {
		return err
	}
	return s.jobs.Every(darkPoolKind, s.settings.DarkPoolInterval, struct{}{}, false)
}

// Start starts the loop that picks up executions left without a step
// running (after a crash, or a lost hand-off).
func (s *Service) Start(ctx context.Context) error {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.engine.recoverLoop(s.stop) }()
	s.started = true
	return nil
}

// Stop ends the background work; executions keep their state and are
// taken over after their lease.
func (s *Service) Stop(ctx context.Context) error {
	if !s.started {
		return nil
	}
	s.started = false
	close(s.stop)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("failover: stop: " + ctx.Err().Error())
	}
}

// Health has nothing of its own to check: the server checks the database.
func (s *Service) Health(context.Context) error { return nil }

// Pages implements platform.PageProvider.
func (s *Service) Pages(shell *ui.Shell) { s.pages = newPages(s, shell) }

func (s *Service) now() time.Time { return s.clock() }
