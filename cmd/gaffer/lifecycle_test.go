package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/analysis/correlate/correlateapi"
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// TestStopWithoutStart constructs every compiled-in system and shuts the
// server down without starting it, twice: a system's Stop must not need
// its Start (a start can fail before reaching it) and must be idempotent.
func TestStopWithoutStart(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	settings, err := platform.AddModuleFlags(fs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), NATSListen: "127.0.0.1:0",
		ShutdownTimeout: 10 * time.Second, JobPollInterval: 20 * time.Millisecond, Settings: settings}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(); err != nil {
		t.Fatalf("shutdown without start: %v", err)
	}
	if err := srv.Shutdown(); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}

// TestFormerRoleNameSelectsTheSystem starts a server with --roles naming
// the correlate system by the name it had before ("analysis").
func TestFormerRoleNameSelectsTheSystem(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"metrics", "analysis"}})
	if _, ok := srv.Deps().Lookup(correlateapi.Name); !ok {
		t.Fatal("--roles analysis did not start the correlate system")
	}
	if _, ok := srv.Deps().Lookup("alerting"); ok {
		t.Fatal("--roles metrics,analysis started alerting too")
	}
}
