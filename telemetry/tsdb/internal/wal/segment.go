package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// SegmentName returns the file name of segment n.
func SegmentName(dir string, n int) string {
	return filepath.Join(dir, fmt.Sprintf("%08d", n))
}

// ListSegments returns the segment numbers in dir, ascending.
func ListSegments(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list WAL segments in %s: %w", dir, err)
	}
	var segs []int
	for _, e := range entries {
		if e.IsDir() || len(e.Name()) != 8 {
			continue
		}
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		segs = append(segs, n)
	}
	sort.Ints(segs)
	return segs, nil
}

// checkpointPrefix names checkpoint directories: checkpoint.<segment>, where
// segment is the first segment not covered by the checkpoint.
const checkpointPrefix = "checkpoint."

// CheckpointName returns the directory of the checkpoint taken before segment n.
func CheckpointName(dir string, n int) string {
	return filepath.Join(dir, fmt.Sprintf("%s%08d", checkpointPrefix, n))
}

// LastCheckpoint returns the newest complete checkpoint in dir and the first
// segment after it, or "" and 0 if there is none.
func LastCheckpoint(dir string) (string, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", 0, fmt.Errorf("list WAL checkpoints in %s: %w", dir, err)
	}
	best, bestN := "", -1
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, checkpointPrefix) || strings.HasSuffix(name, ".tmp") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(name, checkpointPrefix))
		if err != nil || n <= bestN {
			continue
		}
		best, bestN = filepath.Join(dir, name), n
	}
	if bestN < 0 {
		return "", 0, nil
	}
	return best, bestN, nil
}
