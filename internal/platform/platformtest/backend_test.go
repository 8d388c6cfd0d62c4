package platformtest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

// TestEachBackend: each engine gets a subtest with an empty database of
// its own, which a direct connection and a server both reach, and which
// a later subtest does not see.
func TestEachBackend(t *testing.T) {
	ctx := context.Background()
	var ran []string
	for round := 0; round < 2; round++ {
		platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
			ran = append(ran, b.Name)
			if want := map[string]store.Dialect{"sqlite": store.SQLite, "postgres": store.Postgres}[b.Name]; b.Open(t).Dialect != want ||
				b.Postgres() != (want == store.Postgres) {
				t.Fatalf("backend %s opens a %s store", b.Name, b.Open(t).Dialect)
			}
			s := b.Open(t)
			if _, err := s.ExecContext(ctx, "CREATE TABLE each_backend_probe (round INTEGER NOT NULL)"); err != nil {
				t.Fatalf("round %d: the database is not empty: %v", round, err)
			}
			if _, err := s.ExecContext(ctx, "INSERT INTO each_backend_probe (round) VALUES (?)", round); err != nil {
				t.Fatal(err)
			}
			srv := platformtest.Start(t, platformtest.Options{Backend: b})
			if srv.Deps().Store.Dialect != s.Dialect {
				t.Fatalf("server on %s runs on %s", b.Name, srv.Deps().Store.Dialect)
			}
			var got int
			if err := srv.Deps().Store.QueryRowContext(ctx, "SELECT round FROM each_backend_probe").Scan(&got); err != nil || got != round {
				t.Fatalf("the server does not see the backend's database: %d, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(srv.DataDir, "gaffer.db")); (err == nil) != (b.Name == "sqlite") {
				t.Fatalf("on %s, gaffer.db in the data directory: %v", b.Name, err)
			}
			// The next server on the backend is a restart: same data.
			srv.Shutdown()
			again := platformtest.Start(t, platformtest.Options{Backend: b})
			if err := again.Deps().Store.QueryRowContext(ctx, "SELECT round FROM each_backend_probe").Scan(&got); err != nil || got != round {
				t.Fatalf("after a restart: %d, %v", got, err)
			}
		})
	}
	want := 2
	if os.Getenv(storetest.PostgresEnv) != "" {
		want = 4
	}
	if len(ran) != want {
		t.Fatalf("ran %v, want %d subtests", ran, want)
	}
}
