package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/spf13/cobra"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/ui"
	"github.com/gaffer-sre/gaffer/telemetry/ingest"
	"github.com/gaffer-sre/gaffer/telemetry/metrics/metricsapi"
	"github.com/gaffer-sre/gaffer/telemetry/prom"
	"github.com/gaffer-sre/gaffer/telemetry/remotewrite"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb"
)

// Name is the module's name: its role and its key for Deps.Lookup.
const Name = metricsapi.Name

var _ metricsapi.Store = (*Service)(nil)

// Scopes of the metrics routes.
const (
	ReadScope  = metricsapi.ReadScope
	WriteScope = metricsapi.WriteScope
)

// ErrNotOpen is returned by the Go API in a process that does not own the
// store (`gaffer worker`), or after Stop.
var ErrNotOpen = errors.New("metrics: the store is not open in this process")

func init() {
	platform.Register(platform.Module{Name: Name, Flags: flags, New: New,
		Commands: func() []*cobra.Command { return []*cobra.Command{newMetricsCommand(), newTSDBCommand()} }})
}

// Service is the running metrics system. Other systems reach it through
// metricsapi.From.
type Service struct {
	log *slog.Logger
	set *Settings
	dir string
	now func() time.Time // the platform's clock (deps.Now)
	// demoStart is when the demo was first loaded (deps.DemoStart).
	demoStart func() (time.Time, error)
	db        *tsdb.DB
	engine    *promql.Engine
	limiter   *prom.Limiter
	receiver  *prom.Receiver
	publish   *ingest.Publisher
	daemon    *ingest.Daemon
	api       *prom.API
	// queryable is what PromQL reads: the store, a remote query API
	// (--metrics-query-url) or both; nil in a worker without a remote.
	queryable storage.Queryable
	// storage is where every ingest path appends: the store, teed to the
	// remote-write queues when --metrics-remote-write is set.
	storage prom.Appendable
	remote  *remoteWriters // nil without --metrics-remote-write
	page    *ui.Page       // the metrics page, once Pages has run
	ingest  rateMeter      // the overview's ingest rate (overview.go)

	mu      sync.Mutex
	stop    chan struct{}
	wg      sync.WaitGroup
	demoRun bool
}

// New opens the store (except in `gaffer worker`, which does not own it)
// and builds the query engine and ingest paths. Background work
// (compaction, spectatord, the live demo) begins in Start.
func New(_ context.Context, deps *platform.Deps) (platform.Service, error) {
	set := platform.SettingOr(deps, Name, DefaultSettings)
	opts, err := set.options()
	if err != nil {
		return nil, err
	}
	s := &Service{log: deps.Log.With("system", Name), set: set, dir: set.Path, now: deps.Clock(), demoStart: deps.DemoStart}
	if s.dir == "" {
		s.dir = filepath.Join(deps.DataDir, "tsdb")
	}
	s.engine = promql.NewEngine(promql.EngineOpts{
		Logger: s.log, MaxSamples: set.QueryMaxSamples, Timeout: set.QueryTimeout,
		LookbackDelta: set.LookbackDelta, EnableAtModifier: true, EnableNegativeOffset: true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return set.QueryLimits.SubqueryStep.Milliseconds() },
	})
	s.limiter = prom.NewLimiter(set.QueryLimits)
	if deps.Worker {
		// A worker has no store; with a remote it still answers queries.
		if s.queryable, err = set.Query.queryable(nil, deps.Egress); err != nil {
			return nil, err
		}
		return s, nil
	}
	opts.Logger = s.log
	opts.Now = deps.Now
	opts.CompactInterval = -1 // Start runs compaction
	if s.db, err = tsdb.Open(s.dir, opts); err != nil {
		return nil, fmt.Errorf("open the time-series store: %w", err)
	}
	var storage prom.Appendable = prom.DBAppendable{DB: s.db}
	if s.remote, err = openRemoteWrite(&set.RemoteWrite, deps, s.log); err != nil {
		s.db.Close()
		return nil, err
	}
	if s.remote != nil {
		storage = remotewrite.Tee{Storage: storage, Sink: s.remote.sink()}
	}
	s.storage = storage
	s.receiver = &prom.Receiver{Storage: storage, Log: s.log, Limits: set.WriteLimits, Now: s.now}
	s.publish = &ingest.Publisher{Storage: storage, Rules: ingest.DefaultAtlasRules, MaxAge: set.PublishMaxAge}
	tags, err := set.commonTags()
	if err != nil {
		s.stopRemoteWrite()
		s.db.Close()
		return nil, err
	}
	s.daemon = &ingest.Daemon{Registry: &ingest.Registry{Common: tags, MeterTTL: set.SpectatordMeterTTL},
		Storage: storage, Step: set.SpectatordStep, Log: s.log}
	if s.queryable, err = set.Query.queryable(prom.Queryable{DB: s.db}, deps.Egress); err != nil {
		s.stopRemoteWrite()
		s.db.Close()
		return nil, err
	}
	s.api = &prom.API{Queryable: s.queryable, Engine: s.engine, Limiter: s.limiter, Scope: ReadScope, Now: s.now}
	return s, nil
}

// Start begins compaction, the spectatord listeners and publisher.
func (s *Service) Start(context.Context) error {
	if s.db == nil {
		return nil
	}
	s.mu.Lock()
	s.stop = make(chan struct{})
	stop := s.stop
	s.mu.Unlock()
	s.ingest.observe(s.now(), s.db.SamplesAppended(), ingestWindow)
	if s.remote != nil {
		s.remote.start()
	}
	s.wg.Add(1)
	go s.compactLoop(time.Minute, stop)
	if s.set.SpectatordUDP != "" {
		addr, err := s.daemon.ListenUDP(s.set.SpectatordUDP)
		if err != nil {
			return err
		}
		s.log.Info("spectatord protocol on UDP", "addr", addr.String())
	}
	if s.set.SpectatordUnix != "" {
		if err := s.daemon.ListenUnix(s.set.SpectatordUnix, s.set.SpectatordUnixMode); err != nil {
			return err
		}
		s.log.Info("spectatord protocol on a unix socket", "path", s.set.SpectatordUnix,
			"mode", fmt.Sprintf("%#o", uint32(s.set.SpectatordUnixMode)))
		if s.set.SpectatordUnixMode&0o002 != 0 {
			s.log.Warn("any local user may send metrics to the spectatord unix socket (--spectatord-unix-mode allows others to write)",
				"path", s.set.SpectatordUnix)
		}
	}
	if s.set.SpectatordUDP != "" || s.set.SpectatordUnix != "" {
		s.daemon.Start()
	}
	return nil
}

func (s *Service) compactLoop(every time.Duration, stop chan struct{}) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := s.db.Compact(); err != nil {
				s.log.Error("tsdb compaction failed; retrying at the next tick", "error", err)
			}
		}
	}
}

// Stop ends background work and closes the store (the WAL restores the
// in-memory head at the next start).
func (s *Service) Stop(context.Context) error {
	if s.db == nil {
		return nil
	}
	s.daemon.Close()
	s.mu.Lock()
	if s.stop != nil {
		close(s.stop)
		s.stop = nil
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.stopRemoteWrite()
	err := s.db.Close()
	return err
}

// stopRemoteWrite stops the senders and closes their queues; what is not
// sent stays on disk for the next start.
func (s *Service) stopRemoteWrite() {
	if s.remote != nil {
		s.remote.stop()
	}
}

// Health reports whether the store is open.
func (s *Service) Health(context.Context) error {
	if s.db == nil {
		return nil // a worker has no store to be unhealthy
	}
	q, err := s.db.Querier(0, 0)
	if err != nil {
		return fmt.Errorf("tsdb: %w", err)
	}
	return q.Close()
}

// DB returns the store itself, or nil in `gaffer worker`.
func (s *Service) DB() *tsdb.DB { return s.db }

// Queryable returns what PromQL reads as a Prometheus storage.Queryable:
// the store, or with --metrics-query-url the remote (or both merged).
func (s *Service) Queryable() storage.Queryable { return s.queryable }

// ReadsRemote reports whether the service reads a remote backend
// (--metrics-query-url), alone or merged with the store.
func (s *Service) ReadsRemote() bool { return s.set.Query.URL != "" }

// Engine returns the PromQL engine the HTTP API uses.
func (s *Service) Engine() *promql.Engine { return s.engine }

// Query evaluates a PromQL expression at t, admitted by the query limits
// (--metrics-query-max-concurrency and the others) like an API query.
func (s *Service) Query(ctx context.Context, expr string, t time.Time) (prom.Result, error) {
	if s.queryable == nil {
		return prom.Result{}, ErrNotOpen
	}
	release, err := s.limiter.Admit(ctx, expr, t, t)
	if err != nil {
		return prom.Result{}, fmt.Errorf("query %q: %w", expr, err)
	}
	defer release()
	q, err := s.engine.NewInstantQuery(ctx, s.Queryable(), nil, expr, t)
	if err != nil {
		return prom.Result{}, fmt.Errorf("query %q: %w", expr, err)
	}
	defer q.Close()
	return result(q.Exec(ctx), expr)
}

// QueryRange evaluates a PromQL expression from start to end every step,
// admitted by the query limits like an API query.
func (s *Service) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (prom.Result, error) {
	if s.queryable == nil {
		return prom.Result{}, ErrNotOpen
	}
	release, err := s.limiter.Admit(ctx, expr, start, end)
	if err != nil {
		return prom.Result{}, fmt.Errorf("query %q: %w", expr, err)
	}
	defer release()
	q, err := s.engine.NewRangeQuery(ctx, s.Queryable(), nil, expr, start, end, step)
	if err != nil {
		return prom.Result{}, fmt.Errorf("query %q: %w", expr, err)
	}
	defer q.Close()
	return result(q.Exec(ctx), expr)
}

func result(res *promql.Result, expr string) (prom.Result, error) {
	if res.Err != nil {
		return prom.Result{}, fmt.Errorf("evaluate %q: %w", expr, res.Err)
	}
	out := prom.ResultFromValue(res.Value)
	out.Warnings, out.Infos = res.Warnings.AsStrings(expr, 10, 10)
	return out, nil
}

// Append stores series as one batch with the same rules as remote write
// (see prom.Store).
func (s *Service) Append(_ context.Context, series []prom.TimeSeries) (prom.StoreResult, error) {
	if s.db == nil {
		return prom.StoreResult{}, ErrNotOpen
	}
	return prom.Store(s.storage, series)
}
