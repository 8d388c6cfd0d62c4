package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

type greeting struct {
	Name string `json:"name"`
}

func newQueue(t *testing.T, s *store.Store) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(context.Background(), s, jobs.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("new queue: %v", err)
	}
	return q
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestQueueOnEveryBackend(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			q := newQueue(t, s)
			got := make(chan string, 10)
			jobs.HandleFunc(q, "greet", jobs.KindOptions{}, func(ctx context.Context, j *jobs.Job, a greeting) error {
				got <- a.Name
				return nil
			})
			var failures atomic.Int32
			q.Handle("always-fails", func(ctx context.Context, j *jobs.Job) error {
				failures.Add(1)
				return errors.New("target down")
			}, jobs.KindOptions{MaxAttempts: 2, Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
			var ticks atomic.Int32
			q.Handle("tick", func(ctx context.Context, j *jobs.Job) error { ticks.Add(1); return nil }, jobs.KindOptions{})
			if err := q.Every("tick", time.Hour, map[string]any{}, true); err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx, true); err != nil {
				t.Fatal(err)
			}
			defer q.Stop(ctx)

			if _, err := q.Enqueue(ctx, "greet", greeting{Name: "ada"}, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case name := <-got:
				if name != "ada" {
					t.Fatalf("handler got %q", name)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("job not worked")
			}

			// Unique jobs: the second enqueue returns the first job.
			at := time.Now().Add(time.Hour)
			first, err := q.Enqueue(ctx, "greet", greeting{Name: "later"}, &jobs.EnqueueOptions{At: at, UniqueByArgs: true})
			if err != nil {
				t.Fatal(err)
			}
			second, err := q.Enqueue(ctx, "greet", greeting{Name: "later"}, &jobs.EnqueueOptions{At: at, UniqueByArgs: true})
			if err != nil {
				t.Fatal(err)
			}
			if !second.Duplicate || second.ID != first.ID {
				t.Fatalf("unique enqueue = %+v, first = %+v", second, first)
			}
			info, err := q.Get(ctx, first.ID)
			if err != nil || info.State != jobs.StateScheduled {
				t.Fatalf("scheduled job = %+v, %v", info, err)
			}

			// Transactional enqueue: rolled back means never enqueued.
			var rolledBack int64
			s.InTx(ctx, func(tx *store.Tx) error {
				e, err := q.EnqueueTx(ctx, tx, "greet", greeting{Name: "ghost"}, nil)
				rolledBack = e.ID
				if err != nil {
					t.Fatal(err)
				}
				return errors.New("abort")
			})
			if _, err := q.Get(ctx, rolledBack); !errors.Is(err, jobs.ErrNotFound) {
				t.Fatalf("rolled-back job: err = %v, want not found", err)
			}

			// Failing jobs are retried, then land in the dead list, from
			// where a retry runs them again.
			dead, err := q.Enqueue(ctx, "always-fails", map[string]int{"n": 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "job discarded", func() bool {
				in, err := q.Get(ctx, dead.ID)
				return err == nil && in.State == jobs.StateDiscarded
			})
			if n := failures.Load(); n != 2 {
				t.Fatalf("attempts = %d, want 2", n)
			}
			list, err := q.List(ctx, jobs.ListFilter{States: jobs.DeadStates})
			if err != nil || len(list.Jobs) != 1 || list.Jobs[0].ID != dead.ID || len(list.Jobs[0].Errors) != 2 {
				t.Fatalf("dead list = %+v, %v", list, err)
			}
			if _, err := q.Retry(ctx, dead.ID); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "retried job to run", func() bool { return failures.Load() >= 3 })

			waitFor(t, "periodic job to run on start", func() bool { return ticks.Load() >= 1 })

			if _, err := q.Enqueue(ctx, "no-such-kind", nil, nil); err == nil {
				t.Fatal("enqueue of unknown kind succeeded")
			}
			if _, err := q.List(ctx, jobs.ListFilter{States: []string{"bogus"}}); err == nil {
				t.Fatal("list with bogus state succeeded")
			}
		})
	}
}

// TestShortRescueAfter checks a queue may rescue stuck jobs sooner than
// the default attempt timeout of a minute (River refuses a rescue delay
// under the job timeout).
func TestShortRescueAfter(t *testing.T) {
	ctx := context.Background()
	q, err := jobs.New(ctx, storetest.SQLite(t), jobs.Options{PollInterval: 20 * time.Millisecond, RescueAfter: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 1)
	q.Handle("quick", func(context.Context, *jobs.Job) error { done <- struct{}{}; return nil }, jobs.KindOptions{})
	if err := q.Start(ctx, true); err != nil {
		t.Fatalf("start with a 3s rescue: %v", err)
	}
	defer q.Stop(ctx)
	if _, err := q.Enqueue(ctx, "quick", struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("job did not run")
	}
}
