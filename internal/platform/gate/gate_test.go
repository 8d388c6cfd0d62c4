package gate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGateQueuesThenFails(t *testing.T) {
	g := New(1, 20*time.Millisecond, "x-max-concurrency", "x-queue-timeout")
	release, err := g.Enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The only slot is held: the next caller waits out the timeout.
	_, err = g.Enter(context.Background())
	var be *BusyError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "1 are running and this one waited 20ms") ||
		!strings.Contains(err.Error(), "--x-max-concurrency, --x-queue-timeout") {
		t.Fatalf("second caller: %v", err)
	}
	// A waiting caller gets the slot when it is freed.
	g.wait = time.Hour
	got := make(chan error, 1)
	go func() {
		r, err := g.Enter(context.Background())
		if err == nil {
			r()
		}
		got <- err
	}()
	release()
	if err := <-got; err != nil {
		t.Fatalf("queued caller: %v", err)
	}
	// A caller that gives up stops waiting.
	release, _ = g.Enter(context.Background())
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Enter(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}
