package workflow

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/workflowapi"
	"github.com/jackc/pgx/v5"
)

// Name is the system's role name.
const Name = workflowapi.Name

// Scopes of the system's routes.
const (
	ScopeRead  = workflowapi.ScopeRead
	ScopeWrite = workflowapi.ScopeWrite
)

//go:embed migrations/*.sql
var migrations embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrations, "migrations"), New: New, Flags: flags,
		Commands: func() []*cobra.Command { return []*cobra.Command{newWorkflowCommand()} }})
}

// Job kinds events rules use (a "job" action with this kind):
// StartJob's arguments are {"workflow": ID, "params": {...}}, SignalJob's
// {"name": ..., "params": {...}}.
const (
	StartJob  = "workflow.start"
	SignalJob = "workflow.signal"
)

// startArgs are StartJob's arguments.
type startArgs struct {
	Workflow string         `json:"workflow"`
	Params   map[string]any `json:"params"`
}

// cancelIfInvalid stops retries of a job whose arguments cannot work.
func cancelIfInvalid(err error) error {
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		return jobs.Cancel(err)
	}
	return err
}

// runSlots is how many steps a process runs at once.
const runSlots = 8

// Settings are the system's flags.
type Settings struct {
	// SleepScale multiplies every Sleep step's duration: a testing aid
	// (Maestro's samples sleep 15 s a step).
	SleepScale float64
	// SQLConnections name the PostgreSQL databases sql steps may use:
	// NAME to a connection URL (postgres://user:pass@host/db).
	SQLConnections map[string]string
	// SQLMaxTime bounds one sql step's statement (its timeout, if shorter).
	SQLMaxTime time.Duration
	// SQLMaxRows bounds the rows an sql step keeps as its output.
	SQLMaxRows int
}

// DefaultSettings are the flags' defaults.
func DefaultSettings() *Settings {
	return &Settings{SleepScale: 1, SQLMaxTime: 10 * time.Minute, SQLMaxRows: 1000}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.Float64Var(&s.SleepScale, "workflow-sleep-scale", s.SleepScale, "multiply every Sleep step's duration (for tests)")
	fs.MarkHidden("workflow-sleep-scale")
	fs.StringToStringVar(&s.SQLConnections, "workflow-sql-connection", nil,
		"a PostgreSQL database sql steps may use, as NAME=postgres://user:pass@host/db (repeatable)")
	fs.DurationVar(&s.SQLMaxTime, "workflow-sql-max-time", s.SQLMaxTime, "the longest an sql step's statement may run")
	fs.IntVar(&s.SQLMaxRows, "workflow-sql-max-rows", s.SQLMaxRows, "the most rows an sql step keeps as its output")
	return s
}

// Service is the running workflow system.
type Service struct {
	log  *slog.Logger
	db   *store.Store
	bus  *bus.Bus
	jobs *jobs.Queue
	now  func() time.Time
	set  *Settings
	http *http.Client // through the egress policy
	// egress dials sql steps' databases.
	egress *egress.Policy

	mu       sync.Mutex
	compiled map[versionKey]*compiled
	loops    map[string]map[string]any // running foreach steps' params
	slots    chan struct{}             // bounds the steps run at once
	// triggersChanged wakes the time-trigger scheduler.
	triggersChanged chan struct{}
	timers          map[*time.Timer]struct{}
	stopped         bool
	stop            chan struct{}
	running         sync.WaitGroup
}

type versionKey struct {
	id      string
	version int
}

// New constructs the service and registers its job kind.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	set := platform.SettingOr(deps, Name, DefaultSettings)
	if set.SleepScale < 0 {
		return nil, fmt.Errorf("--workflow-sleep-scale: must not be negative, got %g", set.SleepScale)
	}
	if set.SQLMaxTime <= 0 || set.SQLMaxRows <= 0 {
		return nil, fmt.Errorf("--workflow-sql-max-time and --workflow-sql-max-rows: must be positive, got %s and %d", set.SQLMaxTime, set.SQLMaxRows)
	}
	for name, dsn := range set.SQLConnections {
		if name == "" {
			return nil, fmt.Errorf("--workflow-sql-connection: want NAME=postgres://user:pass@host/db, got no name")
		}
		if _, err := pgx.ParseConfig(dsn); err != nil {
			return nil, fmt.Errorf("--workflow-sql-connection %s: want NAME=postgres://user:pass@host/db: %w", name, err)
		}
	}
	s := &Service{log: log.With("system", Name), db: deps.Store, bus: deps.Bus, jobs: deps.Jobs, now: deps.Clock(), set: set,
		http: deps.Egress.Client(egress.ClientOptions{Timeout: 10 * time.Minute, MaxRedirects: 5}), egress: deps.Egress,
		compiled: map[versionKey]*compiled{}, loops: map[string]map[string]any{}, slots: make(chan struct{}, runSlots), triggersChanged: make(chan struct{}, 1), timers: map[*time.Timer]struct{}{}, stop: make(chan struct{})}
	jobs.HandleFunc(deps.Jobs, wakeKind, jobs.KindOptions{MaxAttempts: 20, Timeout: time.Minute},
		func(ctx context.Context, _ *jobs.Job, a wakeArgs) error { return s.wake(ctx, a) })
	jobs.HandleFunc(deps.Jobs, runKind, jobs.KindOptions{MaxAttempts: 3, Timeout: 10 * time.Minute, GiveUp: s.runGaveUp}, s.runExternal)
	// Other systems report the steps they ran (workflowapi's contract).
	jobs.HandleFunc(deps.Jobs, workflowapi.StepDoneKind, jobs.KindOptions{MaxAttempts: 20, Timeout: time.Minute},
		func(ctx context.Context, _ *jobs.Job, d workflowapi.StepDone) error { return s.stepDone(ctx, d) })
	// Events rules start workflows and send signals with job actions of
	// these kinds.
	jobs.HandleFunc(deps.Jobs, StartJob, jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute, FromRules: true},
		func(ctx context.Context, j *jobs.Job, a startArgs) error {
			_, err := s.StartInstance(ctx, a.Workflow, StartRequest{Params: a.Params}, fmt.Sprintf("job %d (%s)", j.ID, StartJob))
			return cancelIfInvalid(err)
		})
	jobs.HandleFunc(deps.Jobs, SignalJob, jobs.KindOptions{MaxAttempts: 5, Timeout: time.Minute, FromRules: true},
		func(ctx context.Context, j *jobs.Job, a SignalRequest) error {
			_, err := s.Signal(ctx, a, fmt.Sprintf("job %d (%s)", j.ID, SignalJob))
			return cancelIfInvalid(err)
		})
	return s, nil
}

// Start resumes the steps that were ready or running when the process
// stopped, and starts the time-trigger scheduler.
func (s *Service) Start(ctx context.Context) error {
	if err := s.resume(ctx); err != nil {
		return err
	}
	s.running.Add(1)
	go s.schedule(s.stop)
	return nil
}

// Stop ends the in-process timers and waits for running steps.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		close(s.stop)
	}
	s.stopped = true
	for t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Health has nothing of its own to check.
func (s *Service) Health(context.Context) error { return nil }

// nowMS is the service clock in Unix milliseconds.
func (s *Service) nowMS() int64 { return s.now().UnixMilli() }

// runGaveUp fails the step of a runKind job that will not run again.
func (s *Service) runGaveUp(ctx context.Context, j *jobs.Job, cause error) {
	var a runArgs
	if json.Unmarshal(j.Args, &a) != nil {
		return
	}
	err := s.inTx(ctx, func(t *txn) error {
		return t.finishStep(stepRef{a.Instance, a.Step}, a.Attempt, StepFatallyFailed, nil, "the step's job gave up: "+cause.Error())
	})
	if err != nil {
		s.log.Error("fail a step whose job gave up", "instance", a.Instance, "step", a.Step, "error", err)
	}
}
