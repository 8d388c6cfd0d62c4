// Package gate bounds how many expensive requests (PromQL queries, Atlas
// graphs) a process works on at once. Excess callers queue for a while,
// then fail with an error that names the setting to change.
package gate

import (
	"context"
	"fmt"
	"time"
)

// Gate admits at most a fixed number of callers at once. It is safe for
// concurrent use.
type Gate struct {
	slots chan struct{}
	wait  time.Duration
	// flag and waitFlag name the settings of the limit and of the wait.
	flag, waitFlag string
}

// New returns a gate of n slots whose callers wait at most wait for one.
// flag and waitFlag name the settings (without dashes) that set n and
// wait, for the error. n and wait must be positive.
func New(n int, wait time.Duration, flag, waitFlag string) *Gate {
	return &Gate{slots: make(chan struct{}, n), wait: wait, flag: flag, waitFlag: waitFlag}
}

// BusyError is a caller that waited out the gate's timeout.
type BusyError struct {
	// Slots is the gate's size; Waited how long the caller waited.
	Slots  int
	Waited time.Duration
	// Flag and WaitFlag name the settings of the two.
	Flag, WaitFlag string
}

// Error implements error.
func (e *BusyError) Error() string {
	return fmt.Sprintf("too many concurrent requests: %d are running and this one waited %v for a slot (limits: --%s, --%s)",
		e.Slots, e.Waited, e.Flag, e.WaitFlag)
}

// Enter waits for a slot: until one is free, ctx ends (ctx's error,
// wrapped) or the wait passes (*BusyError). It returns the function that
// frees the slot, which the caller must call once done.
func (g *Gate) Enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a slot: %w", ctx.Err())
	case <-t.C:
		return nil, &BusyError{Slots: cap(g.slots), Waited: g.wait, Flag: g.flag, WaitFlag: g.waitFlag}
	}
}

func (g *Gate) release() { <-g.slots }
