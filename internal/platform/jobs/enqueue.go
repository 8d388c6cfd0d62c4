package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// EnqueueOptions adjust one enqueued job; the zero value uses the kind's
// defaults.
type EnqueueOptions struct {
	// At schedules the job for later.
	At time.Time
	// Queue overrides the kind's queue.
	Queue string
	// MaxAttempts overrides the kind's attempts.
	MaxAttempts int
	// Priority from 1 (first) to 4 (last); default 1.
	Priority int
	// UniqueByArgs makes the job unique among live jobs of its kind with
	// the same arguments: a duplicate is not inserted and the existing
	// job's ID is returned.
	UniqueByArgs bool
	// UniquePeriod, with UniqueByArgs, limits uniqueness to a time bucket
	// of this length (e.g. one per hour).
	UniquePeriod time.Duration
	// Tags label the job for the jobs page.
	Tags []string
}

// Enqueued is the result of an enqueue.
type Enqueued struct {
	ID int64 `json:"id"`
	// Duplicate is true when a unique job already existed.
	Duplicate bool `json:"duplicate"`
}

func (q *Queue) insertParams(kind string, args any, o *EnqueueOptions) (river.JobArgs, *river.InsertOpts, error) {
	q.mu.Lock()
	ko, ok := q.kinds[kind]
	q.mu.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("jobs: unknown job kind %q", kind)
	}
	var raw json.RawMessage
	switch a := args.(type) {
	case json.RawMessage:
		raw = a
	case []byte:
		raw = a
	default:
		b, err := json.Marshal(args)
		if err != nil {
			return nil, nil, fmt.Errorf("jobs: encode %s arguments: %w", kind, err)
		}
		raw = b
	}
	if !json.Valid(raw) {
		return nil, nil, fmt.Errorf("jobs: %s arguments are not valid JSON", kind)
	}
	opts := &river.InsertOpts{Queue: ko.Queue, MaxAttempts: ko.MaxAttempts}
	if o != nil {
		if o.Queue != "" {
			opts.Queue = o.Queue
		}
		if o.MaxAttempts > 0 {
			opts.MaxAttempts = o.MaxAttempts
		}
		opts.Priority = o.Priority
		opts.ScheduledAt = o.At
		opts.Tags = o.Tags
		if o.UniqueByArgs {
			opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByPeriod: o.UniquePeriod}
		}
	}
	return rawArgs{kind: kind, raw: raw}, opts, nil
}

// Enqueue adds a job of a registered kind. args is any JSON-encodable value
// (or json.RawMessage).
func (q *Queue) Enqueue(ctx context.Context, kind string, args any, o *EnqueueOptions) (Enqueued, error) {
	client, err := q.riverClient()
	if err != nil {
		return Enqueued{}, err
	}
	a, opts, err := q.insertParams(kind, args, o)
	if err != nil {
		return Enqueued{}, err
	}
	res, err := client.Insert(ctx, a, opts)
	if err != nil {
		return Enqueued{}, fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return Enqueued{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// EnqueueTx adds a job inside tx: it exists if and only if tx commits.
func (q *Queue) EnqueueTx(ctx context.Context, tx *store.Tx, kind string, args any, o *EnqueueOptions) (Enqueued, error) {
	client, err := q.riverClient()
	if err != nil {
		return Enqueued{}, err
	}
	a, opts, err := q.insertParams(kind, args, o)
	if err != nil {
		return Enqueued{}, err
	}
	res, err := client.InsertTx(ctx, tx.Tx, a, opts)
	if err != nil {
		return Enqueued{}, fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	return Enqueued{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// Batch is one job of an EnqueueMany call.
type Batch struct {
	Kind string
	Args any
	Opts *EnqueueOptions
}

// EnqueueMany adds several jobs at once.
func (q *Queue) EnqueueMany(ctx context.Context, batch []Batch) ([]Enqueued, error) {
	client, err := q.riverClient()
	if err != nil {
		return nil, err
	}
	params := make([]river.InsertManyParams, 0, len(batch))
	for _, b := range batch {
		a, opts, err := q.insertParams(b.Kind, b.Args, b.Opts)
		if err != nil {
			return nil, err
		}
		params = append(params, river.InsertManyParams{Args: a, InsertOpts: opts})
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: enqueue %d jobs: %w", len(batch), err)
	}
	out := make([]Enqueued, len(res))
	for i, r := range res {
		out[i] = Enqueued{ID: r.Job.ID, Duplicate: r.UniqueSkippedAsDuplicate}
	}
	return out, nil
}
