package tsdb

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/chunk"
	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

// replayWAL rebuilds the head from the newest checkpoint and the segments
// after it, then (unless read-only) starts a new segment for writing.
func (db *DB) replayWAL() error {
	dir := filepath.Join(db.dir, walDir)
	h := db.head
	minValid := h.minValid.Load()
	var (
		samples      []walSample
		cols         columnScratch
		raw          []byte
		inner        [][]byte
		unknown, bad int64
		replayed     int64
		mint, maxt   = int64(math.MaxInt64), int64(math.MinInt64)
		it           chunk.Iterator
		appendReplay = func(s *memSeries, t int64, v float64) {
			if t < minValid {
				// A backfilled sample not yet written out, or one already
				// in a block (a crash before the checkpoint): compaction
				// keeps one copy.
				if h.backfillable(t, minValid) {
					h.backfill.add(s, t, v, false)
				}
				return
			}
			s.mu.Lock()
			err := s.append(t, v, math.MaxInt64, h.blockRange) // replay keeps every order
			s.mu.Unlock()
			if err == nil {
				replayed++
				mint, maxt = min(mint, t), max(maxt, t)
			}
		}
	)
	appendSamples := func(samples []walSample) {
		for _, ws := range samples {
			s := h.getByRef(ws.ref)
			if s == nil {
				unknown++
				continue
			}
			appendReplay(s, ws.t, ws.v)
		}
	}
	var fn func(rec []byte) error
	fn = func(rec []byte) error {
		switch rec[0] {
		case recSeries:
			ws, err := decodeSeries(rec[1:])
			if err != nil {
				bad++
				return nil
			}
			s, _, err := h.getOrCreate(hashLabels(newHasher(), ws.lset), ws.lset, ws.ref)
			if err != nil {
				bad++
				return nil
			}
			s.logged = true
		case recSamples:
			var err error
			samples, err = decodeSamples(rec[1:], samples[:0])
			if err != nil {
				bad++
			}
			appendSamples(samples)
		case recSampleColumns:
			var err error
			samples, err = decodeColumns(rec[1:], samples[:0], &cols)
			if err != nil {
				bad++
			}
			appendSamples(samples)
		case recCompressed:
			var err error
			raw, inner, err = decodeCompressed(rec[1:], raw, inner[:0])
			if err != nil {
				bad++
				return nil
			}
			for _, r := range inner { // never another compressed record
				fn(r)
			}
		case recChunk:
			ref, data, err := decodeChunk(rec[1:])
			if err != nil {
				bad++
				return nil
			}
			s := h.getByRef(ref)
			if s == nil {
				unknown++
				return nil
			}
			it.Reset(data)
			for it.Next() {
				t, v := it.At()
				appendReplay(s, t, v)
			}
			if it.Err() != nil {
				bad++
			}
		default:
			bad++
		}
		return nil
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) && db.opts.ReadOnly {
		return nil
	}
	last, err := wal.ReadDir(dir, wal.ReplayOptions{Repair: !db.opts.ReadOnly, Logger: db.logger}, fn)
	if err != nil {
		return fmt.Errorf("replay WAL: %w", err)
	}
	if replayed > 0 {
		h.updateTimes(mint, maxt)
		h.samples.Add(replayed)
	}
	if unknown+bad > 0 {
		db.logger.Warn("tsdb: WAL replay skipped records", "unknown_series_samples", unknown, "malformed_records", bad)
	}
	db.replayDropped = unknown + bad
	if db.opts.ReadOnly {
		return nil
	}
	w, err := wal.NewWriter(dir, last+1, wal.Options{
		SegmentSize: db.opts.WALSegmentSize,
		SyncAlways:  db.opts.WALSync == SyncAlways,
		OpenFile:    db.opts.walFileOpener(),
	})
	if err != nil {
		return fmt.Errorf("open WAL: %w", storageErr(err))
	}
	db.wal = w
	return nil
}

// checkpoint starts a new WAL segment and rewrites everything before it as a
// checkpoint holding only the head's live series and chunks.
func (db *DB) checkpoint() error {
	db.commitMu.Lock() // wait until every logged sample is in the head
	db.walMu.Lock()
	if db.wal == nil {
		db.walMu.Unlock()
		db.commitMu.Unlock()
		return ErrClosed
	}
	seg, err := db.wal.Cut()
	db.walMu.Unlock()
	db.commitMu.Unlock()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", storageErr(err))
	}
	h := db.head
	minValid := h.minValid.Load()
	err = wal.WriteCheckpoint(filepath.Join(db.dir, walDir), seg, wal.Options{OpenFile: db.opts.walFileOpener()},
		func(log func(...[]byte) error) error {
			var buf []byte
			for _, s := range h.allSeries() {
				buf = appendSeriesRecord(buf[:0], s.ref, s.labels())
				if err := log(buf); err != nil {
					return err
				}
				chunks, ooo := s.snapshot(minValid, math.MaxInt64)
				for _, c := range chunks {
					buf = appendChunkRecord(buf[:0], s.ref, c)
					if err := log(buf); err != nil {
						return err
					}
				}
				if len(ooo) > 0 {
					if err := log(appendSamplesOf(buf[:0], s.ref, ooo)); err != nil {
						return err
					}
				}
			}
			// Backfilled samples not yet in blocks, under the ref of their
			// series in the head if it is still (or again) there.
			hasher := newHasher()
			for s, ss := range h.backfill.snapshot() {
				ref := s.ref
				if live := h.getByHash(hashLabels(hasher, s.labels()), s.labels()); live != nil {
					ref = live.ref
				} else if err := log(appendSeriesRecord(buf[:0], ref, s.labels())); err != nil {
					return err
				}
				if err := log(appendSamplesOf(buf[:0], ref, ss)); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", storageErr(err))
	}
	return nil
}
