package events

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/events/eventsapi"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Name is the system's role name.
const Name = eventsapi.Name

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrations, "migrations"), Flags: flags, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newEventsCommand()} }})
}

// Settings are the system's flags of `gaffer serve` and `gaffer worker`.
type Settings struct {
	// Workers is how many events this process works on at once. Each
	// waits for its actions, so this bounds concurrent webhook first
	// attempts too.
	Workers int
	// AckWait is how long the stream waits for an acknowledgement before
	// redelivering an event, for example after a crash. A worker still
	// busy with an event extends it.
	AckWait time.Duration
	// InlineAttempt bounds the first webhook attempt made while the event
	// is processed; retries run as jobs.
	InlineAttempt time.Duration
	// CEL bounds each evaluation of a condition, transform, list filter
	// or replay; it applies to the whole process.
	CEL celbudget.Budget
}

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{Workers: 64, AckWait: 20 * time.Second, InlineAttempt: 2 * time.Second, CEL: celbudget.Default()}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.IntVar(&s.Workers, "events-workers", s.Workers, "events this process works on at once")
	fs.DurationVar(&s.AckWait, "events-ack-wait", s.AckWait,
		"how long the event stream waits for a process to finish an event before redelivering it")
	fs.DurationVar(&s.InlineAttempt, "events-inline-attempt", s.InlineAttempt,
		"longest first webhook attempt made while an event is processed; retries run as jobs")
	celbudget.AddFlags(fs, "events", &s.CEL)
	return s
}

// ruleReloadEvery is how often rule changes made by other processes are
// looked for; changes made through this process apply at once.
const ruleReloadEvery = 2 * time.Second

// Service is the event platform of one process.
type Service struct {
	settings Settings
	log      *slog.Logger
	now      func() time.Time // the platform's clock (deps.Clock)
	db       *store.Store
	bus      *bus.Bus
	jobs     *jobs.Queue
	worker   bool
	// demoStart is when the demo was first loaded (deps.DemoStart).
	demoStart func() (time.Time, error)
	// stopping is closed when the process starts shutting down.
	stopping <-chan struct{}
	install  installation

	rules      *ruleStore
	set        *ruleSet
	index      *indexer
	suppress   *suppressor
	deadletter *deadLetters
	client     *http.Client
	breaker    *breaker
	consumer   *consumer

	pages *pages
	// celExceeded counts evaluations stopped by the CEL budget
	// (gaffer.events.celBudgetExceeded); nil without a registry.
	celExceeded *spectator.Counter

	stop    chan struct{}
	wg      sync.WaitGroup
	started bool
}

// New constructs the service: it registers the job kinds (webhook retries,
// maintenance) and loads the rules. Background work starts in Start.
func New(ctx context.Context, deps *platform.Deps) (platform.Service, error) {
	set := *platform.SettingOr(deps, Name, DefaultSettings)
	if set.Workers < 1 {
		return nil, fmt.Errorf("--events-workers: must be positive, got %d", set.Workers)
	}
	if set.AckWait <= 0 || set.InlineAttempt <= 0 {
		return nil, errors.New("--events-ack-wait and --events-inline-attempt must be positive")
	}
	if err := celBudget.Set(set.CEL, "events"); err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("system", Name)
	s := &Service{settings: set, log: log, db: deps.Store, bus: deps.Bus, jobs: deps.Jobs, worker: deps.Worker,
		demoStart: deps.DemoStart, stopping: deps.Stopping, stop: make(chan struct{}), now: deps.Clock()}
	var err error
	if s.install, err = loadInstallation(ctx, s.db); err != nil {
		return nil, err
	}
	s.rules = &ruleStore{db: s.db}
	if deps.Metrics != nil {
		s.celExceeded = deps.Metrics.Counter("gaffer.events.celBudgetExceeded", nil)
	}
	s.set = newRuleSet(s.rules, log, s.celExceeded)
	s.index = newIndexer(s.db, log)
	s.suppress = &suppressor{db: s.db}
	s.deadletter = &deadLetters{db: s.db}
	s.client = newWebhookClient(deps.Egress)
	s.breaker = newBreaker(30 * time.Second)
	s.registerJobs()
	if err := s.set.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Start begins consuming the event stream and watching for rule changes.
func (s *Service) Start(ctx context.Context) error {
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.index.run(s.stop) }()
	go func() { defer s.wg.Done(); s.watchRules() }()
	c, err := s.startConsumer(ctx)
	if err != nil {
		close(s.stop)
		s.wg.Wait()
		return err
	}
	s.consumer = c
	s.started = true
	return nil
}

// Stop finishes the events in hand (until ctx ends; the rest are
// redelivered) and stops the background work.
func (s *Service) Stop(ctx context.Context) error {
	if !s.started {
		return nil
	}
	s.started = false
	var err error
	if s.consumer != nil {
		err = s.consumer.stop(ctx)
	}
	close(s.stop)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("events: stop: %w", ctx.Err()))
	}
	return err
}

// Health reports whether the consumer is running.
func (s *Service) Health(ctx context.Context) error {
	if s.consumer != nil {
		return s.consumer.health()
	}
	return nil
}

// Pages implements platform.PageProvider.
func (s *Service) Pages(shell *ui.Shell) { s.pages = newPages(s, shell) }

// checkKind is the KindChecker for rules saved through this process.
// Only kinds registered as taking jobs from rules are accepted: a rule's
// author has events:write, not every system's scopes.
func (s *Service) checkKind(kind string) error {
	if s.jobs.FromRules(kind) {
		return nil
	}
	known := strings.Join(s.jobs.RuleKinds(), ", ")
	if s.jobs.HasKind(kind) {
		return fmt.Errorf("job kind %q does not take jobs from rules (those that do: %s)", kind, known)
	}
	return fmt.Errorf("no job kind %q is registered in this server (kinds rules may use: %s)", kind, known)
}

// rulesChanged applies a change made through this process at once, and
// tells the other processes.
func (s *Service) rulesChanged(ctx context.Context) {
	if err := s.set.reload(ctx); err != nil {
		s.log.Error("reload rules", "error", err)
	}
	if s.bus != nil && s.bus.Conn != nil {
		s.bus.Conn.Publish(rulesChangedSubject(s.install.ID), nil)
	}
}

// rulesChangedSubject is a core NATS subject, outside the event stream,
// on which processes sharing an installation announce rule changes.
func rulesChangedSubject(install string) string { return "_gaffer.events." + install + ".rules" }

// watchRules reloads rules when another process announces a change, and
// polls in case an announcement was missed.
func (s *Service) watchRules() {
	notify := make(chan struct{}, 1)
	if s.bus != nil && s.bus.Conn != nil {
		sub, err := s.bus.Conn.Subscribe(rulesChangedSubject(s.install.ID), func(*natsMsg) { signal(notify) })
		if err == nil {
			defer sub.Unsubscribe()
		}
	}
	tick := time.NewTicker(ruleReloadEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-notify:
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.set.reloadIfChanged(ctx); err != nil {
			s.log.Warn("check for rule changes", "error", err)
		}
		cancel()
	}
}
