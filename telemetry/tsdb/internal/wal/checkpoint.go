package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteCheckpoint writes records produced by fill into checkpoint.<seg>, the
// state of the log before segment seg, then deletes older checkpoints and the
// segments before seg. fill calls log for each record.
func WriteCheckpoint(dir string, seg int, opts Options, fill func(log func(recs ...[]byte) error) error) error {
	final := CheckpointName(dir, seg)
	tmp := final + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("remove stale checkpoint: %w", err)
	}
	opts.SyncAlways = false
	w, err := NewWriter(tmp, 0, opts)
	if err != nil {
		return fmt.Errorf("create checkpoint: %w", err)
	}
	if err := fill(w.Log); err != nil {
		w.Close()
		os.RemoveAll(tmp)
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := w.Close(); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.RemoveAll(final); err != nil {
		return fmt.Errorf("replace checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("publish checkpoint: %w", err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("sync WAL directory: %w", err)
	}
	return removeBefore(dir, seg, final)
}

// removeBefore deletes segments numbered below seg and checkpoints other than keep.
func removeBefore(dir string, seg int, keep string) error {
	segs, err := ListSegments(dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s < seg {
			if err := os.Remove(SegmentName(dir, s)); err != nil {
				return fmt.Errorf("remove old WAL segment: %w", err)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list WAL directory: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), checkpointPrefix) && p != keep {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("remove old checkpoint: %w", err)
			}
		}
	}
	return nil
}
