//go:build unix

package tsdb

import (
	"fmt"
	"os"
	"syscall"
)

// mappedFile is a read-only memory-mapped file.
type mappedFile struct {
	b []byte
}

// openMapped maps a whole file into memory.
func openMapped(name string) (*mappedFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 {
		return &mappedFile{}, nil
	}
	if fi.Size() != int64(int(fi.Size())) {
		return nil, fmt.Errorf("%s is too large to map", name)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", name, err)
	}
	return &mappedFile{b: b}, nil
}

// Close unmaps the file.
func (m *mappedFile) Close() error {
	if m.b == nil {
		return nil
	}
	err := syscall.Munmap(m.b)
	m.b = nil
	return err
}
