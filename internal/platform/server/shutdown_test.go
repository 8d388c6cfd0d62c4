package server_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// slowService is a test system with a slow route and a slow job kind.
type slowService struct {
	finished *atomic.Int32
}

func (slowService) Start(context.Context) error  { return nil }
func (slowService) Stop(context.Context) error   { return nil }
func (slowService) Health(context.Context) error { return nil }
func (s slowService) Routes(r *httpapi.Router) {
	r.Handle(httpapi.Route{Method: "GET", Path: "/api/v1/slowtest", Scope: "slowtest:read", Summary: "slow",
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			time.Sleep(500 * time.Millisecond)
			return httpapi.WriteJSON(w, 200, map[string]string{"ok": "yes"})
		}})
}

var slowJobsFinished atomic.Int32

func init() {
	platform.Register(platform.Module{Name: "slowtest", New: func(ctx context.Context, d *platform.Deps) (platform.Service, error) {
		jobs.HandleFunc(d.Jobs, "slowtest.sleep", jobs.KindOptions{}, func(ctx context.Context, j *jobs.Job, a struct {
			MS int `json:"ms"`
		}) error {
			select {
			case <-time.After(time.Duration(a.MS) * time.Millisecond):
				slowJobsFinished.Add(1)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		return slowService{finished: &slowJobsFinished}, nil
	}})
}

func TestShutdownFinishesInFlightRequestsAndJobs(t *testing.T) {
	slowJobsFinished.Store(0)
	srv := platformtest.Start(t, platformtest.Options{})
	job, err := srv.Deps().Jobs.Enqueue(context.Background(), "slowtest.sleep", map[string]int{"ms": 800}, nil)
	if err != nil {
		t.Fatal(err)
	}
	platformtest.Eventually(t, "job to start", func() bool {
		in, err := srv.Deps().Jobs.Get(context.Background(), job.ID)
		return err == nil && in.State == jobs.StateRunning
	})
	status := make(chan int, 1)
	token := srv.Token("slowtest:read")
	go func() {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/slowtest", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- -1
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // let the request arrive
	if err := srv.Shutdown(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if got := <-status; got != 200 {
		t.Fatalf("in-flight request got %d, want 200", got)
	}
	if slowJobsFinished.Load() != 1 {
		t.Fatalf("running job did not finish before shutdown returned")
	}
}

func TestShutdownTimeoutRequeuesRunningJobs(t *testing.T) {
	slowJobsFinished.Store(0)
	dir := t.TempDir()
	short := func(c *server.Config) { c.ShutdownTimeout = 200 * time.Millisecond }
	srv := platformtest.Start(t, platformtest.Options{DataDir: dir, Configure: short})
	job, err := srv.Deps().Jobs.Enqueue(context.Background(), "slowtest.sleep", map[string]int{"ms": 1500}, &jobs.EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	platformtest.Eventually(t, "job to start", func() bool {
		in, err := srv.Deps().Jobs.Get(context.Background(), job.ID)
		return err == nil && in.State == jobs.StateRunning
	})
	srv.Shutdown()
	if slowJobsFinished.Load() != 0 {
		t.Fatal("job finished although the shutdown timeout was shorter")
	}
	// The interrupted job runs again on the next start and completes.
	srv2 := platformtest.Start(t, platformtest.Options{DataDir: dir})
	srv2.Deps().Jobs.Retry(context.Background(), job.ID) // skip the backoff
	platformtest.Eventually(t, "re-queued job to complete", func() bool {
		in, err := srv2.Deps().Jobs.Get(context.Background(), job.ID)
		return err == nil && in.State == jobs.StateCompleted
	})
}
