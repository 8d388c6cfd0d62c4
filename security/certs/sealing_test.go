package certs

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/seal"
)

// TestLoadKeyringFromCommand is issue #15 item 13: the keys can come from
// a command (a KMS or vault client), current key first and earlier ones
// after it as in the key file; environment variables still win, and no
// key file is generated in the data directory.
func TestLoadKeyringFromCommand(t *testing.T) {
	dir := t.TempDir()
	cur := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	prev := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{6}, 32))
	noEnv := func(string) string { return "" }
	kr, generated, err := LoadKeyring(noEnv, `test "$1" = certs && printf '%s\n%s\n' `+cur+" "+prev, dir)
	if err != nil || generated {
		t.Fatalf("from command: generated=%v %v", generated, err)
	}
	want := []string{seal.KeyID(bytes.Repeat([]byte{5}, 32)), seal.KeyID(bytes.Repeat([]byte{6}, 32))}
	if kr.Source() != "--kek-command" || !slices.Equal(kr.IDs(), want) {
		t.Fatalf("from command: source %q, keys %v, want %v", kr.Source(), kr.IDs(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, KEKFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written beside a key command: %v", err)
	}
	env := func(k string) string {
		if k == KEKEnv {
			return prev
		}
		return ""
	}
	if kr, _, err := LoadKeyring(env, "exit 1", dir); err != nil || kr.Source() != "$"+KEKEnv {
		t.Fatalf("the environment should win over the command: %v", err)
	}
	if _, _, err := LoadKeyring(noEnv, "echo no vault token >&2; exit 1", dir); err == nil ||
		!strings.Contains(err.Error(), "no vault token") {
		t.Fatalf("failing command: %v", err)
	}
}
