//go:build !unix

package tsdb

import (
	"fmt"
	"os"
)

// lockDir opens dir/LOCK; platforms without flock get no exclusion.
func lockDir(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
