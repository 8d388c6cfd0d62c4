package tsdb

import (
	"math"
	"os"
	"path/filepath"
	"slices"
)

// applyRetention deletes blocks older than their resolution's retention,
// measured back from the newest sample in the store, then the oldest
// blocks (raw first, rollups after) while the store is over MaxBytes.
func (db *DB) applyRetention() error {
	newest := db.head.maxT.Load()
	db.mu.RLock()
	for _, b := range db.blocks {
		newest = max(newest, b.meta.MaxTime)
	}
	var doomed []*block
	for _, b := range db.blocks {
		ret := db.retentionFor(b.meta.Resolution).Milliseconds()
		if ret > 0 && newest != math.MinInt64 && b.meta.MaxTime <= newest-ret {
			doomed = append(doomed, b)
		}
	}
	db.mu.RUnlock()
	if db.opts.MaxBytes > 0 {
		doomed = db.overSize(doomed)
	}
	if len(doomed) == 0 {
		return nil
	}
	db.mu.Lock()
	db.blocks = slices.DeleteFunc(db.blocks, func(b *block) bool { return slices.Contains(doomed, b) })
	db.mu.Unlock()
	for _, b := range doomed {
		db.logger.Info("tsdb: retention deleted block", "block", b.meta.ID, "resolution_ms", b.meta.Resolution,
			"min_time", b.meta.MinTime, "max_time", b.meta.MaxTime, "bytes", b.meta.Bytes)
		if err := b.remove(); err != nil {
			return err
		}
	}
	return nil
}

// overSize adds to doomed the oldest blocks, raw before rollups, until the
// blocks left plus the WAL fit in MaxBytes.
func (db *DB) overSize(doomed []*block) []*block {
	total := dirSize(filepath.Join(db.dir, walDir))
	db.mu.RLock()
	var live []*block
	for _, b := range db.blocks {
		if !slices.Contains(doomed, b) {
			total += b.meta.Bytes
			live = append(live, b)
		}
	}
	db.mu.RUnlock()
	slices.SortFunc(live, func(a, b *block) int {
		ar, br := a.meta.Resolution == 0, b.meta.Resolution == 0
		if ar != br {
			if ar {
				return -1
			}
			return 1
		}
		return int(a.meta.MinTime - b.meta.MinTime)
	})
	for _, b := range live {
		if total <= db.opts.MaxBytes {
			break
		}
		doomed = append(doomed, b)
		total -= b.meta.Bytes
	}
	return doomed
}

// dirSize sums the sizes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
