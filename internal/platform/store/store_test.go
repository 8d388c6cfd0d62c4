package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

var testMigrations = fstest.MapFS{
	"001_widgets.sql": {Data: []byte(`CREATE TABLE widgets (id {{autoid}}, name TEXT NOT NULL UNIQUE, payload {{blob}});`)},
	"002_color.sql":   {Data: []byte(`ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red';`)},
	"002_color.postgres.sql": {Data: []byte(`ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red';
		COMMENT ON COLUMN widgets.color IS 'postgres variant';`)},
	"README.md": {Data: []byte("not a migration")},
}

func TestStoreOnEveryBackend(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := b.Open(t)
			if err := s.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			// A second run applies nothing and does not fail.
			if err := s.Migrate(ctx, "test", testMigrations); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
			var id int64
			if err := s.QueryRowContext(ctx, "INSERT INTO widgets (name, payload) VALUES (?, ?) RETURNING id",
				"a?b", []byte{1, 2}).Scan(&id); err != nil {
				t.Fatalf("insert: %v", err)
			}
			var name, color string
			if err := s.QueryRowContext(ctx, "SELECT name, color FROM widgets WHERE id = ? AND name <> '?'", id).Scan(&name, &color); err != nil {
				t.Fatalf("select: %v", err)
			}
			if name != "a?b" || color != "red" {
				t.Fatalf("got %q %q", name, color)
			}
			_, err := s.ExecContext(ctx, "INSERT INTO widgets (name) VALUES (?)", "a?b")
			if !store.IsUniqueViolation(err) {
				t.Fatalf("duplicate insert: want unique violation, got %v", err)
			}
			// A failing transaction leaves nothing behind.
			boom := errors.New("boom")
			err = s.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO widgets (name) VALUES (?)", "rolled-back"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx error = %v, want boom", err)
			}
			var n int
			s.QueryRowContext(ctx, "SELECT COUNT(*) FROM widgets").Scan(&n)
			if n != 1 {
				t.Fatalf("rows after rollback = %d, want 1", n)
			}
		})
	}
}

func TestMigrationErrors(t *testing.T) {
	s := storetest.SQLite(t)
	bad := fstest.MapFS{"one.sql": {Data: []byte("SELECT 1")}}
	if err := s.Migrate(context.Background(), "bad", bad); err == nil {
		t.Fatal("want error for badly named migration")
	}
	broken := fstest.MapFS{
		"001_ok.sql":     {Data: []byte("CREATE TABLE ok (x INTEGER)")},
		"002_broken.sql": {Data: []byte("CREATE TABLE nope (")},
	}
	if err := s.Migrate(context.Background(), "broken", broken); err == nil {
		t.Fatal("want error for broken SQL")
	}
	// The good migration stays applied, the broken one is not recorded.
	var n int
	s.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM gaffer_migrations WHERE system = 'broken'").Scan(&n)
	if n != 1 {
		t.Fatalf("applied = %d, want 1", n)
	}
}

func TestRebind(t *testing.T) {
	s := &store.Store{Dialect: store.Postgres}
	got := s.Rebind("SELECT '?' , x FROM t WHERE a = ? AND b = ?")
	want := "SELECT '?' , x FROM t WHERE a = $1 AND b = $2"
	if got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
}

// TestSQLitePathWithURICharacters: a '#', '?' or '%' in the database's
// path names a directory, not the end of the SQLite URI's path.
func TestSQLitePathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "run#2?x=1%41")
	path := filepath.Join(dir, "gaffer.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if _, err := s.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if err := s.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v; want wal", mode, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Fatalf("files beside the data directory: %v", entries)
	}
}
