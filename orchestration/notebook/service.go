package notebook

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/jupyter"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/kernelpool"
	"github.com/gaffer-sre/gaffer/orchestration/notebook/notebookapi"
)

// Name is the system's role name.
const Name = notebookapi.Name

// Scopes of the system's routes.
const (
	ScopeRead  = notebookapi.ScopeRead
	ScopeWrite = notebookapi.ScopeWrite
)

//go:embed migrations/*.sql
var migrations embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Migrations: store.MustSub(migrations, "migrations"), New: New, Flags: flags,
		Commands: func() []*cobra.Command { return []*cobra.Command{newNotebookCommand()} }})
}

// Settings are the system's flags.
type Settings struct {
	// WarmKernels is how many started kernels to keep ready per kernel spec.
	WarmKernels int
	// MaxKernels bounds the runs executing at once in a process.
	MaxKernels int
	// CellTimeout bounds one cell of a run (0: none).
	CellTimeout time.Duration
}

// DefaultSettings are the flags' defaults.
func DefaultSettings() *Settings { return &Settings{WarmKernels: 2, MaxKernels: 4} }

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.IntVar(&s.WarmKernels, "notebook-warm-kernels", s.WarmKernels, "started kernels kept ready per kernel spec for notebook runs")
	fs.IntVar(&s.MaxKernels, "notebook-max-kernels", s.MaxKernels, "notebook runs executing at once in this process")
	fs.DurationVar(&s.CellTimeout, "notebook-cell-timeout", s.CellTimeout, "bound on one cell of a notebook run (0: none)")
	return s
}

// Service is the running notebook system.
type Service struct {
	log    *slog.Logger
	db     *store.Store
	jobs   *jobs.Queue
	now    func() time.Time
	set    *Settings
	pool   *kernelpool.Pool
	runDir string
	// specDir holds the kernel specs installed through Gaffer; it is
	// searched before Jupyter's own directories.
	specDir string

	mu      sync.Mutex
	running map[int64]context.CancelFunc
}

// New constructs the service and registers its job kinds.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	set := platform.SettingOr(deps, Name, DefaultSettings)
	if set.WarmKernels < 0 || set.MaxKernels < 1 || set.CellTimeout < 0 {
		return nil, fmt.Errorf("--notebook-warm-kernels must be ≥ 0, --notebook-max-kernels ≥ 1 and --notebook-cell-timeout ≥ 0")
	}
	dir := filepath.Join(deps.DataDir, "notebook")
	s := &Service{log: log.With("system", Name), db: deps.Store, jobs: deps.Jobs, now: deps.Clock(), set: set,
		runDir: filepath.Join(dir, "runs"), specDir: filepath.Join(dir, "kernels"), running: map[int64]context.CancelFunc{}}
	for _, d := range []string{s.runDir, s.specDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("notebook: %w", err)
		}
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	// Kernels run a user's code as this process's user: they start in a
	// directory of their own and without Gaffer's variables (tokens,
	// key-encryption keys). See docs/notebooks.md, "Security".
	s.pool = kernelpool.New(kernelpool.Options{Warm: set.WarmKernels, NoWarm: set.WarmKernels == 0, MaxRunning: set.MaxKernels,
		Kernel: jupyter.Options{Dir: s.runDir, Now: s.now, WorkDir: work, DropEnv: gafferVariable}, Log: s.log})
	s.registerRunners(deps.Jobs)
	return s, nil
}

// kernelDirs are where kernel specs are found: Gaffer's, then Jupyter's.
func (s *Service) kernelDirs() []string {
	return append([]string{s.specDir}, jupyter.KernelDirs()...)
}

// Start does nothing: kernels are started when a spec is first asked for.
func (s *Service) Start(context.Context) error { return nil }

// Stop kills the warm kernels; runs in progress are cancelled by the job
// queue's shutdown and release their own kernels.
func (s *Service) Stop(context.Context) error {
	s.pool.Close()
	return nil
}

// Health has nothing of its own to check.
func (s *Service) Health(context.Context) error { return nil }

// gafferVariable reports Gaffer's own environment variables, which a
// kernel must not inherit.
func gafferVariable(name string) bool { return strings.HasPrefix(name, "GAFFER_") }
