package alerting

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/alerting/alertingapi"
	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// Name is the system's role name.
const Name = alertingapi.Name

// Scopes: reading rules, alerts and silences; changing them.
const (
	ReadScope  = alertingapi.ReadScope
	WriteScope = alertingapi.WriteScope
)

// Event types of notifications.
const (
	FiringEvent   = "gaffer.alerting.firing"
	ResolvedEvent = "gaffer.alerting.resolved"
)

//go:embed migrations/*.sql
var migrations embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Requires: []string{metricsapi.Name, correlateapi.Name}, Flags: flags,
		Migrations: store.MustSub(migrations, "migrations"), New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newAlertsCommand()} }})
}

// Settings are the system's flags.
type Settings struct {
	// Workers evaluate rules concurrently.
	Workers int
	// ExternalURL is where people reach this server, for the links in
	// notifications (generatorURL, the report).
	ExternalURL string
	// Reload is how often rules changed by other processes are picked up.
	Reload time.Duration
}

// DefaultSettings are the flags' defaults.
func DefaultSettings() *Settings {
	return &Settings{Workers: runtime.GOMAXPROCS(0), ExternalURL: "http://127.0.0.1:7070", Reload: 15 * time.Second}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.IntVar(&s.Workers, "alerting-workers", s.Workers, "alert rules evaluated at once")
	fs.StringVar(&s.ExternalURL, "alerting-external-url", s.ExternalURL, "URL people reach this server at, for links in notifications")
	fs.DurationVar(&s.Reload, "alerting-reload", s.Reload, "how often rules changed by other processes are picked up")
	return s
}

// Service is the running alerting system.
type Service struct {
	log  *slog.Logger
	st   *store.Store
	bus  *bus.Bus
	deps *platform.Deps
	set  *Settings
	base *url.URL

	// data finds the metrics; tests replace it.
	data func() (Data, error)
	// now is the clock; tests replace it.
	now func() time.Time

	sched *scheduler
	disp  *dispatcher
	saver *saver
	pages *pages

	mu    sync.Mutex
	mutes *mutes
	stop  chan struct{}
	wg    sync.WaitGroup
}

// New constructs the service.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	set := platform.SettingOr(deps, Name, DefaultSettings)
	if set.Workers < 1 || set.Reload <= 0 {
		return nil, errors.New("--alerting-workers and --alerting-reload must be positive")
	}
	base, err := url.Parse(set.ExternalURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("--alerting-external-url: %q is not an absolute URL", set.ExternalURL)
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{log: log.With("system", Name), st: deps.Store, bus: deps.Bus, deps: deps, set: set, base: base,
		now: deps.Clock(), mutes: &mutes{}}
	s.data = s.lookupData
	s.saver = newSaver(s)
	s.disp = newDispatcher(s)
	s.sched = newScheduler(s)
	return s, nil
}

// lookupData finds the metrics system of this process.
func (s *Service) lookupData() (Data, error) {
	if _, ok := s.deps.Lookup(metricsapi.Name); !ok {
		return Data{}, errNoMetrics
	}
	m, err := metricsapi.From(s.deps)
	if err != nil {
		return Data{}, err
	}
	// With --metrics-query-url, Atlas rules read what PromQL reads.
	if rr, ok := m.(metricsapi.RemoteReader); ok && rr.ReadsRemote() && rr.Queryable() != nil {
		return Data{Prom: m, Atlas: stack.QueryableSource{Q: rr.Queryable()}}, nil
	}
	db := m.DB()
	if db == nil {
		return Data{}, errNoMetrics
	}
	return Data{Prom: m, Atlas: stack.TSDBSource{DB: db}}, nil
}

// UseData makes the service read d (tests, tools).
func (s *Service) UseData(d Data) { s.data = func() (Data, error) { return d, nil } }

// analysis returns the analysis system, when it runs in this process.
func (s *Service) analysis() (correlateapi.Analyzer, bool) {
	a, err := correlateapi.From(s.deps)
	return a, err == nil
}

// Start loads the rules, their alerts, silences and inhibitions, and
// starts evaluating.
func (s *Service) Start(ctx context.Context) error {
	s.reloadMutes(ctx)
	rules, err := s.loadRules(ctx)
	if err != nil {
		return err
	}
	alerts, err := s.loadAlerts(ctx)
	if err != nil {
		return err
	}
	errs, err := s.ruleErrors(ctx)
	if err != nil {
		return err
	}
	s.stop = make(chan struct{})
	for _, r := range rules {
		s.sched.put(r, alerts[r.ID], errs[r.ID])
	}
	s.run(s.sched.loop)
	for range s.set.Workers {
		s.run(s.sched.work)
	}
	s.run(s.saver.loop)
	s.run(s.disp.loop)
	s.run(s.reloadLoop)
	return nil
}

func (s *Service) run(f func(stop <-chan struct{})) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.stop)
	}()
}

// Stop ends evaluation and writes what is left to write.
func (s *Service) Stop(ctx context.Context) error {
	if s.stop == nil {
		return nil
	}
	close(s.stop)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.saver.flush(ctx)
}

// Health has nothing of its own to check: the server checks the database.
func (s *Service) Health(context.Context) error { return nil }

// reloadLoop picks up rule, silence and inhibition changes made by other
// processes.
func (s *Service) reloadLoop(stop <-chan struct{}) {
	t := time.NewTicker(s.set.Reload)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.set.Reload)
		s.reloadMutes(ctx)
		if err := s.syncRules(ctx); err != nil {
			s.log.Warn("reload rules", "error", err)
		}
		cancel()
	}
}

// syncRules brings the scheduler in line with the stored rules.
func (s *Service) syncRules(ctx context.Context) error {
	versions, err := s.ruleVersions(ctx)
	if err != nil {
		return err
	}
	for id, v := range versions {
		if cur, ok := s.sched.version(id); ok && cur == v {
			continue
		}
		r, err := s.getRule(ctx, id)
		if err != nil {
			s.log.Warn("reload rule", "rule", id, "error", err)
			continue
		}
		s.sched.put(r, nil, "")
	}
	for _, id := range s.sched.ids() {
		if _, ok := versions[id]; !ok {
			s.sched.remove(id)
		}
	}
	return nil
}

// reloadMutes rereads the silences and inhibitions.
func (s *Service) reloadMutes(ctx context.Context) {
	sils, err := s.Silences(ctx, false)
	if err != nil {
		s.log.Warn("load silences", "error", err)
		return
	}
	ins, err := s.Inhibitions(ctx)
	if err != nil {
		s.log.Warn("load inhibitions", "error", err)
		return
	}
	s.mu.Lock()
	s.mutes = &mutes{silences: sils, inhibitions: ins}
	s.mu.Unlock()
}

func (s *Service) currentMutes() *mutes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mutes
}
