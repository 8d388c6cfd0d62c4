package wal

import "os"

// File is the part of *os.File a segment writer uses. Tests substitute one
// that fails, for example with ENOSPC.
type File interface {
	WriteAt(b []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// createFile opens a segment for writing, creating it.
func createFile(name string) (File, error) {
	return os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o644)
}

// SyncDir fsyncs a directory so that entries created in it persist.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
