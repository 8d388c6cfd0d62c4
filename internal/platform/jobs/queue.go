package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// Job is a unit of background work as its handler sees it.
type Job struct {
	ID          int64
	Kind        string
	Args        json.RawMessage
	Attempt     int
	MaxAttempts int
	Queue       string
	CreatedAt   time.Time
}

// Handler does the work of one job. Returning an error schedules a retry
// with backoff until the kind's attempts run out; Cancel(err) stops retries.
type Handler func(ctx context.Context, job *Job) error

// KindOptions configure a job kind.
type KindOptions struct {
	// MaxAttempts before the job is discarded (default 10).
	MaxAttempts int
	// Timeout of one attempt (default 1 minute; -1 for none).
	Timeout time.Duration
	// Queue the kind's jobs go to by default ("default").
	Queue string
	// Backoff returns the delay before the given attempt's retry; by default
	// River's exponential backoff (attempt^4 seconds, with jitter).
	Backoff func(attempt int) time.Duration
	// RetryDelay, when set, replaces Backoff for kinds whose delay depends
	// on the job itself (a retry policy carried in its arguments). The job
	// is the one that just failed.
	RetryDelay func(job *Job) time.Duration
	// GiveUp, when set, is called once a job of the kind will not run
	// again: its last attempt failed (or panicked), or it was cancelled.
	// It lets a kind record the failure where people look (a report, an
	// execution) instead of leaving it only in the dead list. ctx outlives
	// the attempt's own deadline by a few seconds.
	GiveUp func(ctx context.Context, job *Job, err error)
	// FromRules lets events rules' job actions enqueue the kind. A rule's
	// author needs only events:write, so a kind says so only when what
	// its jobs do is what that author may ask for (start a workflow or a
	// runbook, which keep their own checks); other kinds — a step's
	// result, a run on an agent — stay the systems' own.
	FromRules bool
}

// Options configure a Queue.
type Options struct {
	// Workers is how many jobs of the default queue this process runs at
	// once (default 500: goroutines are cheap, and fewer leave the no-op
	// throughput bound by fetch round trips — 100 workers did 4,900
	// jobs/s on SQLite, 500 did 12,800).
	Workers int
	// QueueWorkers sets the concurrency of other queues, for kinds whose
	// jobs are heavy (default: Workers).
	QueueWorkers map[string]int
	// PollInterval is how often the queue looks for jobs enqueued by other
	// processes or in transactions (default 100ms). Jobs enqueued through
	// this process outside a transaction start at once.
	PollInterval time.Duration
	// RescueAfter is how long a job may stay "running" before it is
	// considered abandoned by a dead process and run again (default 2
	// minutes; at least the longest kind timeout). Below a minute it also
	// lowers the default attempt timeout to itself, as River requires.
	// The elected leader looks for such jobs every 30 seconds.
	RescueAfter time.Duration
	// Retention of finished jobs: completed (default 24h) and discarded or
	// cancelled ones, the dead list (default 7 days).
	CompletedRetention time.Duration
	DeadRetention      time.Duration
	Log                *slog.Logger
	// Observe, when set, is told how each job attempt ended: its kind,
	// its error (nil for success) and how long it ran.
	Observe func(kind string, err error, elapsed time.Duration)
}

// Queue is the job system of one process.
type Queue struct {
	store *store.Store
	opts  Options
	log   *slog.Logger

	mu       sync.Mutex
	kinds    map[string]KindOptions
	handlers map[string]Handler
	periodic []periodicJob
	client   *river.Client[*sql.Tx]
	working  bool
}

// New prepares River's tables on s and returns a queue to which systems
// add their kinds before Start.
func New(ctx context.Context, s *store.Store, o Options) (*Queue, error) {
	if o.Workers <= 0 {
		o.Workers = 500
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = 2 * time.Minute
	}
	if o.CompletedRetention <= 0 {
		o.CompletedRetention = 24 * time.Hour
	}
	if o.DeadRetention <= 0 {
		o.DeadRetention = 7 * 24 * time.Hour
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	q := &Queue{store: s, opts: o, log: o.Log, kinds: map[string]KindOptions{}, handlers: map[string]Handler{}}
	if err := q.migrate(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) driver() riverdriver.Driver[*sql.Tx] {
	if q.store.Dialect == store.Postgres {
		return riverdatabasesql.New(q.store.DB)
	}
	return riversqlite.New(q.store.DB)
}

func (q *Queue) migrate(ctx context.Context) error {
	m, err := rivermigrate.New(q.driver(), &rivermigrate.Config{Logger: quietLogger(q.log)})
	if err != nil {
		return fmt.Errorf("jobs: prepare migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate river tables: %w", err)
	}
	return nil
}

// quietLogger drops River's info-level chatter from Gaffer's log.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{Handler: l.Handler(), min: slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

// Handle registers the handler of a job kind. It must be called before
// Start; registering a kind twice panics (a programming error).
func (q *Queue) Handle(kind string, h Handler, o KindOptions) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.client != nil {
		panic("jobs: Handle(" + kind + ") after Start")
	}
	if _, dup := q.handlers[kind]; dup {
		panic("jobs: kind " + kind + " registered twice")
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Queue == "" {
		o.Queue = river.QueueDefault
	}
	q.kinds[kind] = o
	q.handlers[kind] = h
}

// HandleFunc registers a handler whose arguments are decoded into T.
func HandleFunc[T any](q *Queue, kind string, o KindOptions, h func(ctx context.Context, job *Job, args T) error) {
	q.Handle(kind, func(ctx context.Context, job *Job) error {
		var args T
		if err := json.Unmarshal(job.Args, &args); err != nil {
			return Cancel(fmt.Errorf("job %d (%s): decode arguments: %w", job.ID, kind, err))
		}
		return h(ctx, job, args)
	}, o)
}

// Kinds returns the registered kinds, sorted.
func (q *Queue) Kinds() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]string, 0, len(q.kinds))
	for k := range q.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// HasKind reports whether kind is registered.
func (q *Queue) HasKind(kind string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.kinds[kind]
	return ok
}

// FromRules reports whether events rules may enqueue jobs of kind.
func (q *Queue) FromRules(kind string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.kinds[kind].FromRules
}

// RuleKinds lists, sorted, the kinds events rules may enqueue.
func (q *Queue) RuleKinds() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for k, o := range q.kinds {
		if o.FromRules {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Cancel wraps err so the job is not retried.
func Cancel(err error) error { return river.JobCancel(err) }

// Start begins working jobs when work is true; otherwise the queue only
// enqueues (a server running without the jobs role).
func (q *Queue) Start(ctx context.Context, work bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.client != nil {
		return errors.New("jobs: already started")
	}
	cfg := &river.Config{
		Logger:                      quietLogger(q.log),
		FetchCooldown:               min(q.opts.PollInterval, 20*time.Millisecond),
		FetchPollInterval:           q.opts.PollInterval,
		RescueStuckJobsAfter:        q.opts.RescueAfter,
		CompletedJobRetentionPeriod: q.opts.CompletedRetention,
		DiscardedJobRetentionPeriod: q.opts.DeadRetention,
		CancelledJobRetentionPeriod: q.opts.DeadRetention,
		JobTimeout:                  min(time.Minute, q.opts.RescueAfter),
		MaxAttempts:                 10,
	}
	if work {
		workers := river.NewWorkers()
		queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.opts.Workers}}
		for kind, o := range q.kinds {
			river.AddWorkerArgs(workers, rawArgs{kind: kind}, &worker{queue: q, kind: kind, opts: o})
			if _, ok := queues[o.Queue]; !ok {
				n := q.opts.QueueWorkers[o.Queue]
				if n <= 0 {
					n = q.opts.Workers
				}
				queues[o.Queue] = river.QueueConfig{MaxWorkers: n}
			}
		}
		cfg.Workers, cfg.Queues = workers, queues
		cfg.PeriodicJobs = q.riverPeriodicJobs()
	}
	client, err := river.NewClient(q.driver(), cfg)
	if err != nil {
		return fmt.Errorf("jobs: create river client: %w", err)
	}
	if work {
		if err := client.Start(ctx); err != nil {
			return fmt.Errorf("jobs: start: %w", err)
		}
	}
	q.client, q.working = client, work
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them; a
// cancelled job is retried later by whichever worker picks it up.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	client, working := q.client, q.working
	q.mu.Unlock()
	if client == nil || !working {
		return nil
	}
	err := client.Stop(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = client.StopAndCancel(hard)
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

func (q *Queue) riverClient() (*river.Client[*sql.Tx], error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.client == nil {
		return nil, errors.New("jobs: queue not started")
	}
	return q.client, nil
}

// rawArgs carries a job's JSON arguments under a kind chosen at run time.
type rawArgs struct {
	kind string
	raw  json.RawMessage
}

func (a rawArgs) Kind() string { return a.kind }

func (a rawArgs) MarshalJSON() ([]byte, error) {
	if len(a.raw) == 0 {
		return []byte("{}"), nil
	}
	return a.raw, nil
}

func (a *rawArgs) UnmarshalJSON(b []byte) error {
	a.raw = append(a.raw[:0], b...)
	return nil
}

type worker struct {
	river.WorkerDefaults[rawArgs]
	queue *Queue
	kind  string
	opts  KindOptions
}

func (w *worker) Timeout(*river.Job[rawArgs]) time.Duration {
	return w.opts.Timeout
}

func (w *worker) NextRetry(job *river.Job[rawArgs]) time.Time {
	if w.opts.RetryDelay != nil {
		return time.Now().Add(w.opts.RetryDelay(jobFrom(job)))
	}
	if w.opts.Backoff == nil {
		return time.Time{} // River's default policy
	}
	return time.Now().Add(w.opts.Backoff(job.Attempt))
}

func jobFrom(job *river.Job[rawArgs]) *Job {
	return &Job{ID: job.ID, Kind: job.Kind, Args: job.Args.raw, Attempt: job.Attempt,
		MaxAttempts: job.MaxAttempts, Queue: job.Queue, CreatedAt: job.CreatedAt}
}

func (w *worker) Work(ctx context.Context, job *river.Job[rawArgs]) (err error) {
	w.queue.mu.Lock()
	h := w.queue.handlers[w.kind]
	w.queue.mu.Unlock()
	if obs := w.queue.opts.Observe; obs != nil {
		start := time.Now()
		defer func() { obs(w.kind, err, time.Since(start)) }()
	}
	j := jobFrom(job)
	if w.opts.GiveUp != nil {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("job %d (%s) panicked: %v\n%s", j.ID, w.kind, r, debug.Stack())
			}
			if err != nil && lastAttempt(j, err) {
				gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), giveUpTimeout)
				defer cancel()
				w.opts.GiveUp(gctx, j, withoutCancel(err))
			}
		}()
	}
	return h(ctx, j)
}

// withoutCancel returns the cause of a Cancel, or err.
func withoutCancel(err error) error {
	var cancel *river.JobCancelError
	if errors.As(err, &cancel) && cancel.Unwrap() != nil {
		return cancel.Unwrap()
	}
	return err
}

// giveUpTimeout bounds a GiveUp callback.
const giveUpTimeout = 10 * time.Second

// lastAttempt reports whether a job that failed with err will not be
// retried: cancelled, or out of attempts. A snooze is not a failure.
func lastAttempt(j *Job, err error) bool {
	var snooze *river.JobSnoozeError
	if errors.As(err, &snooze) {
		return false
	}
	var cancel *river.JobCancelError
	return errors.As(err, &cancel) || j.Attempt >= j.MaxAttempts
}

var _ river.Worker[rawArgs] = (*worker)(nil)
