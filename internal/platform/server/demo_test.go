package server_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/server"
)

// TestDemoToken: --demo creates the read-only demo token once, with the
// read scopes the routes check and no other; its secret, kept in the data
// directory, reads but cannot write. A second start neither adds one nor
// brings back one the user revoked.
func TestDemoToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	srv := platformtest.Start(t, platformtest.Options{Demo: true, DataDir: dir})
	list, err := srv.Deps().Tokens.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, tok := range list {
		if tok.Name != server.DemoTokenName {
			continue
		}
		id = tok.ID
		if !slices.Contains(tok.Scopes, "audit:read") || !slices.Contains(tok.Scopes, "jobs:read") {
			t.Errorf("demo token scopes %v, want the platform's read scopes", tok.Scopes)
		}
		for _, s := range tok.Scopes {
			if !strings.HasSuffix(s, ":read") {
				t.Errorf("demo token has scope %s", s)
			}
		}
	}
	if id == "" {
		t.Fatalf("no token %s among %v", server.DemoTokenName, list)
	}
	b, err := os.ReadFile(filepath.Join(dir, server.DemoTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(b))
	if r := srv.Do("GET", "/api/v1/audit", secret, nil); r.Status != 200 {
		t.Errorf("demo token reads the audit log: %d %s", r.Status, r.Body)
	}
	if r := srv.Do("POST", "/api/v1/jobs/nosuch/retry", secret, nil); r.Status != 403 {
		t.Errorf("demo token retries a job: %d %s, want 403", r.Status, r.Body)
	}
	if err := srv.Deps().Tokens.Revoke(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown()

	srv = platformtest.Start(t, platformtest.Options{Demo: true, DataDir: dir})
	list, _ = srv.Deps().Tokens.List(t.Context())
	n := 0
	for _, tok := range list {
		if tok.Name == server.DemoTokenName {
			n++
			if tok.RevokedAt == nil {
				t.Errorf("the revoked demo token came back")
			}
		}
	}
	if n != 1 {
		t.Errorf("%d demo tokens after a restart, want 1", n)
	}
}
