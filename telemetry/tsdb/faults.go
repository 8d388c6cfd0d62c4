package tsdb

import (
	"fmt"
	"os"
	"syscall"

	"github.com/gaffer-sre/gaffer/telemetry/tsdb/internal/wal"
)

// failingFile is a WAL segment whose writes fail as on a full disk while
// the store's Options.FailWrites says so, after writing part of the data,
// as a real full disk can.
type failingFile struct {
	*os.File
	fail func() bool
}

func (f failingFile) WriteAt(b []byte, off int64) (int, error) {
	if f.fail() {
		n, _ := f.File.WriteAt(b[:len(b)/2], off)
		return n, syscall.ENOSPC
	}
	return f.File.WriteAt(b, off)
}

// walFileOpener returns how the WAL opens its segments: the test hook,
// or with FailWrites set, files that fail on demand.
func (o *Options) walFileOpener() func(string) (wal.File, error) {
	if o.walOpenFile != nil || o.FailWrites == nil {
		return o.walOpenFile
	}
	fail := o.FailWrites
	return func(name string) (wal.File, error) {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		return failingFile{f, fail}, nil
	}
}

// checkWrite fails like a full disk while FailWrites says so.
func (o *Options) checkWrite() error {
	if o.FailWrites != nil && o.FailWrites() {
		return syscall.ENOSPC
	}
	return nil
}

// newBlockWriter starts a block, failing as on a full disk while
// FailWrites says so.
func (db *DB) newBlockWriter(parent string, mint, maxt, resolution int64, level int) (*blockWriter, error) {
	if err := db.opts.checkWrite(); err != nil {
		return nil, fmt.Errorf("create block: %w", storageErr(err))
	}
	return newBlockWriter(parent, mint, maxt, resolution, level)
}
