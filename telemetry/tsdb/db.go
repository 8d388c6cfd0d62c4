package tsdb

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

// pageCacheBytes bounds the decompressed block pages kept in memory.
const pageCacheBytes = 32 << 20

// Directory layout of a store.
const (
	walDir    = "wal"
	blocksDir = "blocks"
	lockFile  = "LOCK"
)

// DB is a time-series store in one directory: an in-memory head backed by
// a write-ahead log, and immutable blocks on disk. It is safe for
// concurrent use.
type DB struct {
	dir    string
	opts   Options
	logger *slog.Logger
	lock   *os.File

	head *head

	walMu    sync.Mutex   // orders WAL writes; guards memSeries.logged
	commitMu sync.RWMutex // held shared from WAL write to head apply
	wal      *wal.Writer

	mu     sync.RWMutex // guards blocks
	blocks []*block     // sorted by resolution, then time
	pages  *pageCache   // decompressed pages of v2 blocks

	compactMu sync.Mutex // one Compact at a time

	appenders       sync.Pool
	observer        atomic.Pointer[observerBox] // set under commitMu
	headCuts        atomic.Int64                // odd while the head is cut
	closed          atomic.Bool
	droppedAtCommit atomic.Int64
	replayDropped   int64

	stop chan struct{}
	done chan struct{}
}

// Open opens (creating if needed) the store in dir. It replays the WAL,
// truncating a torn tail with a log line saying what was dropped.
func Open(dir string, opts Options) (*DB, error) {
	if err := opts.normalize(); err != nil {
		return nil, fmt.Errorf("open tsdb %s: %w", dir, err)
	}
	db := &DB{dir: dir, opts: opts, logger: opts.Logger, head: newHead(&opts), pages: newPageCache(pageCacheBytes)}
	db.appenders.New = newAppender
	if opts.ReadOnly {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("open tsdb %s read-only: %w", dir, err)
		}
	} else {
		for _, d := range []string{dir, filepath.Join(dir, walDir), filepath.Join(dir, blocksDir)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("open tsdb: create %s: %w", d, storageErr(err))
			}
		}
		lock, err := lockDir(filepath.Join(dir, lockFile))
		if err != nil {
			return nil, fmt.Errorf("open tsdb %s: %w", dir, err)
		}
		db.lock = lock
	}
	if err := db.openBlocks(); err != nil {
		db.releaseLock()
		return nil, err
	}
	if err := db.replayWAL(); err != nil {
		db.closeBlocks()
		db.releaseLock()
		return nil, err
	}
	if !opts.ReadOnly && (opts.CompactInterval > 0 || opts.WALSync == SyncInterval) {
		db.stop, db.done = make(chan struct{}), make(chan struct{})
		go db.run()
	}
	return db, nil
}

// openBlocks opens every block directory, setting aside corrupt ones.
func (db *DB) openBlocks() error {
	bdir := filepath.Join(db.dir, blocksDir)
	entries, err := os.ReadDir(bdir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open tsdb: list blocks: %w", err)
	}
	var blocks []*block
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(bdir, name)
		if !e.IsDir() || strings.HasSuffix(name, ".corrupt") {
			continue
		}
		if strings.HasSuffix(name, ".tmp") {
			if !db.opts.ReadOnly {
				os.RemoveAll(p) // an interrupted write
			}
			continue
		}
		b, err := openBlock(p, db.pages)
		if err != nil {
			db.logger.Error("tsdb: block is unreadable and is set aside", "block", name, "err", err)
			if !db.opts.ReadOnly {
				os.Rename(p, p+".corrupt")
			}
			continue
		}
		blocks = append(blocks, b)
	}
	// Delete blocks that a compaction replaced before a crash.
	replaced := map[string]bool{}
	for _, b := range blocks {
		for _, s := range b.meta.Sources {
			replaced[s] = true
		}
	}
	for _, b := range blocks {
		if replaced[b.meta.ID] {
			if db.opts.ReadOnly {
				b.close()
			} else {
				b.remove()
			}
			continue
		}
		db.blocks = append(db.blocks, b)
	}
	db.sortBlocks()
	if t := db.rawMaxT(); t != math.MinInt64 {
		db.head.minValid.Store(t)
	}
	return nil
}

// sortBlocks orders blocks by resolution, start time, then the order they
// were written in (their IDs hold the time); db.mu is held or the DB is
// not yet shared.
func (db *DB) sortBlocks() {
	slices.SortFunc(db.blocks, compareBlocks)
}

// compareBlocks orders blocks by resolution, start time and ID.
func compareBlocks(a, b *block) int {
	if c := cmp.Compare(a.meta.Resolution, b.meta.Resolution); c != 0 {
		return c
	}
	if c := cmp.Compare(a.meta.MinTime, b.meta.MinTime); c != 0 {
		return c
	}
	return strings.Compare(a.meta.ID, b.meta.ID)
}

// rawMaxT returns the end of the newest raw block, or MinInt64.
func (db *DB) rawMaxT() int64 {
	t := int64(math.MinInt64)
	for _, b := range db.blocks {
		if b.meta.Resolution == 0 {
			t = max(t, b.meta.MaxTime)
		}
	}
	return t
}

// run is the background loop: compaction, retention and timed fsyncs.
func (db *DB) run() {
	defer close(db.done)
	var compact, sync <-chan time.Time
	if db.opts.CompactInterval > 0 {
		t := time.NewTicker(db.opts.CompactInterval)
		defer t.Stop()
		compact = t.C
	}
	if db.opts.WALSync == SyncInterval {
		t := time.NewTicker(db.opts.SyncInterval)
		defer t.Stop()
		sync = t.C
	}
	for {
		select {
		case <-db.stop:
			return
		case <-compact:
			if err := db.Compact(); err != nil {
				db.logger.Error("tsdb: compaction failed; will retry", "err", err)
			}
		case <-db.head.backfill.flush:
			if err := db.Compact(); err != nil {
				db.logger.Error("tsdb: compaction failed; will retry", "err", err)
			}
		case <-sync:
			db.walMu.Lock()
			if db.wal != nil {
				if err := db.wal.Sync(); err != nil {
					db.logger.Error("tsdb: WAL fsync failed", "err", err)
				}
			}
			db.walMu.Unlock()
		}
	}
}

// Dir returns the store's directory.
func (db *DB) Dir() string { return db.dir }

// Close stops background work, closes the WAL and releases the store. The
// head is not persisted: the WAL restores it at the next Open.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	if db.stop != nil {
		close(db.stop)
		<-db.done
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	var err error
	db.walMu.Lock()
	if db.wal != nil {
		err = db.wal.Close()
		db.wal = nil
	}
	db.walMu.Unlock()
	db.closeBlocks()
	db.releaseLock()
	return err
}

func (db *DB) closeBlocks() {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, b := range db.blocks {
		b.close()
	}
	db.blocks = nil
}

func (db *DB) releaseLock() {
	if db.lock != nil {
		db.lock.Close()
		db.lock = nil
	}
}
