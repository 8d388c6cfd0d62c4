package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
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
			slowRequestArrived <- struct{}{}
			if !untilShutdownBegins(r.Context(), r.Host) {
				return httpapi.WriteJSON(w, 500, map[string]string{"error": "the server did not begin to shut down"})
			}
			return httpapi.WriteJSON(w, 200, map[string]string{"ok": "yes"})
		}})
}

// slowRequestArrived receives once per /api/v1/slowtest request, when
// the handler has begun.
var slowRequestArrived = make(chan struct{}, 1)

// untilShutdownBegins waits until addr refuses new connections (the HTTP
// server closes its listener first when it shuts down), or ctx is done,
// or 30 s pass; it reports whether the listener closed.
func untilShutdownBegins(ctx context.Context, addr string) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false
}

var slowJobsFinished, slowHoldRuns atomic.Int32

func init() {
	platform.Register(platform.Module{Name: "slowtest", New: func(ctx context.Context, d *platform.Deps) (platform.Service, error) {
		// A slowtest.hold job's first run in this process waits until
		// the server at Addr begins to shut down, then, with Hold, until
		// it is cancelled; later runs finish at once. (A shutdown puts
		// an interrupted job back as never attempted, so Job.Attempt
		// cannot tell the runs apart.)
		jobs.HandleFunc(d.Jobs, "slowtest.hold", jobs.KindOptions{}, func(ctx context.Context, j *jobs.Job, a struct {
			Addr string `json:"addr"`
			Hold bool   `json:"hold"`
		}) error {
			if slowHoldRuns.Add(1) == 1 {
				if !untilShutdownBegins(ctx, a.Addr) {
					return fmt.Errorf("the server did not begin to shut down: %w", ctx.Err())
				}
				if a.Hold {
					<-ctx.Done()
					return ctx.Err()
				}
			}
			slowJobsFinished.Add(1)
			return nil
		})
		return slowService{finished: &slowJobsFinished}, nil
	}})
}

func TestShutdownFinishesInFlightRequestsAndJobs(t *testing.T) {
	slowJobsFinished.Store(0)
	slowHoldRuns.Store(0)
	srv := platformtest.Start(t, platformtest.Options{})
	addr := strings.TrimPrefix(srv.URL, "http://")
	job, err := srv.Deps().Jobs.Enqueue(context.Background(), "slowtest.hold", map[string]any{"addr": addr}, nil)
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
	<-slowRequestArrived
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
	slowHoldRuns.Store(0)
	dir := t.TempDir()
	short := func(c *server.Config) { c.ShutdownTimeout = 200 * time.Millisecond }
	srv := platformtest.Start(t, platformtest.Options{DataDir: dir, Configure: short})
	addr := strings.TrimPrefix(srv.URL, "http://")
	job, err := srv.Deps().Jobs.Enqueue(context.Background(), "slowtest.hold", map[string]any{"addr": addr, "hold": true}, &jobs.EnqueueOptions{})
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
