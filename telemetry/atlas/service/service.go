// Package atlasservice runs Gaffer's Atlas system: Atlas's graph API
// (GET /api/v1/graph) and tag discovery (GET /api/v1/tags) over the
// metrics store, saved graphs and dashboards kept in the database, and
// the metrics explorer page.
//
// The store belongs to the metrics system; this system finds it through
// deps.Lookup("metrics") and reads it only.
package atlasservice

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/telemetry/atlas"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Name is the system's role name.
const Name = "atlas"

// Scopes: reading graphs and tags, and saving graphs and dashboards.
const (
	ReadScope  = "atlas:read"
	WriteScope = "atlas:write"
)

// storeRoles are the systems that may own the metrics store, in order.
var storeRoles = []string{"metrics", "tsdb"}

//go:embed migrations/*.sql
var migrations embed.FS

//go:embed templates/*.html
var templates embed.FS

//go:embed assets
var assets embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Requires: storeRoles, Flags: flags,
		Migrations: store.MustSub(migrations, "migrations"), New: New})
}

// Settings are the system's flags.
type Settings struct {
	Budget        time.Duration
	MaxDatapoints int
	MaxLines      int
	Zone          string
}

func flags(fs *pflag.FlagSet) any {
	s := &Settings{}
	fs.DurationVar(&s.Budget, "atlas-budget", atlas.DefaultLimits.Budget, "time one Atlas graph may take before it is stopped")
	fs.IntVar(&s.MaxDatapoints, "atlas-max-datapoints", atlas.DefaultLimits.MaxDatapoints, "datapoints per line of an Atlas graph")
	fs.IntVar(&s.MaxLines, "atlas-max-lines", atlas.DefaultLimits.MaxLines, "series one :all or groups one :by may return")
	fs.StringVar(&s.Zone, "atlas-tz", "UTC", "default time zone of Atlas graphs")
	return s
}

// DBProvider is what the metrics system offers: its store.
type DBProvider interface{ DB() *tsdb.DB }

// Service is the running Atlas system.
type Service struct {
	log    *slog.Logger
	deps   *platform.Deps
	st     *store.Store
	limits atlas.Limits
	zone   *time.Location
	// source finds the data; tests replace it.
	source func() (atlas.Source, error)
	pages  *pages
}

// errNoStore is returned while no metrics store runs in this process.
var errNoStore = errors.New("no metrics store")

// New constructs the service.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Service{log: log.With("system", Name), deps: deps, st: deps.Store, limits: atlas.DefaultLimits, zone: time.UTC}
	if st := platform.Setting[*Settings](deps, Name); st != nil {
		if st.Budget <= 0 || st.MaxDatapoints <= 0 || st.MaxLines <= 0 {
			return nil, fmt.Errorf("--atlas-budget, --atlas-max-datapoints and --atlas-max-lines must be positive")
		}
		s.limits.Budget, s.limits.MaxDatapoints, s.limits.MaxLines = st.Budget, st.MaxDatapoints, st.MaxLines
		z, err := time.LoadLocation(st.Zone)
		if err != nil {
			return nil, fmt.Errorf("--atlas-tz: %w", err)
		}
		s.zone = z
	}
	s.source = s.lookupSource
	return s, nil
}

func (s *Service) lookupSource() (atlas.Source, error) {
	for _, role := range storeRoles {
		svc, ok := s.deps.Lookup(role)
		if !ok {
			continue
		}
		p, ok := svc.(DBProvider)
		if !ok {
			return nil, fmt.Errorf("%w: the %s service (%T) has no DB() method", errNoStore, role, svc)
		}
		db := p.DB()
		if db == nil {
			return nil, fmt.Errorf("%w: the %s service has not opened its store", errNoStore, role)
		}
		return atlas.TSDBSource{DB: db}, nil
	}
	return nil, fmt.Errorf("%w: the metrics role is not running in this process", errNoStore)
}

// UseSource makes the service read src (tests, tools).
func (s *Service) UseSource(src atlas.Source) {
	s.source = func() (atlas.Source, error) { return src, nil }
}

func (s *Service) evaluator() (*atlas.Evaluator, error) {
	src, err := s.source()
	if err != nil {
		return nil, err
	}
	return &atlas.Evaluator{Source: src, Limits: s.limits}, nil
}

// Start does nothing: the service has no background work.
func (s *Service) Start(context.Context) error { return nil }

// Stop does nothing: graphs end with their requests.
func (s *Service) Stop(context.Context) error { return nil }

// Health reports whether the metrics store can be read.
func (s *Service) Health(context.Context) error {
	_, err := s.source()
	if errors.Is(err, errNoStore) {
		return nil // a process without the metrics role is still healthy
	}
	return err
}

func sub(fsys embed.FS, dir string) fs.FS {
	f, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return f
}
