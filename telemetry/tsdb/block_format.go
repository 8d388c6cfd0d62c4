package tsdb

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

// On-disk block format; docs/tsdb.md describes it in full. Version 2
// (written since the column format) stores each chunk as a timestamp and a
// value column in zstd-compressed pages; version 1 stored Gorilla-style
// bit streams. Both are read; compaction rewrites version 1 as version 2.
const (
	blockVersion  = 2
	metaFile      = "meta.json"
	indexFile     = "index"
	chunksFile    = "chunks"
	indexMagic    = "GFIX\x01"
	chunksMagic   = "GFCH\x01"
	indexMagicV2  = "GFIX\x02"
	chunksMagicV2 = "GFCH\x02"
	tocSize       = 5 * 8
)

// Chunk kinds. Raw blocks hold kindRaw; rollup blocks hold one chunk stream
// per aggregate, timestamped at the start of each window.
const (
	kindRaw byte = iota
	kindSum
	kindCount
	kindMin
	kindMax
	kindLast
	numKinds
)

// BlockMeta describes a persisted block; it is stored as meta.json.
type BlockMeta struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	// MinTime and MaxTime bound the block: MinTime ≤ t < MaxTime.
	MinTime int64 `json:"minTime"`
	MaxTime int64 `json:"maxTime"`
	// Resolution is 0 for raw samples, else the rollup window in ms.
	Resolution int64 `json:"resolution"`
	// Level counts compactions: 1 for a block cut from the head.
	Level   int   `json:"level"`
	Series  int   `json:"series"`
	Samples int64 `json:"samples"`
	Chunks  int   `json:"chunks"`
	// Bytes is the size of the block's files.
	Bytes int64 `json:"bytes"`
	// Sources lists the blocks compacted into this one; if a crash left
	// them behind they are deleted at open.
	Sources []string `json:"sources,omitempty"`
}

// chunkMeta locates a chunk in a block's chunks file.
type chunkMeta struct {
	kind       byte
	minT, maxT int64
	ref        uint64 // v1: offset of the chunk's record; v2: its value column
	tsRef      uint64 // v2: its timestamp column
}

func readMeta(dir string) (BlockMeta, error) {
	var m BlockMeta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrCorruptBlock, metaFile, err)
	}
	if m.Version != 1 && m.Version != blockVersion {
		return m, fmt.Errorf("%w: unsupported block version %d", ErrCorruptBlock, m.Version)
	}
	return m, nil
}

func writeMeta(dir string, m BlockMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(dir, metaFile), b)
}

// writeFileSync writes and fsyncs a file.
func writeFileSync(name string, b []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir fsyncs a directory.
var syncDir = wal.SyncDir
