package tsdb

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"
)

// maxBlockRange caps the span of a compacted block.
const maxBlockRange = 31 * 24 * time.Hour

// Compact persists the head's oldest full block range (with its rollups),
// merges small blocks into larger ones, and applies retention. The
// background loop calls it every Options.CompactInterval; it is safe to
// call at any time. A failure (say, a full disk) leaves every existing
// block and the head as they were.
func (db *DB) Compact() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	if db.closed.Load() {
		return ErrClosed
	}
	h := db.head
	persisted := false
	for {
		mint, maxt := h.minT.Load(), h.maxT.Load()
		if mint == math.MaxInt64 || maxt-mint < h.blockRange*3/2 {
			break
		}
		if err := db.cutHead(floorDiv(mint, h.blockRange) * h.blockRange); err != nil {
			return err
		}
		persisted = true
	}
	if persisted {
		if err := db.checkpoint(); err != nil {
			return err
		}
	}
	if err := db.flushBackfill(); err != nil {
		return err
	}
	for {
		group := db.plan()
		if group == nil {
			break
		}
		if err := db.compactGroup(group); err != nil {
			return err
		}
	}
	return db.applyRetention()
}

// FlushHead persists every sample in the head to blocks, whatever its age,
// and truncates the head. It is meant for tests, benchmarks and shutdown
// tooling; later samples older than the flushed range are refused.
func (db *DB) FlushHead() error {
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.compactMu.Lock()
	h := db.head
	for {
		mint, maxt := h.minT.Load(), h.maxT.Load()
		if mint == math.MaxInt64 || mint > maxt {
			break
		}
		if err := db.cutHead(floorDiv(mint, h.blockRange) * h.blockRange); err != nil {
			db.compactMu.Unlock()
			return err
		}
	}
	db.compactMu.Unlock()
	if err := db.checkpoint(); err != nil {
		return err
	}
	return db.Compact()
}

// cutHead persists the head's block range starting at start and drops it
// from the head. New samples in the range are refused from the moment it
// starts (ErrTooOld), and batches already past that check finish first, so
// nothing acknowledged can land in the head after it was written out.
func (db *DB) cutHead(start int64) error {
	db.headCuts.Add(1)
	defer db.headCuts.Add(1)
	h := db.head
	end := start + h.blockRange
	prev := h.minValid.Load()
	h.minValid.Store(max(prev, end))
	db.commitMu.Lock() // wait for commits that passed the old check
	db.commitMu.Unlock()
	if err := db.persistHead(start, end); err != nil {
		h.minValid.Store(prev)
		return err
	}
	h.truncate(end)
	return nil
}

// persistHead writes the head's samples in [start, end) as a raw block and
// one block per rollup tier.
func (db *DB) persistHead(start, end int64) error {
	series, groups := sortByLabels(db.head.allSeries())
	return db.writeBlocks(start, end, series, func(s *memSeries, mint, maxt int64) Iterator {
		group, ok := groups[s]
		if !ok {
			return s.iterator(mint, maxt)
		}
		its := make([]Iterator, len(group))
		for i, g := range group {
			its[i] = g.iterator(mint, maxt)
		}
		return newMergeIterator(its)
	})
}

// writeBlocks writes the samples in [start, end) of series (sorted by
// labels), read through samples, as a raw block and one block per rollup
// tier, and opens them.
func (db *DB) writeBlocks(start, end int64, series []*memSeries, samples func(s *memSeries, mint, maxt int64) Iterator) error {
	h := db.head
	ws, err := db.newWriters(start, end, 1)
	if err != nil {
		return err
	}
	builders := make([]*rollupBuilder, len(db.opts.Rollups))
	for i, r := range db.opts.Rollups {
		builders[i] = newRollupBuilder(r.Resolution.Milliseconds(), h.blockRange)
	}
	var cut chunkCutter
	for _, s := range series {
		for _, b := range builders {
			b.reset()
		}
		cut.reset(kindRaw, h.blockRange)
		err = cutIterator(samples(s, start, end-1), &cut, func(t int64, v float64) {
			for _, b := range builders {
				b.add(t, v)
			}
		})
		if err == nil {
			err = ws[0].addSeries(s.labels(), cut.chunks())
		}
		for i, b := range builders {
			if err == nil {
				err = ws[i+1].addSeries(s.labels(), b.finish())
			}
		}
		if err != nil {
			abortAll(ws)
			return fmt.Errorf("write blocks [%d, %d): %w", start, end, err)
		}
	}
	return db.publish(ws, nil)
}

// newWriters starts a raw writer and one per rollup tier.
func (db *DB) newWriters(start, end int64, level int) ([]*blockWriter, error) {
	parent := filepath.Join(db.dir, blocksDir)
	var ws []*blockWriter
	for i := -1; i < len(db.opts.Rollups); i++ {
		var res int64
		if i >= 0 {
			res = db.opts.Rollups[i].Resolution.Milliseconds()
		}
		w, err := db.newBlockWriter(parent, start, end, res, level)
		if err != nil {
			abortAll(ws)
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

func abortAll(ws []*blockWriter) {
	for _, w := range ws {
		w.abort()
	}
}

// publish finishes writers, opens the new blocks and swaps them in for the
// replaced ones.
func (db *DB) publish(ws []*blockWriter, replaced []*block) error {
	var opened []*block
	for i, w := range ws {
		dir, _, err := w.finish()
		if err == nil && dir != "" {
			var b *block
			if b, err = openBlock(dir, db.pages); err == nil {
				opened = append(opened, b)
			}
		}
		if err != nil {
			abortAll(ws[i+1:])
			for _, b := range opened {
				b.remove()
			}
			return err
		}
	}
	db.mu.Lock()
	db.blocks = slices.DeleteFunc(db.blocks, func(b *block) bool { return slices.Contains(replaced, b) })
	db.blocks = append(db.blocks, opened...)
	db.sortBlocks()
	db.mu.Unlock()
	for _, b := range replaced {
		if err := b.remove(); err != nil {
			db.logger.Error("tsdb: could not delete a compacted block", "block", b.meta.ID, "err", err)
		}
	}
	return nil
}

// compactionRanges returns the spans blocks of a resolution are merged
// into, smallest first: 3×, 9×, 27×... the block duration, up to a tenth of
// that resolution's retention and at most 31 days.
func (db *DB) compactionRanges(res int64) []int64 {
	limit := maxBlockRange
	if ret := db.retentionFor(res); ret > 0 && ret/10 < limit {
		limit = ret / 10
	}
	var out []int64
	for r := db.opts.BlockDuration * 3; r <= limit; r *= 3 {
		out = append(out, r.Milliseconds())
	}
	return out
}

// retentionFor returns the retention of a resolution (0: keep forever).
func (db *DB) retentionFor(res int64) time.Duration {
	for _, t := range db.opts.Rollups {
		if t.Resolution.Milliseconds() == res {
			return t.Retention
		}
	}
	return db.opts.Retention
}

// plan picks blocks to merge: two or more blocks of one resolution inside
// one aligned range that the head can no longer write into.
func (db *DB) plan() []*block {
	db.mu.RLock()
	defer db.mu.RUnlock()
	limit := db.head.minValid.Load()
	byRes := map[int64][]*block{}
	for _, b := range db.blocks {
		byRes[b.meta.Resolution] = append(byRes[b.meta.Resolution], b)
	}
	for res, blocks := range byRes {
		ranges := db.compactionRanges(res)
		for i := len(ranges) - 1; i >= 0; i-- {
			r := ranges[i]
			groups := map[int64][]*block{}
			for _, b := range blocks {
				g := floorDiv(b.meta.MinTime, r)
				if floorDiv(b.meta.MaxTime-1, r) == g {
					groups[g] = append(groups[g], b)
				}
			}
			for g, group := range groups {
				if len(group) >= 2 && (g+1)*r <= limit {
					return group
				}
			}
		}
	}
	return nil
}

// compactGroup merges blocks of one resolution into one block.
func (db *DB) compactGroup(group []*block) error {
	mint, maxt, level := int64(math.MaxInt64), int64(math.MinInt64), 0
	for _, b := range group {
		mint, maxt = min(mint, b.meta.MinTime), max(maxt, b.meta.MaxTime)
		level = max(level, b.meta.Level)
	}
	res := group[0].meta.Resolution
	w, err := db.newBlockWriter(filepath.Join(db.dir, blocksDir), mint, maxt, res, level+1)
	if err != nil {
		return err
	}
	for _, b := range group {
		w.meta.Sources = append(w.meta.Sources, b.meta.ID)
	}
	kinds := []byte{kindRaw}
	if res != 0 {
		kinds = []byte{kindSum, kindCount, kindMin, kindMax, kindLast}
	}
	// Oldest first, so that chained parts follow one another and, where
	// blocks overlap, the first-written value wins a tie.
	group = slices.Clone(group)
	slices.SortFunc(group, compareBlocks)
	disjoint := true
	for i := 1; i < len(group); i++ {
		if group[i].meta.MinTime < group[i-1].meta.MaxTime {
			disjoint = false
		}
	}
	sets := make([]SeriesSet, len(group))
	for i, b := range group {
		sets[i] = &blockSeriesSet{b: b, it: b.index.all.Iterator(), mint: mint, maxt: maxt - 1}
	}
	set := newMergeSeriesSet(sets)
	cuts := make([]chunkCutter, len(kinds))
	var chunks []pendingChunk
	for set.Next() {
		s := set.At()
		parts := []Series{s}
		if m, ok := s.(*mergedSeries); ok {
			parts = m.parts
		}
		chunks = chunks[:0]
		for i, kind := range kinds {
			its := make([]Iterator, 0, len(parts))
			for _, p := range parts {
				bs := p.(*blockSeries)
				cs, err := bs.b.chunks(bs.metas, kind, mint, maxt-1)
				its = append(its, newChunksIterator(cs, mint, maxt-1, err))
			}
			var it Iterator = &chainIterator{its: its}
			if !disjoint {
				it = newCombineIterator(its, kind)
			}
			cuts[i].reset(kind, db.head.blockRange)
			if err := cutIterator(it, &cuts[i], nil); err != nil {
				w.abort()
				return fmt.Errorf("compact %d blocks: %w", len(group), err)
			}
			chunks = append(chunks, cuts[i].chunks()...)
		}
		if err := w.addSeries(s.Labels(), chunks); err != nil {
			w.abort()
			return fmt.Errorf("compact %d blocks: %w", len(group), err)
		}
	}
	if err := set.Err(); err != nil {
		w.abort()
		return fmt.Errorf("compact %d blocks: %w", len(group), err)
	}
	return db.publish([]*blockWriter{w}, group)
}
