package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
)

// loadAdminToken reads the admin token file, or creates it with a new
// random token (mode 0600). It reports whether the token was created.
func loadAdminToken(path string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 16 {
			return "", false, fmt.Errorf("admin token file %s: token is shorter than 16 characters", path)
		}
		return tok, false, nil
	}
	if !os.IsNotExist(err) {
		return "", false, fmt.Errorf("read admin token file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create directory for admin token: %w", err)
	}
	tok := auth.NewSecret()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create admin token file: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write admin token file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("write admin token file: %w", err)
	}
	return tok, true, nil
}
