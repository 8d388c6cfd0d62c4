// Package audit is Gaffer's append-only record of every mutating call: who
// did what to which target, under which request ID, and how it ended. The
// database refuses updates and deletes of recorded entries.
package audit

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Outcomes of an audited call.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// Entry is one audited action.
type Entry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	RequestID  string    `json:"request_id"`
	Outcome    string    `json:"outcome"`
	Status     int       `json:"status"`
	RemoteAddr string    `json:"remote_addr,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// Recorder appends audit entries. Systems that act outside an HTTP request
// (a signing refusal, a runbook step) record through it directly.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}

// Log is the audit log in the store. Concurrent Records are committed
// together (group commit): each Record still returns only once its entry
// is stored, but many callers share one transaction.
type Log struct {
	store    *store.Store
	now      func() time.Time
	pending  chan pendingEntry
	refusals *refusalLimiter
	stop     chan struct{}
	stopped  sync.Once
	flushed  chan struct{}
}

// Options configure a Log; zero fields take the defaults.
type Options struct {
	// Now is the clock entries are stamped with (Deps.Now); default
	// time.Now.
	Now func() time.Time
	// RefusalWindow is how long refused anonymous calls from one source
	// are counted after the first is recorded in full (default 1 minute).
	RefusalWindow time.Duration
	// MaxRefusalSources bounds the sources counted at once; calls from
	// further sources are counted together (default 1,000).
	MaxRefusalSources int
}

// Bounds on the text an entry keeps; longer values are cut with a note of
// their full length.
const (
	MaxTarget = 1024
	MaxDetail = 4096
)

type pendingEntry struct {
	e    Entry
	done chan error
}

// maxBatch bounds the entries written in one transaction.
const maxBatch = 128

// Open applies the audit log's migrations and returns it. The log's writer
// runs for the life of the process; Close writes the counts of refused
// anonymous calls still open.
func Open(ctx context.Context, s *store.Store, o Options) (*Log, error) {
	if err := s.Migrate(ctx, "audit", store.MustSub(migrations, "migrations")); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RefusalWindow <= 0 {
		o.RefusalWindow = time.Minute
	}
	if o.MaxRefusalSources <= 0 {
		o.MaxRefusalSources = 1000
	}
	l := &Log{store: s, now: o.Now, pending: make(chan pendingEntry, 4*maxBatch),
		refusals: newRefusalLimiter(o.RefusalWindow, o.MaxRefusalSources),
		stop:     make(chan struct{}), flushed: make(chan struct{})}
	go l.writer()
	go l.flushLoop(o.RefusalWindow)
	return l, nil
}

// Record appends e and returns once it is stored. A zero Time is set to
// now; the target and detail are cut to MaxTarget and MaxDetail bytes.
//
// Calls refused to anonymous callers (outcome denied or failure, no
// actor) are limited per source address: the first in each RefusalWindow
// is recorded in full and the rest are counted, then written as one
// summary entry (action RefusedAnonymousAction) when the window has
// passed. Record returns nil at once for a call it counted.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	e.Target = truncate(e.Target, MaxTarget)
	e.Detail = truncate(e.Detail, MaxDetail)
	if e.Actor == "anonymous" && (e.Outcome == OutcomeDenied || e.Outcome == OutcomeFailure) {
		write, summaries := l.refusals.admit(e, l.now())
		if err := l.write(summaries...); err != nil {
			return err
		}
		if !write {
			return nil
		}
	}
	return l.write(e)
}

// write stores entries and returns once they are stored.
func (l *Log) write(entries ...Entry) error {
	var errs []error
	for _, e := range entries {
		if err := l.writeOne(e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (l *Log) writeOne(e Entry) error {
	// Record even when the request's context is already cancelled: an
	// action that happened must not go unaudited.
	p := pendingEntry{e: e, done: make(chan error, 1)}
	l.pending <- p
	if err := <-p.done; err != nil {
		return fmt.Errorf("audit: record %s by %s: %w", e.Action, e.Actor, err)
	}
	return nil
}

// writer takes whatever entries are waiting (at least one, at most
// maxBatch) and stores them in one statement.
func (l *Log) writer() {
	batch := make([]pendingEntry, 0, maxBatch)
	for first := range l.pending {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxBatch {
			select {
			case p := <-l.pending:
				batch = append(batch, p)
			default:
				break more
			}
		}
		err := l.insert(batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

func (l *Log) insert(batch []pendingEntry) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO audit_log
		(at, actor, action, target, request_id, outcome, status, remote_addr, detail) VALUES `)
	args := make([]any, 0, 9*len(batch))
	for i, p := range batch {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		e := p.e
		args = append(args, e.Time.UnixMilli(), e.Actor, e.Action, e.Target, e.RequestID, e.Outcome, e.Status, e.RemoteAddr, e.Detail)
	}
	_, err := l.store.ExecContext(context.Background(), q.String(), args...)
	return err
}

// Filter selects audit entries; zero fields match everything.
type Filter struct {
	Actor   string
	Action  string // prefix match
	Target  string // substring match
	Outcome string
	Since   time.Time
	Until   time.Time
	// Before returns entries with an ID lower than this (a cursor).
	Before int64
	Limit  int
}

// List returns entries newest first, and a cursor for the next page (0 when
// there is none).
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, int64, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add(`action LIKE ? ESCAPE '\'`, escapeLike(f.Action)+"%")
	}
	if f.Target != "" {
		add(`target LIKE ? ESCAPE '\'`, "%"+escapeLike(f.Target)+"%")
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixMilli())
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	q := "SELECT " + entryColumns + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := l.store.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// entryColumns are the columns scanEntry reads, in its order.
const entryColumns = "id, at, actor, action, target, request_id, outcome, status, remote_addr, detail"

// scanEntry reads one row of entryColumns.
func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var at int64
	err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.RequestID, &e.Outcome,
		&e.Status, &e.RemoteAddr, &e.Detail)
	e.Time = time.UnixMilli(at).UTC()
	return e, err
}

// escapeLike escapes LIKE wildcards in user input.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// truncate cuts s to at most max bytes on a character boundary, ending it
// with a note of the full length.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	note := fmt.Sprintf("…[%d bytes]", len(s))
	cut := max - len(note)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}
