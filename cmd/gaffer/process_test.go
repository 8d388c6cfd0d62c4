package main

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// TestServeExitsCleanlyOnSIGTERM runs the real binary and stops it the way
// a service manager does.
func TestServeExitsCleanlyOnSIGTERM(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	p := platformtest.StartServe(t, bin, t.TempDir())
	if err := p.Signal(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, p.Log())
	}
	if !strings.Contains(p.Log(), "shutting down") {
		t.Fatalf("no shutdown in log:\n%s", p.Log())
	}
}

// TestWorkersShareTheQueue runs an API-only `gaffer serve` (no job
// workers) and two `gaffer worker` processes on one data directory, and
// shows both workers work queued jobs and together complete all of them.
func TestWorkersShareTheQueue(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	serve := platformtest.StartServe(t, bin, dir, "--job-workers", "0")
	var workers []*platformtest.Process
	for i := 0; i < 2; i++ {
		// Few slots each, so that no worker can take the whole backlog
		// in the time the other takes to poll.
		w := platformtest.StartProcess(t, bin, "worker", "--data-dir", dir, "--job-poll-interval", "20ms", "--job-workers", "5")
		platformtest.Eventually(t, "worker to be ready", func() bool { return strings.Contains(w.Log(), "worker is ready") })
		workers = append(workers, w)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "gaffer.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err := jobs.New(ctx, st, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q.Handle(server.NoopJob, func(context.Context, *jobs.Job) error { return nil }, jobs.KindOptions{})
	if err := q.Start(ctx, false); err != nil {
		t.Fatal(err)
	}
	batch := make([]jobs.Batch, 2000)
	for i := range batch {
		batch[i] = jobs.Batch{Kind: server.NoopJob, Args: map[string]int{"i": i}}
	}
	if _, err := q.EnqueueMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	byClient := map[string]int{}
	platformtest.Eventually(t, "all jobs to complete", func() bool {
		var pending int
		st.QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = ? AND state <> 'completed'", server.NoopJob).Scan(&pending)
		return pending == 0
	})
	rows, err := st.QueryContext(ctx, "SELECT attempted_by FROM river_job WHERE kind = ?", server.NoopJob)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var by string
		rows.Scan(&by)
		byClient[by]++
	}
	rows.Close()
	if len(byClient) != 2 {
		t.Fatalf("jobs were worked by %d process(es), want the 2 workers: %v", len(byClient), byClient)
	}
	for _, w := range workers {
		if err := w.Signal(t, syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatalf("worker exit: %v", err)
		}
	}
	serve.Signal(t, syscall.SIGTERM, 30*time.Second)
}
