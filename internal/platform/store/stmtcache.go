package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"modernc.org/sqlite"
)

// cachedDriverName is the database/sql driver Gaffer opens SQLite with: the
// modernc.org/sqlite driver with a per-connection cache of prepared
// statements.
//
// database/sql prepares and finalizes a statement for every call that is
// not made on an explicit *sql.Stmt, and SQLite's parser is slow in the
// pure-Go build: profiling the job queue showed 57% of its CPU time in
// sqlite3_prepare. Caching by query text removes that cost. SQLite itself
// re-prepares a cached statement when the schema changes.
const cachedDriverName = "sqlite-gaffer"

// stmtCacheSize bounds the prepared statements kept per connection.
const stmtCacheSize = 256

var registerOnce sync.Once

func registerCachedDriver() {
	registerOnce.Do(func() { sql.Register(cachedDriverName, cachingDriver{}) })
}

type cachingDriver struct{}

func (cachingDriver) Open(name string) (driver.Conn, error) {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return nil, err
	}
	return newCachingConn(c), nil
}

// innerConn is what the modernc connection implements.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool // rows from this statement are still open
	elem  *list.Element
}

// cachingConn is used by one goroutine at a time (database/sql guarantees
// it), so it needs no lock.
type cachingConn struct {
	innerConn
	stmts map[string]*cachedStmt
	lru   *list.List // front = most recently used
}

func newCachingConn(c driver.Conn) driver.Conn {
	ic, ok := c.(innerConn)
	if !ok {
		return c // an unexpected driver build: run without the cache
	}
	return &cachingConn{innerConn: ic, stmts: map[string]*cachedStmt{}, lru: list.New()}
}

// get returns an idle cached statement for query, preparing it if needed.
// It returns nil when the cached statement is busy (the caller then runs
// the query uncached).
func (c *cachingConn) get(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		c.lru.MoveToFront(s.elem)
		return s, nil
	}
	st, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{query: query, stmt: st}
	s.elem = c.lru.PushFront(s)
	c.stmts[query] = s
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back().Value.(*cachedStmt)
		if old.busy {
			break
		}
		c.lru.Remove(old.elem)
		delete(c.stmts, old.query)
		old.stmt.Close()
	}
	return s, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.innerConn.ExecContext(ctx, query, args)
	}
	return s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.innerConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, stmt: s}, nil
}

func (c *cachingConn) Close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
	}
	c.stmts, c.lru = nil, nil
	errs = append(errs, c.innerConn.Close())
	return errors.Join(errs...)
}

// cachedRows marks its statement idle again when closed. The modernc
// driver resets (rather than finalizes) a prepared statement's rows.
type cachedRows struct {
	driver.Rows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.stmt.busy = false
	return err
}
