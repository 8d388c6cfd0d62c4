package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// TestGiveUp checks GiveUp is called once, after the last attempt, for a
// job that keeps failing, one that panics and one that is cancelled, and
// never for a job that fails and then succeeds.
func TestGiveUp(t *testing.T) {
	ctx := context.Background()
	q := newQueue(t, storetest.SQLite(t))
	var mu sync.Mutex
	gaveUp := map[string][]string{} // kind → "attempt: error"
	record := func(_ context.Context, j *jobs.Job, err error) {
		mu.Lock()
		defer mu.Unlock()
		gaveUp[j.Kind] = append(gaveUp[j.Kind], strings.SplitN(err.Error(), "\n", 2)[0]+" @"+string(rune('0'+j.Attempt)))
	}
	fast := func(int) time.Duration { return 10 * time.Millisecond }
	opts := jobs.KindOptions{MaxAttempts: 3, Backoff: fast, GiveUp: record}
	q.Handle("fails", func(context.Context, *jobs.Job) error { return errors.New("target down") }, opts)
	q.Handle("panics", func(context.Context, *jobs.Job) error { panic("nil map") }, opts)
	q.Handle("cancels", func(context.Context, *jobs.Job) error { return jobs.Cancel(errors.New("report gone")) }, opts)
	var once sync.Once
	succeeded := make(chan struct{})
	q.Handle("recovers", func(_ context.Context, j *jobs.Job) error {
		if j.Attempt < 2 {
			return errors.New("not yet")
		}
		once.Do(func() { close(succeeded) })
		return nil
	}, opts)
	if err := q.Start(ctx, true); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	for _, kind := range []string{"fails", "panics", "cancels", "recovers"} {
		if _, err := q.Enqueue(ctx, kind, map[string]any{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-succeeded:
	case <-time.After(20 * time.Second):
		t.Fatal("the recovering job never succeeded")
	}
	waitFor(t, "three kinds given up", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(gaveUp["fails"]) > 0 && len(gaveUp["panics"]) > 0 && len(gaveUp["cancels"]) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{
		"fails":   "target down @3",
		"panics":  "job 2 (panics) panicked: nil map @3",
		"cancels": "report gone @1",
	}
	for kind, w := range want {
		if got := gaveUp[kind]; len(got) != 1 || got[0] != w {
			t.Errorf("GiveUp for %s = %q, want once %q", kind, got, w)
		}
	}
	if got := gaveUp["recovers"]; len(got) != 0 {
		t.Errorf("GiveUp called for a job that succeeded: %q", got)
	}
}
