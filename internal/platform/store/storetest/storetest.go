// Package storetest opens throwaway stores for tests: always an SQLite file
// in a temporary directory and, when GAFFER_TEST_POSTGRES holds a
// postgres:// address, a fresh schema in that PostgreSQL database.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// PostgresEnv is the environment variable naming the test PostgreSQL server.
const PostgresEnv = "GAFFER_TEST_POSTGRES"

// Backend is one engine a test runs against.
type Backend struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Open returns a new, empty store that is closed (and dropped) when
	// the test ends.
	Open func(t testing.TB) *store.Store
}

// Backends returns SQLite and, when configured, PostgreSQL. It logs clearly
// when PostgreSQL is skipped.
func Backends(t testing.TB) []Backend {
	out := []Backend{{Name: "sqlite", Open: SQLite}}
	if os.Getenv(PostgresEnv) != "" {
		out = append(out, Backend{Name: "postgres", Open: Postgres})
	} else {
		t.Logf("PostgreSQL backend skipped: %s is not set", PostgresEnv)
	}
	return out
}

// SQLite opens a store on a new file in t.TempDir().
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gaffer.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresDSN creates a new schema in the PostgreSQL database named by
// GAFFER_TEST_POSTGRES and returns an address whose search_path selects it,
// dropping the schema when the test ends. It skips the test, naming the
// variable, when the variable is unset. The tests of one process share one
// connection to the server for creating and dropping schemas.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL test skipped: %s is not set (e.g. eval \"$(.ci/start-services)\")", PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	admin, err := adminStore(base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "gaffer_test_" + hex.EncodeToString(b[:])
	if _, err := admin.DB.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.DB.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var admin struct {
	sync.Mutex
	dsn   string
	store *store.Store
}

// adminStore returns the process's connection to the test server at dsn,
// opening it on first use. It stays open until the process exits.
func adminStore(dsn string) (*store.Store, error) {
	admin.Lock()
	defer admin.Unlock()
	if admin.store != nil && admin.dsn == dsn {
		return admin.store, nil
	}
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	s.DB.SetMaxIdleConns(1)
	admin.dsn, admin.store = dsn, s
	return s, nil
}

// Postgres opens a store on a fresh schema; see PostgresDSN.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), PostgresDSN(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
