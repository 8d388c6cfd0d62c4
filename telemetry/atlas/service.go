package atlas

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/gate"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/atlasapi"
	"github.com/gaffer-sre/gaffer/telemetry/atlas/stack"
	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"
	"github.com/gaffer-sre/gaffer/telemetry/spectator"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Name is the system's role name.
const Name = atlasapi.Name

// Scopes: reading graphs and tags, and saving graphs and dashboards.
const (
	ReadScope  = atlasapi.ReadScope
	WriteScope = atlasapi.WriteScope
)

//go:embed migrations/*.sql
var migrations embed.FS

//go:embed templates/*.html
var templates embed.FS

//go:embed assets
var assets embed.FS

func init() {
	platform.Register(platform.Module{Name: Name, Requires: []string{metricsapi.Name}, Flags: flags,
		Migrations: store.MustSub(migrations, "migrations"), New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newAtlasCommand()} }})
}

// Settings are the system's flags.
type Settings struct {
	Budget        time.Duration
	MaxDatapoints int
	MaxLines      int
	MaxValues     int64
	Zone          string
	MemoryWindow  time.Duration
	MemoryIdle    time.Duration
	MemoryMax     int
	// MaxConcurrent graphs are evaluated at once; more wait up to
	// QueueTimeout for a slot.
	MaxConcurrent int
	QueueTimeout  time.Duration
}

// Defaults of --atlas-max-concurrency and --atlas-queue-timeout.
const (
	DefaultMaxConcurrent = 4
	DefaultQueueTimeout  = 30 * time.Second
)

// DefaultSettings are the flags' defaults, and the settings of a server
// that parsed no flags.
func DefaultSettings() *Settings {
	return &Settings{
		Budget:        stack.DefaultLimits.Budget,
		MaxDatapoints: stack.DefaultLimits.MaxDatapoints,
		MaxLines:      stack.DefaultLimits.MaxLines,
		MaxValues:     stack.DefaultLimits.MaxValues,
		Zone:          "UTC",
		MemoryWindow:  DefaultMemoryWindow,
		MemoryMax:     stack.DefaultTierMaxSeries,
		MaxConcurrent: DefaultMaxConcurrent,
		QueueTimeout:  DefaultQueueTimeout,
	}
}

func flags(fs *pflag.FlagSet) any {
	s := DefaultSettings()
	fs.DurationVar(&s.Budget, "atlas-budget", s.Budget, "time one Atlas graph may take before it is stopped")
	fs.IntVar(&s.MaxDatapoints, "atlas-max-datapoints", s.MaxDatapoints, "datapoints per line of an Atlas graph")
	fs.IntVar(&s.MaxLines, "atlas-max-lines", s.MaxLines, "series one :all or groups one :by may return")
	fs.Int64Var(&s.MaxValues, "atlas-max-values", s.MaxValues, "values (lines × datapoints) the data of one Atlas graph may hold")
	fs.IntVar(&s.MaxConcurrent, "atlas-max-concurrency", s.MaxConcurrent, "most Atlas graphs evaluated at once; more wait for a slot")
	fs.DurationVar(&s.QueueTimeout, "atlas-queue-timeout", s.QueueTimeout, "longest an Atlas graph waits for a slot before it fails with 503")
	fs.StringVar(&s.Zone, "atlas-tz", s.Zone, "default time zone of Atlas graphs")
	fs.DurationVar(&s.MemoryWindow, "atlas-memory-window", s.MemoryWindow,
		"recent data Atlas keeps in memory at a 1-minute step for the series its graphs read, fed at ingest (about 8 bytes per series and minute); 0 reads everything from the store")
	fs.DurationVar(&s.MemoryIdle, "atlas-memory-idle", s.MemoryIdle,
		"how long a series stays in Atlas's memory tier without being graphed; 0 means twice --atlas-memory-window")
	fs.IntVar(&s.MemoryMax, "atlas-memory-max-series", s.MemoryMax,
		"most series Atlas's memory tier holds (about 4.4 KB each with a 6h window); graphs of more read the store")
	return s
}

// DefaultMemoryWindow is how much recent data the memory tier keeps.
const DefaultMemoryWindow = 6 * time.Hour

// Service is the running Atlas system.
type Service struct {
	log    *slog.Logger
	deps   *platform.Deps
	st     *store.Store
	limits stack.Limits
	// graphs bounds the graphs evaluated at once.
	graphs *gate.Gate
	zone   *time.Location
	// source finds the data; tests replace it.
	source func() (stack.Source, error)
	pages  *pages

	window   time.Duration // of the memory tier; 0 for none
	tierOpts stack.TierOptions
	tier     *stack.Tier // set by Start when the store runs here
	tierDB   *tsdb.DB
	stop     context.CancelFunc
	done     chan struct{}

	saveMu           sync.Mutex // one save of the tier's queries at a time
	savedTierQueries []byte     // what the last save wrote
}

// errNoStore is returned while no metrics store runs in this process.
var errNoStore = errors.New("no metrics store")

// New constructs the service.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	st := platform.SettingOr(deps, Name, DefaultSettings)
	if st.MaxConcurrent <= 0 || st.QueueTimeout <= 0 {
		return nil, fmt.Errorf("--atlas-max-concurrency and --atlas-queue-timeout must be positive")
	}
	if st.Budget <= 0 || st.MaxDatapoints <= 0 || st.MaxLines <= 0 || st.MaxValues <= 0 {
		return nil, fmt.Errorf("--atlas-budget, --atlas-max-datapoints, --atlas-max-lines and --atlas-max-values must be positive")
	}
	zone, err := time.LoadLocation(st.Zone)
	if err != nil {
		return nil, fmt.Errorf("--atlas-tz: %w", err)
	}
	if st.MemoryWindow < 0 {
		return nil, fmt.Errorf("--atlas-memory-window must not be negative")
	}
	if st.MemoryIdle < 0 || st.MemoryMax < 0 {
		return nil, fmt.Errorf("--atlas-memory-idle and --atlas-memory-max-series must not be negative")
	}
	s := &Service{log: log.With("system", Name), deps: deps, st: deps.Store, limits: stack.DefaultLimits, zone: zone,
		window: st.MemoryWindow}
	s.limits.Budget, s.limits.MaxDatapoints, s.limits.MaxLines = st.Budget, st.MaxDatapoints, st.MaxLines
	s.limits.MaxValues = st.MaxValues
	s.tierOpts.Idle, s.tierOpts.MaxSeries = st.MemoryIdle, st.MemoryMax
	s.graphs = gate.New(st.MaxConcurrent, st.QueueTimeout, "atlas-max-concurrency", "atlas-queue-timeout")
	s.tierOpts.Logger = s.log
	s.source = s.lookupSource
	return s, nil
}

func (s *Service) lookupSource() (stack.Source, error) {
	// With --metrics-query-url, graphs read what PromQL reads.
	if rr, err := platform.LookupAs[metricsapi.RemoteReader](s.deps, metricsapi.Name); err == nil && rr.ReadsRemote() && rr.Queryable() != nil {
		return stack.QueryableSource{Q: rr.Queryable()}, nil
	}
	db, err := metricsapi.DB(s.deps)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoStore, err)
	}
	if s.tier != nil && s.tierDB == db {
		return stack.TieredSource{Tier: s.tier, Store: stack.TSDBSource{DB: db}}, nil
	}
	return stack.TSDBSource{DB: db}, nil
}

// UseSource makes the service read src (tests, tools).
func (s *Service) UseSource(src stack.Source) {
	s.source = func() (stack.Source, error) { return src, nil }
}

func (s *Service) evaluator() (*stack.Evaluator, error) {
	src, err := s.source()
	if err != nil {
		return nil, err
	}
	return &stack.Evaluator{Source: src, Limits: s.limits}, nil
}

// Start attaches the memory tier to the store when the store runs in this
// process. The tier holds nothing at first: a graph of recent data reads
// the store and has the tier admit its series in the background, from the
// store and then at ingest, so that the next graph reads memory.
func (s *Service) Start(context.Context) error {
	if s.window <= 0 {
		return nil
	}
	src, err := s.lookupSource()
	if err != nil {
		return nil // no store here: nothing to keep in memory
	}
	ts, ok := src.(stack.TSDBSource)
	if !ok {
		return nil // graphs read a remote backend: the tier holds the store's series
	}
	db := ts.DB
	tier := stack.NewTier(s.window, s.deps.Clock())
	tier.SetOptions(s.tierOpts)
	tier.Attach(db)
	ctx, cancel := context.WithCancel(context.Background())
	s.tier, s.tierDB, s.stop, s.done = tier, db, cancel, make(chan struct{})
	s.log.Info("atlas: memory tier attached; it admits the series graphs read", "window", s.window)
	s.readmitTierQueries()
	if m := s.deps.Metrics; m != nil {
		go s.measureTier(ctx, m)
	}
	go s.keepTierQueries(ctx, time.Minute)
	go func() {
		defer close(s.done)
		tier.Run(ctx, db, 10*time.Second)
	}()
	return nil
}

// measureTier publishes the memory tier's size every minute until ctx
// ends: gaffer.atlas.memoryTier.series, .blocks (hours held), .bytes,
// .queries (admitted) and .refused (admissions refused for
// --atlas-memory-max-series, since the start).
func (s *Service) measureTier(ctx context.Context, m *spectator.Registry) {
	gauge := func(what string) *spectator.Gauge { return m.Gauge("gaffer.atlas.memoryTier."+what, nil) }
	series, blocks, bytes := gauge("series"), gauge("blocks"), gauge("bytes")
	queries, refused := gauge("queries"), gauge("refused")
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		st := s.tier.Stats()
		series.Set(float64(st.Series))
		blocks.Set(float64(st.Blocks))
		bytes.Set(float64(st.Bytes))
		queries.Set(float64(st.Queries))
		refused.Set(float64(st.Refused))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Stop detaches the memory tier; graphs end with their requests.
func (s *Service) Stop(context.Context) error {
	if s.stop != nil {
		s.stop()
		<-s.done
		if err := s.saveTierQueries(); err != nil {
			s.log.Warn("atlas: memory tier", "error", err)
		}
		s.tier.Detach(s.tierDB)
	}
	return nil
}

// Tier returns the memory tier, nil when there is none (tests, tools).
func (s *Service) Tier() *stack.Tier { return s.tier }

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
