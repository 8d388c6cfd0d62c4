package correlate

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/analysis/correlate/query"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
)

// Job kinds.
const (
	ShardJob    = "analysis.correlate.shard"
	FinalizeJob = "analysis.correlate.finalize"
)

// Event type published when a report is complete.
const CompletedEvent = "gaffer.analysis.report.completed"

//go:embed migrations/*.sql
var migrations embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, FormerNames: []string{"analysis"}, Requires: []string{metricsapi.Name}, Flags: flags,
		Migrations: store.MustSub(migrations, "migrations"), New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newAnalyzeCommand()} }})
}

// Settings are the system's flags.
type Settings struct {
	ShardSize     int
	MaxCandidates int
	// MaxValues bounds series × points one read of an analysis builds.
	MaxValues int64
	Wait      time.Duration
	// ShardDelay holds every shard this long before it records its
	// results: a testing aid, to watch shards spread over workers and
	// to kill a worker in the middle of one.
	ShardDelay time.Duration
}

// DefaultSettings are the flags' defaults.
func DefaultSettings() *Settings {
	return &Settings{ShardSize: 250, MaxCandidates: 20_000, MaxValues: query.DefaultMaxValues, Wait: time.Minute}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.IntVar(&s.ShardSize, "analysis-shard-size", s.ShardSize, "candidates one analysis job scores")
	fs.IntVar(&s.MaxCandidates, "analysis-max-candidates", s.MaxCandidates, "candidate series one analysis may compare")
	fs.Int64Var(&s.MaxValues, "analysis-max-values", s.MaxValues, "values (series × points) one analysis may read; over it the analysis fails naming the limit")
	fs.DurationVar(&s.Wait, "analysis-wait", s.Wait, "how long POST /api/v1/analysis/correlate waits for the report before answering 202")
	fs.DurationVar(&s.ShardDelay, "analysis-shard-delay", 0, "hold every analysis shard this long before recording it (for tests)")
	fs.MarkHidden("analysis-shard-delay")
	return s
}

// Service is the running analysis system.
type Service struct {
	log    *slog.Logger
	st     *store.Store
	jobs   *jobs.Queue
	bus    *bus.Bus
	set    *Settings
	deps   *platform.Deps
	worker string
	// source finds the series; tests replace it.
	source func() (query.Source, error)

	pages *pages

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New constructs the service and registers its job kinds.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	set := platform.SettingOr(deps, Name, DefaultSettings)
	if set.ShardSize < 1 || set.MaxCandidates < 1 || set.Wait < 0 {
		return nil, errors.New("--analysis-shard-size and --analysis-max-candidates must be positive")
	}
	if set.MaxValues < 1 {
		return nil, fmt.Errorf("--analysis-max-values: must be positive, got %d", set.MaxValues)
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	s := &Service{log: log.With("system", Name), st: deps.Store, jobs: deps.Jobs, bus: deps.Bus, set: set, deps: deps,
		worker: fmt.Sprintf("%s:%d", host, os.Getpid())}
	s.source = s.lookupSource
	s.ctx, s.cancel = context.WithCancel(context.Background())
	opts := jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute, GiveUp: s.giveUp}
	jobs.HandleFunc(deps.Jobs, ShardJob, opts, s.handleShard)
	jobs.HandleFunc(deps.Jobs, FinalizeJob, opts, s.handleFinalize)
	return s, nil
}

// now is the service's clock.
func (s *Service) now() time.Time { return s.deps.Clock()() }

// giveUp fails the report of a shard or finalize job that will not run
// again, so the analysis ends with the reason instead of running forever.
func (s *Service) giveUp(ctx context.Context, j *jobs.Job, cause error) {
	var a shardArgs
	if err := json.Unmarshal(j.Args, &a); err != nil || a.ReportID == "" {
		s.log.Error("a failed analysis job names no report", "job", j.ID, "error", cause)
		return
	}
	s.log.Error("analysis job gave up", "report", a.ReportID, "job", j.ID, "kind", j.Kind, "error", cause)
	first, _, _ := strings.Cut(cause.Error(), "\n") // a panic's stack stays in the log
	s.fail(ctx, a.ReportID, fmt.Errorf("%s job gave up at attempt %d: %s", j.Kind, j.Attempt, first))
}

// lookupSource finds the metrics system of this process.
func (s *Service) lookupSource() (query.Source, error) {
	if _, ok := s.deps.Lookup(metricsapi.Name); !ok {
		return query.Source{}, query.ErrNoMetrics
	}
	m, err := metricsapi.From(s.deps)
	if err != nil {
		return query.Source{}, err
	}
	db := m.DB()
	if db == nil {
		return query.Source{}, query.ErrNoMetrics
	}
	return query.Source{Prom: m, Atlas: stack.TSDBSource{DB: db}, MaxValues: s.set.MaxValues}, nil
}

// UseSource makes the service read src (tests, tools).
func (s *Service) UseSource(src query.Source) {
	s.source = func() (query.Source, error) { return src, nil }
}

// Start resumes the analyses whose series were being read when the
// process stopped.
func (s *Service) Start(ctx context.Context) error {
	ids, err := s.preparing(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.log.Info("resuming an interrupted analysis", "report", id)
		s.goPrepare(id)
	}
	return nil
}

// Stop cancels the analyses being read and waits for them.
func (s *Service) Stop(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Health has nothing of its own to check: the server checks the database.
func (s *Service) Health(context.Context) error { return nil }
