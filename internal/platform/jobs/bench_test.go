package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// The job benchmarks report jobs/s for no-op jobs:
//
//	go test -run XXX -bench 'Jobs' -benchtime 20000x ./internal/platform/jobs/
//
// EnqueueThenWork times only the working of a backlog (how rq measures
// its workers); EnqueueAndWork times enqueueing and working together.
func BenchmarkJobsEnqueueThenWork(b *testing.B) { benchJobs(b, false) }

// BenchmarkJobsEnqueueAndWork times enqueueing and working concurrently.
func BenchmarkJobsEnqueueAndWork(b *testing.B) { benchJobs(b, true) }

func benchJobs(b *testing.B, timeEnqueue bool) {
	for _, backend := range storetest.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			ctx := context.Background()
			s := backend.Open(b)
			q, err := jobs.New(ctx, s, jobs.Options{PollInterval: 50 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			var done atomic.Int64
			q.Handle("noop", func(context.Context, *jobs.Job) error { done.Add(1); return nil }, jobs.KindOptions{})
			enqueue := func() {
				const batch = 1000
				for i := 0; i < b.N; i += batch {
					items := make([]jobs.Batch, min(batch, b.N-i))
					for j := range items {
						items[j] = jobs.Batch{Kind: "noop", Args: struct{}{}}
					}
					if _, err := q.EnqueueMany(ctx, items); err != nil {
						b.Fatal(err)
					}
				}
			}
			if !timeEnqueue {
				// Enqueue with an insert-only queue, then time the work.
				if err := q.Start(ctx, false); err != nil {
					b.Fatal(err)
				}
				enqueue()
				q2, err := jobs.New(ctx, s, jobs.Options{PollInterval: 50 * time.Millisecond})
				if err != nil {
					b.Fatal(err)
				}
				q2.Handle("noop", func(context.Context, *jobs.Job) error { done.Add(1); return nil }, jobs.KindOptions{})
				q = q2
				b.ResetTimer()
			}
			if err := q.Start(ctx, true); err != nil {
				b.Fatal(err)
			}
			defer q.Stop(ctx)
			if timeEnqueue {
				b.ResetTimer()
				enqueue()
			}
			for done.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
