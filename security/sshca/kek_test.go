package sshca

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKEK(t *testing.T) {
	dir := t.TempDir()
	k, generated, err := LoadKEK("", "", "", dir)
	if err != nil || !generated {
		t.Fatalf("generate: %v %v", generated, err)
	}
	st, err := os.Stat(filepath.Join(dir, KEKFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generated KEK file: %v mode %v", err, st.Mode())
	}
	again, generated, err := LoadKEK("", "", "", dir)
	if err != nil || generated || again.ID != k.ID {
		t.Fatalf("reload: generated %v, id %s vs %s, %v", generated, again.ID, k.ID, err)
	}
	fromFile, _, err := LoadKEK("", filepath.Join(dir, KEKFileName), "", t.TempDir())
	if err != nil || fromFile.ID != k.ID {
		t.Fatalf("from file: %v", err)
	}
	hexKey := hex.EncodeToString(bytes.Repeat([]byte{1}, 32))
	fromEnv, _, err := LoadKEK(hexKey, filepath.Join(dir, "missing"), "", dir)
	if err != nil || fromEnv.ID == k.ID {
		t.Fatalf("the key itself should win over files: %v", err)
	}
	if _, _, err := LoadKEK("c2hvcnQ=", "", "", dir); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("short key: %v", err)
	}
	if _, _, err := LoadKEK("", filepath.Join(dir, "missing"), "", dir); err == nil {
		t.Fatal("missing KEK file accepted")
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := NewKEK(bytes.Repeat([]byte{9}, 32), "test")
	other, _ := NewKEK(bytes.Repeat([]byte{8}, 32), "other")
	sealed, err := k.Seal([]byte("secret"), "ck_1")
	if err != nil || bytes.Contains(sealed, []byte("secret")) {
		t.Fatalf("seal: %v", err)
	}
	if pt, err := k.Open(sealed, "ck_1"); err != nil || string(pt) != "secret" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := k.Open(sealed, "ck_2"); err == nil {
		t.Fatal("opened under another label")
	}
	if _, err := other.Open(sealed, "ck_1"); err == nil {
		t.Fatal("opened with another KEK")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed, "ck_1"); err == nil {
		t.Fatal("opened tampered data")
	}
}

// TestLoadKEKFromCommand is issue #15 item 13: the key can come from a
// command (a KMS or vault client), which then wins over the data
// directory and creates no key file there.
func TestLoadKEKFromCommand(t *testing.T) {
	dir := t.TempDir()
	hexKey := hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
	want, _ := ParseKEK(hexKey, "test")
	k, generated, err := LoadKEK("", "", `test "$1" = sshca && echo `+hexKey, dir)
	if err != nil || generated || k.ID != want.ID || k.Source != "--kek-command" {
		t.Fatalf("from command: %+v generated=%v %v", k, generated, err)
	}
	if _, err := os.Stat(filepath.Join(dir, KEKFileName)); !os.IsNotExist(err) {
		t.Fatalf("a key file was written beside a key command: %v", err)
	}
	if _, _, err := LoadKEK("", "", "echo vault sealed >&2; exit 2", dir); err == nil ||
		!strings.Contains(err.Error(), "vault sealed") || !strings.Contains(err.Error(), "kek-command") {
		t.Fatalf("failing command: %v", err)
	}
	if _, _, err := LoadKEK("", "", "echo not-a-key", dir); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("command printing a bad key: %v", err)
	}
}
