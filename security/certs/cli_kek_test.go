package certs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestKEKRotateCommand runs `gaffer certs kek rotate` against a server
// with a generated key file: the file then holds one new key.
func TestKEKRotateCommand(t *testing.T) {
	t.Setenv(KEKEnv, "")
	t.Setenv(KEKFileEnv, "")
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{Name}})
	before, err := os.ReadFile(filepath.Join(srv.DataDir, KEKFileName))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := newCertsCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"kek", "rotate", "--server", srv.URL, "--token", srv.AdminToken})
	if err := cmd.ExecuteContext(t.Context()); err != nil || !strings.Contains(out.String(), "re-sealed 0 private keys") {
		t.Fatalf("gaffer certs kek rotate: %q, %v", out.String(), err)
	}
	after, _ := os.ReadFile(filepath.Join(srv.DataDir, KEKFileName))
	if bytes.Equal(before, after) || strings.Count(strings.TrimSpace(string(after)), "\n") != 0 {
		t.Errorf("key file after the rotation: %q (before %q)", after, before)
	}
	cmd = newCertsCommand()
	cmd.SetArgs([]string{"kek", "rotate", "--server", srv.URL, "--token", srv.Token("certs:write")})
	if err := cmd.ExecuteContext(t.Context()); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Errorf("rotation without the admin scope: %v", err)
	}
}
