//go:build !unix

package tsdb

import "os"

// mappedFile holds a whole file in memory where mmap is unavailable.
type mappedFile struct {
	b []byte
}

// openMapped reads a whole file into memory.
func openMapped(name string) (*mappedFile, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &mappedFile{b: b}, nil
}

// Close releases the file's memory.
func (m *mappedFile) Close() error {
	m.b = nil
	return nil
}
