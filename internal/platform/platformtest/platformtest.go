// Package platformtest runs a whole Gaffer server inside a test: the
// systems imported by the test binary, on a temporary data directory, an
// ephemeral port, SQLite or PostgreSQL (EachBackend runs a test on both),
// embedded or external NATS.
package platformtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/bus/bustest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// Options choose the server's backends and systems.
type Options struct {
	// Roles to run; default all systems compiled into the test binary.
	Roles []string
	// Backend is the database; the zero Backend is SQLite in the data
	// directory. Tests that store data run on every engine with
	// EachBackend and pass its Backend here.
	Backend Backend
	// ExternalNATS runs on an external nats-server of the test's own
	// (see bustest.ExternalURL; skipped when none is available).
	ExternalNATS bool
	// Demo loads demo data.
	Demo bool
	// DataDir reuses a data directory (to test restarts); default a new
	// temporary one.
	DataDir string
	// Configure may change the configuration before the server starts.
	Configure func(*server.Config)
	// Args are systems' flags as on the command line, e.g.
	// []string{"--tsdb-retention", "30d"}.
	Args []string
	// EgressAllow are --egress-allow entries for the server's outbound
	// requests; a test whose systems call a test server on 127.0.0.1
	// opens it here (AllowLoopback) rather than bypassing the policy.
	EgressAllow []string
	// Log, when set, also receives the server's log lines of level Info
	// and above as text, for a test that asserts on the log (the test's
	// own output shows only warnings and errors).
	Log io.Writer
	// Now is the clock the systems read (Deps.Now); nil is the wall
	// clock. Anchored gives one that starts at a fixed time and moves on
	// with the wall clock, for tests whose result may depend on the hour.
	Now func() time.Time
}

// AllowLoopback is the EgressAllow entry for tests whose systems call
// test servers on 127.0.0.1 (the server's own listeners stay refused).
var AllowLoopback = []string{"127.0.0.0/8", "::1"}

// Anchored returns a clock that reads base when it is created and then
// advances with the wall clock, so that timers and deadlines still move
// while the time of day is fixed.
func Anchored(base time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return base.Add(time.Since(start)) }
}

// Server is a running test server.
type Server struct {
	*server.Server
	t testing.TB
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// AdminToken is the bootstrap admin token.
	AdminToken string
	// DataDir is the server's data directory.
	DataDir string
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	dir := o.DataDir
	db := o.Backend.DB
	if o.Backend.dataDir != "" && (dir == "" || dir == o.Backend.dataDir) {
		dir, db = o.Backend.dataDir, "" // gaffer.db in the data directory
	}
	if dir == "" {
		dir = t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil { // as the server wants it
			t.Fatal(err)
		}
	}
	cfg := server.Config{Listen: "127.0.0.1:0", DataDir: dir, NATSListen: "127.0.0.1:0", Roles: o.Roles,
		Demo: o.Demo, ShutdownTimeout: 10 * time.Second, JobPollInterval: 20 * time.Millisecond, Now: o.Now,
		EgressAllow: o.EgressAllow, DB: db}
	if o.ExternalNATS {
		cfg.NATSURL = bustest.ExternalURL(t)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	settings, err := platform.AddModuleFlags(fs)
	if err != nil {
		t.Fatalf("module flags: %v", err)
	}
	if err := fs.Parse(o.Args); err != nil {
		t.Fatalf("module flags %v: %v", o.Args, err)
	}
	cfg.Settings = settings
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	var h slog.Handler = slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})
	if o.Log != nil {
		h = slog.NewMultiHandler(h, slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	log := slog.New(h)
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, log, false)
	if err != nil {
		t.Fatalf("start gaffer: %v", err)
	}
	if o.ExternalNATS && bustest.NeedsPurge(t) {
		if err := srv.Deps().Bus.Stream.Purge(ctx); err != nil {
			t.Fatalf("purge external event stream: %v", err)
		}
	}
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown()
		t.Fatalf("start gaffer: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatalf("read admin token: %v", err)
	}
	return &Server{Server: srv, t: t, URL: "http://" + srv.Addr(), AdminToken: strings.TrimSpace(string(tok)), DataDir: dir}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Token creates a token with the given scopes and returns its secret.
func (s *Server) Token(scopes ...string) string {
	s.t.Helper()
	_, secret, err := s.Deps().Tokens.Create(context.Background(), auth.CreateRequest{Name: "test " + strings.Join(scopes, ","), Scopes: scopes})
	if err != nil {
		s.t.Fatalf("create token: %v", err)
	}
	return secret
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode returns the code of a JSON error answer, or "".
func (r *Response) ErrorCode() string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal(r.Body, &env)
	return env.Error.Code
}

// Do sends a request with token ("" for none). body may be nil, a []byte,
// a string, or any value to encode as JSON.
func (s *Server) Do(method, path, token string, body any) *Response {
	s.t.Helper()
	return s.DoWith(method, path, token, "", body)
}

// DoWith is Do with an explicit content type.
func (s *Server) DoWith(method, path, token, contentType string, body any) *Response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(j)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatalf("build request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Eventually polls cond until it holds or 20 seconds pass.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !WaitFor(20*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// WaitFor polls cond until it holds, and reports false if it still does
// not after timeout, for a test that explains the failure itself.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
