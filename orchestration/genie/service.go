package genie

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/bus"
	"github.com/gaffer-sre/gaffer/internal/platform/celbudget"
	"github.com/gaffer-sre/gaffer/internal/platform/egress"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/genie/genieapi"
	"github.com/gaffer-sre/gaffer/orchestration/genie/resolve"
)

// Name is the system's role name.
const Name = genieapi.Name

// Scopes of the system's routes.
const (
	ScopeRead  = genieapi.ScopeRead
	ScopeWrite = genieapi.ScopeWrite
)

//go:embed migrations/*.sql
var migrations embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrations, "migrations"), New: New, Flags: flags,
		Commands: func() []*cobra.Command { return []*cobra.Command{newGenieCommand()} }})
}

// Settings are the system's flags.
type Settings struct {
	// JobsDir holds the jobs' working directories ("" for
	// <data-dir>/genie/jobs); archives go beside it, in "archives".
	JobsDir string
	// UserActiveLimit is the most unfinished jobs one user may have; 0
	// for no limit (Genie's genie.jobs.users.active-limit).
	UserActiveLimit int
	// DefaultTimeout bounds a job that names no timeout of its own.
	DefaultTimeout time.Duration
	// Selector is a CEL load balancer (see resolve.CELSelector); "" for
	// a random choice.
	Selector string
	// CEL bounds the selector's evaluation.
	CEL celbudget.Budget
	// LostAfter is how long a claimed job may go unrenewed by its process
	// before it is failed as lost.
	LostAfter time.Duration
	// Retention is how long the directory and archive of an ended job
	// are kept; 0 keeps them forever. The job's record stays.
	Retention time.Duration
}

// DefaultSettings are the flags' defaults.
func DefaultSettings() *Settings {
	return &Settings{UserActiveLimit: 100, DefaultTimeout: 7 * 24 * time.Hour, CEL: celbudget.Default(), LostAfter: time.Minute,
		Retention: 30 * 24 * time.Hour}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.StringVar(&s.JobsDir, "genie-jobs-dir", s.JobsDir, "directory of Genie jobs' working directories (default <data-dir>/genie/jobs)")
	fs.IntVar(&s.UserActiveLimit, "genie-user-active-limit", s.UserActiveLimit, "most unfinished Genie jobs one user may have (0: no limit)")
	fs.DurationVar(&s.DefaultTimeout, "genie-default-timeout", s.DefaultTimeout, "timeout of a Genie job that names none")
	fs.StringVar(&s.Selector, "genie-cluster-selector", s.Selector, "CEL expression choosing a job's cluster among candidates (default: at random)")
	celbudget.AddFlags(fs, "genie", &s.CEL)
	fs.DurationVar(&s.LostAfter, "genie-lost-after", s.LostAfter, "fail a running job whose process has not renewed it for this long")
	fs.MarkHidden("genie-lost-after")
	fs.DurationVar(&s.Retention, "genie-retention", s.Retention, "remove the directory and archive of a job this long after it ended (0: keep them)")
	return s
}

// Service is the running genie system.
type Service struct {
	log      *slog.Logger
	db       *store.Store
	bus      *bus.Bus
	jobs     *jobs.Queue
	audit    *audit.Log
	now      func() time.Time
	set      *Settings
	selector resolve.ClusterSelector
	exec     Executor
	// agentExec runs the jobs of clusters that name an agent.
	agentExec *AgentExecutor
	http      *http.Client
	jobsDir   string
	archDir   string
	// owner names this process's life in the owner column of the jobs it
	// runs.
	owner string
	host  string

	idxMu  sync.Mutex
	idx    *resolve.Index
	idxRev int64
	// idxChecked is when idxRev was last compared with the database.
	idxChecked time.Time
	// docs are the decoded resources of idx, by kind/id.
	docs snapshotDocs

	mu        sync.Mutex
	running   map[string]*run // jobs this process runs, by id
	stopped   bool
	watchOnce sync.Once
	stop      chan struct{}
	// updates feeds the batch writer once it runs (see update).
	updates chan update
	// runs counts the goroutines of running jobs; watching the watch
	// loop; writing the batch writer. Stop waits for them in this order.
	runs, watching, writing sync.WaitGroup
}

// New constructs the service and registers its job kinds.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	set := platform.SettingOr(deps, Name, DefaultSettings)
	if set.UserActiveLimit < 0 {
		return nil, fmt.Errorf("--genie-user-active-limit: must not be negative, got %d", set.UserActiveLimit)
	}
	if set.DefaultTimeout <= 0 {
		return nil, fmt.Errorf("--genie-default-timeout: must be positive, got %v", set.DefaultTimeout)
	}
	if set.Retention < 0 {
		return nil, fmt.Errorf("--genie-retention: must not be negative, got %v", set.Retention)
	}
	if set.LostAfter <= watchEvery {
		return nil, fmt.Errorf("--genie-lost-after: must be longer than the %v renewal period, got %v", watchEvery, set.LostAfter)
	}
	if err := set.CEL.Validate("--genie"); err != nil {
		return nil, err
	}
	s := &Service{log: log.With("system", Name), db: deps.Store, bus: deps.Bus, jobs: deps.Jobs, audit: deps.Audit, now: deps.Clock(), set: set,
		exec: LocalExecutor{}, agentExec: NewAgentExecutor(deps.Jobs), http: deps.Egress.Client(egress.ClientOptions{Timeout: 5 * time.Minute, MaxRedirects: 5}),
		running: map[string]*run{}, stop: make(chan struct{})}
	if set.Selector != "" {
		sel, err := resolve.NewCELSelector(set.Selector, set.CEL)
		if err != nil {
			return nil, fmt.Errorf("--genie-cluster-selector: %w", err)
		}
		s.selector = sel
	}
	s.jobsDir = set.JobsDir
	if s.jobsDir == "" {
		s.jobsDir = filepath.Join(deps.DataDir, "genie", "jobs")
	}
	s.archDir = filepath.Join(filepath.Dir(s.jobsDir), "archives")
	s.host, _ = os.Hostname()
	var b [8]byte
	rand.Read(b[:])
	s.owner = s.host + "/" + hex.EncodeToString(b[:])
	s.registerJobs()
	return s, nil
}

// Start begins the loop that renews this process's claim on the jobs
// it runs, applies kills requested through other processes and fails
// jobs whose process went silent.
func (s *Service) Start(context.Context) error {
	if err := os.MkdirAll(s.jobsDir, 0o755); err != nil {
		return fmt.Errorf("genie: jobs directory: %w", err)
	}
	if err := os.MkdirAll(s.archDir, 0o755); err != nil {
		return fmt.Errorf("genie: archive directory: %w", err)
	}
	s.startWatch()
	return nil
}

// startWatch starts the watch loop once: from Start, or from the first
// job launched in a process that runs only the job queue.
func (s *Service) startWatch() {
	s.watchOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			return
		}
		s.updates = make(chan update, maxBatch)
		s.writing.Add(1)
		go func(in <-chan update) {
			defer s.writing.Done()
			s.writeBatches(in)
		}(s.updates)
		s.watching.Add(1)
		go func() {
			defer s.watching.Done()
			s.watch()
		}()
	})
}

// Stop kills the jobs this process runs (they end KILLED, saying the
// process stopped), waits for them to settle and ends the watch loop.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	for _, r := range s.running {
		r.kill(msgStopped)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		// Jobs settle through the writer, and so may the watch loop's
		// sweep: the writer stops last.
		s.runs.Wait()
		s.watching.Wait()
		s.mu.Lock()
		if s.updates != nil {
			close(s.updates)
			s.updates = nil
		}
		s.mu.Unlock()
		s.writing.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Health has nothing of its own to check.
func (s *Service) Health(context.Context) error { return nil }
