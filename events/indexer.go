package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store"
)

// indexRow is the metadata of one stored event.
type indexRow struct {
	seq      uint64
	id       string
	source   string
	typ      string
	subject  string
	time     time.Time
	received time.Time
}

// indexer writes index rows in batches (group commit): rows that arrive
// while a batch is being written form the next one, and a batch waits at
// most indexFlushEvery for company, so the database sees a few
// transactions per second rather than one per event.
type indexer struct {
	db  *store.Store
	log *slog.Logger

	mu   sync.Mutex
	cur  *indexBatch
	kick chan struct{}
	full chan struct{}
	done chan struct{}
}

// indexBatch is a group of rows committed together.
type indexBatch struct {
	rows []indexRow
	done chan struct{}
	err  error
}

const (
	indexFlushEvery = 5 * time.Millisecond
	indexMaxBatch   = 512
)

func newIndexer(db *store.Store, log *slog.Logger) *indexer {
	return &indexer{db: db, log: log, kick: make(chan struct{}, 1), full: make(chan struct{}, 1),
		done: make(chan struct{})}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// add queues a row in the batch being gathered and returns that batch.
func (ix *indexer) add(row indexRow) *indexBatch {
	ix.mu.Lock()
	if ix.cur == nil {
		ix.cur = &indexBatch{done: make(chan struct{})}
		signal(ix.kick)
	}
	b := ix.cur
	b.rows = append(b.rows, row)
	full := len(b.rows) >= indexMaxBatch
	ix.mu.Unlock()
	if full {
		signal(ix.full)
	}
	return b
}

// wait returns once the batch is committed, with the write's error.
func (b *indexBatch) wait(ctx context.Context) error {
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes batches until stop is closed, then writes what is left.
func (ix *indexer) run(stop <-chan struct{}) {
	defer close(ix.done)
	timer := time.NewTimer(time.Hour)
	for {
		select {
		case <-ix.kick:
		case <-stop:
			ix.flush()
			return
		}
		timer.Reset(indexFlushEvery)
		select {
		case <-timer.C:
		case <-ix.full:
			timer.Stop()
		case <-stop:
		}
		ix.flush()
	}
}

func (ix *indexer) flush() {
	ix.mu.Lock()
	b := ix.cur
	ix.cur = nil
	ix.mu.Unlock()
	if b == nil {
		return
	}
	b.err = writeIndex(context.Background(), ix.db, b.rows)
	if b.err != nil {
		ix.log.Error("event index write failed; the events will be redelivered", "rows", len(b.rows), "error", b.err)
	}
	close(b.done)
}

// upsertIndex returns the statement that upserts n rows. Batches are cut
// into statements of 64, 8 and 1 rows, so a database round trip carries
// many rows and only three statement texts exist (for statement caches).
func upsertIndex(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO event_index (seq, event_id, source, type, subject, time_ms, received_ms) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (seq) DO UPDATE SET event_id = excluded.event_id, source = excluded.source,
	type = excluded.type, subject = excluded.subject, time_ms = excluded.time_ms, received_ms = excluded.received_ms`)
	return b.String()
}

var upsertStatements = map[int]string{64: upsertIndex(64), 8: upsertIndex(8), 1: upsertIndex(1)}

// writeIndex upserts rows: a redelivered event rewrites its own row, and a
// stream recreated from sequence 1 overwrites stale ones.
func writeIndex(ctx context.Context, db *store.Store, rows []indexRow) error {
	rows = lastPerSeq(rows)
	return db.InTx(ctx, func(tx *store.Tx) error {
		args := make([]any, 0, 7*64)
		for len(rows) > 0 {
			n := 1
			switch {
			case len(rows) >= 64:
				n = 64
			case len(rows) >= 8:
				n = 8
			}
			args = args[:0]
			for _, r := range rows[:n] {
				args = append(args, int64(r.seq), r.id, r.source, r.typ, r.subject, r.time.UnixMilli(), r.received.UnixMilli())
			}
			if _, err := tx.ExecContext(ctx, upsertStatements[n], args...); err != nil {
				return fmt.Errorf("events: index events %d..%d: %w", rows[0].seq, rows[n-1].seq, err)
			}
			rows = rows[n:]
		}
		return nil
	})
}

// lastPerSeq drops all but the last row of each sequence: one statement
// may not upsert a row twice (a redelivery can meet its first delivery in
// a batch).
func lastPerSeq(rows []indexRow) []indexRow {
	seen := make(map[uint64]int, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		if i, ok := seen[r.seq]; ok {
			out[i] = r
			continue
		}
		seen[r.seq] = len(out)
		out = append(out, r)
	}
	return out
}
