package remediation

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/remediation/remediationapi"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Name is the system's role name.
const Name = remediationapi.Name

// Scopes of the remediation routes.
const (
	ReadScope  = remediationapi.ReadScope
	WriteScope = remediationapi.WriteScope
)

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrations, "migrations"), Flags: flags, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newRunbookCommand(), newAgentCommand()} }})
}

// Settings are the system's flags of `gaffer serve` and `gaffer worker`.
type Settings struct {
	// Lease is how long a step claimed by a process stays claimed without
	// renewal: the longest a crashed server's steps wait.
	Lease time.Duration
	// AgentHeartbeat is how often agents report; an agent silent for six
	// heartbeats has lost its runs.
	AgentHeartbeat time.Duration
	// AgentNATSURL overrides the NATS address agents are told.
	AgentNATSURL string
	// UnknownTimeout is how long an execution waits for an operator to
	// settle a step whose outcome is unknown before it fails.
	UnknownTimeout time.Duration
	// CEL bounds each evaluation of a runbook expression; it applies to
	// the whole process.
	CEL celbudget.Budget
}

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{Lease: 15 * time.Second, AgentHeartbeat: 5 * time.Second, UnknownTimeout: time.Hour, CEL: celbudget.Default()}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.DurationVar(&s.Lease, "remediation-lease", s.Lease,
		"how long a step stays claimed by a process that stopped renewing it before another takes it over")
	fs.DurationVar(&s.AgentHeartbeat, "remediation-agent-heartbeat", s.AgentHeartbeat, "how often agents send heartbeats")
	fs.DurationVar(&s.UnknownTimeout, "remediation-unknown-timeout", s.UnknownTimeout,
		"how long an execution waits for an operator to settle a step whose outcome is unknown before it fails")
	fs.StringVar(&s.AgentNATSURL, "remediation-agent-nats-url", s.AgentNATSURL,
		"NATS URLs (comma-separated) told to agents; default the embedded server's --nats-listen address")
	celbudget.AddFlags(fs, "remediation", &s.CEL)
	return s
}

// Service is the runbook system of one process.
type Service struct {
	settings Settings
	log      *slog.Logger
	db       *store.Store
	bus      *bus.Bus
	jobs     *jobs.Queue
	tokens   *auth.Tokens
	audit    *audit.Log
	deps     *platform.Deps
	// now is the clock (deps.Now) of every stored timestamp, cutoff,
	// deadline and displayed time; see wallNow for what stays on the
	// wall clock.
	now func() time.Time
	// install names the installation (the database) this process serves.
	install string

	runbooks   *runbooks
	engine     *engine
	agents     *agents
	agentRuns  *agentRuns
	logs       *logWriter
	waiters    *waiters
	httpClient *http.Client
	pages      *pages
	// demoAgent runs under --demo (see startDemoAgent).
	demoAgent *demoAgent

	stop    chan struct{}
	wg      sync.WaitGroup
	started bool
}

// New constructs the service and registers its job kinds.
func New(ctx context.Context, deps *platform.Deps) (platform.Service, error) {
	set := *platform.SettingOr(deps, Name, DefaultSettings)
	if set.UnknownTimeout <= 0 {
		return nil, fmt.Errorf("--remediation-unknown-timeout: must be positive, got %s", set.UnknownTimeout)
	}
	if set.Lease <= 0 || set.AgentHeartbeat <= 0 {
		return nil, errors.New("--remediation-lease and --remediation-agent-heartbeat must be positive")
	}
	if err := celBudget.Set(set.CEL, "remediation"); err != nil {
		return nil, err
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{settings: set, log: log.With("system", Name), db: deps.Store, bus: deps.Bus, jobs: deps.Jobs, tokens: deps.Tokens,
		audit: deps.Audit, deps: deps, now: deps.Clock(), httpClient: deps.Egress.Client(egress.ClientOptions{Timeout: 5 * time.Minute, MaxRedirects: 10}), stop: make(chan struct{})}
	var err error
	if s.install, err = installation(ctx, s.db); err != nil {
		return nil, err
	}
	s.runbooks = &runbooks{db: s.db, now: s.now}
	s.engine = &engine{s: s, db: s.db, log: s.log, owner: newID("proc"), lease: set.Lease, cancels: map[string]context.CancelFunc{},
		timers: map[*time.Timer]struct{}{}}
	s.agents = newAgents(s)
	s.agentRuns = newAgentRuns(s)
	s.agentRuns.register(s.jobs)
	s.logs = newLogWriter(s.db, s.log, s.now)
	s.waiters = newWaiters(s)
	s.engine.registerJobs(s.jobs)
	s.registerTriggers()
	s.registerWorkflowSteps()
	if deps.Worker {
		// A worker runs steps its jobs start, so it renews their leases;
		// it has no Start (and no Stop: the loop ends with the process).
		go s.engine.renewLoop(s.stop)
	}
	return s, nil
}

// Start subscribes to agents and events and starts the recovery loop.
func (s *Service) Start(ctx context.Context) error {
	if err := s.agents.start(); err != nil {
		return err
	}
	if err := s.waiters.start(); err != nil {
		return err
	}
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.engine.loop(s.stop) }()
	go func() { defer s.wg.Done(); s.logs.loop(s.stop) }()
	go func() { defer s.wg.Done(); s.waiters.loop(s.stop) }()
	s.started = true
	return nil
}

// Stop ends the background work. Steps in flight keep their state and
// are taken over after their lease by the next process.
func (s *Service) Stop(ctx context.Context) error {
	if !s.started {
		return nil
	}
	s.started = false
	s.demoAgent.stop()
	s.demoAgent = nil
	s.agents.stop()
	s.waiters.stopSub()
	s.engine.stopTimers()
	close(s.stop)
	done := make(chan struct{})
	go func() { s.wg.Wait(); s.engine.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("remediation: stop: %w", ctx.Err())
	}
	s.logs.flush()
	return nil
}

// Health has nothing of its own to check: the server checks the bus.
func (s *Service) Health(context.Context) error { return nil }

// Pages implements platform.PageProvider.
func (s *Service) Pages(shell *ui.Shell) { s.pages = newPages(s, shell) }

// StartRun starts a run of a runbook (the Go API other systems call).
func (s *Service) StartRun(ctx context.Context, req StartRequest) (*Execution, error) {
	ex, _, err := s.engine.start(ctx, req)
	return ex, err
}

// Execution returns an execution with its steps and history.
func (s *Service) Execution(ctx context.Context, id string) (*Execution, error) {
	ex, err := loadExec(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if ex.Steps, err = loadSteps(ctx, s.db, id, "*", true); err != nil {
		return nil, err
	}
	if c, err := s.runbooks.compiled(ctx, ex.Runbook, ex.Version); err == nil {
		for i := range ex.Steps {
			if cs := c.step(ex.Steps[i].Name); cs != nil {
				ex.Steps[i].Type = cs.Type
			}
		}
	}
	ex.History, err = loadHistory(ctx, s.db, id)
	return ex, err
}

// publishFinished announces the end of an execution on the bus.
func (s *Service) publishFinished(ex *Execution, status string) {
	s.engine.running.Add(1)
	go func() {
		defer s.engine.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ev := &bus.Event{Type: "gaffer.remediation.execution." + status, Source: "/gaffer/remediation", ID: ex.ID + "." + status,
			Subject: ex.ID}
		ev.Data, _ = jsonMarshal(map[string]any{"execution": ex.ID, "runbook": ex.Runbook, "version": ex.Version,
			"status": status, "error": ex.Error})
		if _, err := s.bus.Publish(ctx, ev); err != nil {
			s.log.Warn("publish execution end", "execution", ex.ID, "error", err)
		}
	}()
}

// UnknownOutcomeEvent is published when a step's outcome cannot be known
// and an operator must run it again, mark it done or fail it.
const UnknownOutcomeEvent = "gaffer.remediation.unknown_outcome"

// publishUnknown asks, on the bus, for a person to settle a step of
// unknown outcome; events rules route it to on-call.
func (s *Service) publishUnknown(ex *Execution, key, host, why string) {
	s.engine.running.Add(1)
	go func() {
		defer s.engine.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		base := "/api/v1/remediation/executions/" + ex.ID
		ev := &bus.Event{Type: UnknownOutcomeEvent, Source: "/gaffer/remediation", ID: fmt.Sprintf("%s.%s.unknown.%d", ex.ID, key, s.nowMS()),
			Subject: ex.ID}
		ev.Data, _ = jsonMarshal(map[string]any{"execution": ex.ID, "runbook": ex.Runbook, "step": key, "host": host,
			"why": why, "fails_at": s.now().Add(s.settings.UnknownTimeout).UTC(), "url": "/remediation/executions/" + ex.ID,
			"actions": map[string]string{
				"run_again": "POST " + base + "/steps/" + key + "/rerun",
				"mark_done": "POST " + base + "/steps/" + key + "/resolve {\"as\": \"succeeded\"}",
				"fail":      "POST " + base + "/steps/" + key + "/resolve {\"as\": \"failed\"}",
			}})
		if _, err := s.bus.Publish(ctx, ev); err != nil {
			s.log.Warn("publish an unknown outcome", "execution", ex.ID, "step", key, "error", err)
		}
	}()
}

// installation returns this database's installation ID, creating it once.
func installation(ctx context.Context, db *store.Store) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, `SELECT id FROM remediation_installation WHERE one = 1`).Scan(&id)
	if err == nil {
		return id, nil
	}
	id = newID("inst")
	if _, err := db.ExecContext(ctx, `INSERT INTO remediation_installation (one, id) VALUES (1, ?)`, id); err != nil {
		if err2 := db.QueryRowContext(ctx, `SELECT id FROM remediation_installation WHERE one = 1`).Scan(&id); err2 != nil {
			return "", fmt.Errorf("remediation: installation: %w", err)
		}
	}
	return id, nil
}
