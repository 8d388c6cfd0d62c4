package platformtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// Backend is the database one subtest of EachBackend runs on: new and
// empty for that subtest, and dropped when it ends. The zero Backend is
// SQLite in each server's data directory. Options.Backend runs a server
// on one: on SQLite a server whose Options leave DataDir empty gets the
// directory that holds the database, as in production, so the next
// server started on the same Backend is a restart; on PostgreSQL each
// server gets a new data directory unless Options.DataDir names one.
type Backend struct {
	// Name is "sqlite" or "postgres"; it is also the subtest's name.
	Name string
	// DB is the database's address as server.Config.DB takes it:
	// sqlite:<path> for a file in a temporary directory, or a postgres://
	// address whose search_path selects a schema of the subtest's own.
	DB string
	// dataDir holds the SQLite file; "" for PostgreSQL.
	dataDir string
}

// EachBackend runs test once per database engine, each in a subtest with
// a fresh database: "sqlite" always, and "postgres" on a new schema of
// the server that GAFFER_TEST_POSTGRES names (.ci/start-services starts
// one). Without that variable the postgres subtest is skipped with a
// message naming it. Every system with tables runs its storage tests
// through EachBackend.
func EachBackend(t *testing.T, test func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil { // as the server wants its data directory
			t.Fatal(err)
		}
		test(t, Backend{Name: "sqlite", DB: "sqlite:" + filepath.Join(dir, "gaffer.db"), dataDir: dir})
	})
	t.Run("postgres", func(t *testing.T) {
		test(t, Backend{Name: "postgres", DB: storetest.PostgresDSN(t)})
	})
}

// Postgres reports whether the backend is PostgreSQL.
func (b Backend) Postgres() bool { return store.IsPostgresDSN(b.DB) }

// Open connects to the backend's database directly, for tests of a
// system's store below its service; the connection closes when the test
// ends. The caller applies the migrations it needs.
func (b Backend) Open(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), b.DB)
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
