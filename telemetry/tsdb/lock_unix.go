//go:build unix

package tsdb

import (
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on dir/LOCK so two processes never
// write one store.
func lockDir(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s (is another gaffer using this store?): %w", name, err)
	}
	return f, nil
}
