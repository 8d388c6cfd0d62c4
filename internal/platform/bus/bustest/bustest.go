// Package bustest opens throwaway buses for tests: always an embedded
// nats-server and, when one is available, an external nats-server process
// of the test's own (or the shared server GAFFER_TEST_NATS_URL names).
package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/bus"
)

// NATSEnv is the environment variable naming an external test NATS server.
const NATSEnv = "GAFFER_TEST_NATS_URL"

// Backend is one NATS deployment a test runs against.
type Backend struct {
	Name string
	Open func(t testing.TB) *bus.Bus
}

// Backends returns the embedded server and, when configured, the external
// one. It logs clearly when the external server is skipped.
func Backends(t testing.TB) []Backend {
	out := []Backend{{Name: "embedded", Open: Embedded}}
	if ExternalAvailable() {
		out = append(out, Backend{Name: "external", Open: External})
	} else {
		t.Logf("external NATS backend skipped: no nats-server binary and %s is not set", NATSEnv)
	}
	return out
}

// Embedded starts an in-process server with its files in t.TempDir().
func Embedded(t testing.TB) *bus.Bus {
	t.Helper()
	b, err := bus.Open(context.Background(), bus.Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", MaxAge: time.Hour})
	if err != nil {
		t.Fatalf("open embedded bus: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// External connects to the test's external server (see ExternalURL); on
// the shared server it purges the event stream first so the test starts
// empty.
func External(t testing.TB) *bus.Bus {
	t.Helper()
	url := ExternalURL(t)
	b, err := bus.Open(context.Background(), bus.Options{URL: url, MaxAge: time.Hour})
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	if NeedsPurge(t) {
		if err := b.Stream.Purge(context.Background()); err != nil {
			t.Fatalf("purge stream: %v", err)
		}
	}
	t.Cleanup(b.Close)
	return b
}
