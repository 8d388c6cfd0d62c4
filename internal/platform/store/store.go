package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names the SQL engine behind a Store.
type Dialect string

// The engines Gaffer runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the shared relational database. It is safe for concurrent use.
type Store struct {
	// DB is the underlying pool. Queries issued on it directly must already
	// use the dialect's placeholders; prefer the Store's methods.
	DB *sql.DB
	// Dialect is the engine behind DB.
	Dialect Dialect
	// DSN is the connection string the store was opened with (for
	// PostgreSQL) or the SQLite file path.
	DSN string

	rebound sync.Map // query text -> rebound text (PostgreSQL only)
}

// IsPostgresDSN reports whether dsn names a PostgreSQL database.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database named by dsn: a postgres:// URL for
// PostgreSQL, otherwise a path to an SQLite file (created if missing, with
// its directory).
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("store: empty database address")
	}
	if IsPostgresDSN(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	return &Store{DB: db, Dialect: Postgres, DSN: dsn}, nil
}

// SQLiteDSN returns the modernc.org/sqlite connection string Gaffer uses for
// the file at path: WAL journal, a busy timeout so writers queue instead of
// failing, foreign keys on, and immediate write transactions so that two
// writers never deadlock upgrading a read lock. The path is escaped for
// the URI: a '#' or '?' in it (a directory named "run#2") would otherwise
// end the path and open a different file.
func SQLiteDSN(path string) string {
	return "file:" + uriPath.Replace(path) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	if err := restrictDatabaseFiles(path); err != nil {
		return nil, err
	}
	registerCachedDriver()
	db, err := sql.Open(cachedDriverName, SQLiteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// SQLite has one writer. One connection queues every statement in Go
	// instead of in SQLite's busy handler, which sleeps: measured under
	// the job queue's load, 1 connection worked 12,800 jobs/s, 2 worked
	// 9,900 and 8 worked 4,600 (docs/benchmarks.md). The cost is that a
	// transaction must not use the pool while it is open (use the Tx).
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return &Store{DB: db, Dialect: SQLite, DSN: path}, nil
}

// restrictDatabaseFiles creates the database file mode 0600 if it is
// missing, and takes group and other permissions off it and its -wal and
// -shm files if it is not: SQLite gives the -wal and -shm files it creates
// the database file's mode, so all three end up readable by the owner only.
func restrictDatabaseFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create sqlite database %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("store: restrict %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.DB.Close() }

// Rebind rewrites "?" placeholders into the dialect's form. Question marks
// inside single-quoted string literals are left alone.
func (s *Store) Rebind(query string) string {
	if s.Dialect != Postgres {
		return query
	}
	if q, ok := s.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n, inString := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	s.rebound.Store(query, out)
	return out
}

// ExecContext runs a statement written with "?" placeholders.
func (s *Store) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.DB.ExecContext(ctx, s.Rebind(query), args...)
}

// QueryContext runs a query written with "?" placeholders.
func (s *Store) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.DB.QueryContext(ctx, s.Rebind(query), args...)
}

// QueryRowContext runs a single-row query written with "?" placeholders.
func (s *Store) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return s.DB.QueryRowContext(ctx, s.Rebind(query), args...)
}

// Tx is a transaction whose methods take "?" placeholders.
type Tx struct {
	*sql.Tx
	store *Store
}

// ExecContext runs a statement in the transaction.
func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.store.Rebind(query), args...)
}

// QueryContext runs a query in the transaction.
func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.store.Rebind(query), args...)
}

// QueryRowContext runs a single-row query in the transaction.
func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.store.Rebind(query), args...)
}

// InTx runs fn in a transaction, committing if it returns nil and rolling
// back otherwise. fn must use only tx: on SQLite the store has a single
// connection, which the transaction holds until it ends.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	tx := &Tx{Tx: sqlTx, store: s}
	if err := fn(tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine, so callers can answer 409 instead of 500.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite
		strings.Contains(msg, "SQLSTATE 23505") // PostgreSQL
}
