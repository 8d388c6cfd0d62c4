package main

import (
	"bytes"
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestDataDirectoryFilesOwnerOnly is issue #15 item 13 against the real
// binary: in a data directory someone left 0755, everything `gaffer serve`
// creates (database, WAL, JetStream, TSDB, secrets, generated keys) is
// the owner's only, and the server warns about the open directory and
// about the keys beside the database.
func TestDataDirectoryFilesOwnerOnly(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := platformtest.StartServe(t, bin, dir)
	if err := p.Signal(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, p.Log())
	}
	var files int
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		files++
		if fi.Mode().Perm()&0o077 != 0 {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("%s: mode %v, open to other users", rel, fi.Mode().Perm())
		}
		return nil
	})
	for _, name := range []string{"gaffer.db", "jetstream", "sshca.kek", "certs.kek"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("expected %s in the data directory: %v", name, err)
		}
	}
	t.Logf("%d files and directories checked", files)
	log := p.Log()
	if !strings.Contains(log, "the data directory is open to other users") {
		t.Errorf("no warning about the 0755 data directory; log:\n%s", log)
	}
	if strings.Count(log, "key-encryption keys are in the same directory as the database") != 1 {
		t.Errorf("want one warning about the keys beside the database; log:\n%s", log)
	}
}

// TestKEKCommand runs the real binary with --kek-command: both keys come
// from the command, none is written to the data directory, and nothing is
// warned about.
func TestKEKCommand(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o700) // the testing package makes it 0755
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	script := filepath.Join(t.TempDir(), "kek.sh")
	called := filepath.Join(t.TempDir(), "called")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"$GAFFER_KEK_NAME\" >> "+called+"\necho "+key+"\n"), 0o700)
	p := platformtest.StartServe(t, bin, dir, "--kek-command", script)
	if err := p.Signal(t, syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v; log:\n%s", err, p.Log())
	}
	b, _ := os.ReadFile(called)
	if got := strings.Fields(string(b)); len(got) != 2 || !strings.Contains(string(b), "certs") || !strings.Contains(string(b), "sshca") {
		t.Fatalf("the command was asked for %q, want certs and sshca once each; log:\n%s", got, p.Log())
	}
	if keys, _ := filepath.Glob(filepath.Join(dir, "*.kek")); len(keys) != 0 {
		t.Fatalf("key files written beside a key command: %v", keys)
	}
	if log := p.Log(); strings.Contains(log, "key-encryption keys are in the same directory") ||
		strings.Contains(log, "generated a key-encryption key") || strings.Contains(log, "open to other users") {
		t.Fatalf("unexpected warning; log:\n%s", log)
	}
}
