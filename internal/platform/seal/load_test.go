package seal

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad checks the order of the key sources (the key itself, a key
// file, a command, the generated file) and that each says where its keys
// came from.
func TestLoad(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b64 := func(b byte) string { return base64.StdEncoding.EncodeToString(rawKey(b)) }
	keyFile := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(keyFile, []byte("# rotated 2026-12-01\n"+b64(4)+"\n\n"+hex.EncodeToString(rawKey(5))+"\n"), 0o600)

	for _, c := range []struct {
		name    string
		o       Options
		source  string
		ids     []string
		managed bool
	}{
		{"the key wins", Options{Key: hex.EncodeToString(rawKey(1)), KeyOrigin: "$K", Previous: []string{b64(2)},
			File: keyFile, Command: "exit 1"}, "$K", []string{KeyID(rawKey(1)), KeyID(rawKey(2))}, false},
		{"then the file", Options{File: keyFile, FileOrigin: "--f", Command: "exit 1"}, keyFile,
			[]string{KeyID(rawKey(4)), KeyID(rawKey(5))}, false},
		{"then the command", Options{Command: `test "$1" = test-ring && printf '%s\n' ` + b64(6)}, "--kek-command",
			[]string{KeyID(rawKey(6))}, false},
	} {
		c.o.Name, c.o.DataDir = "test-ring", dir
		kr, generated, err := Load(ctx, c.o)
		if err != nil || generated {
			t.Fatalf("%s: generated=%v %v", c.name, generated, err)
		}
		if kr.Source() != c.source || strings.Join(kr.IDs(), " ") != strings.Join(c.ids, " ") || kr.Managed() != c.managed {
			t.Errorf("%s: source %q ids %v managed %v, want %q %v %v", c.name, kr.Source(), kr.IDs(), kr.Managed(), c.source, c.ids, c.managed)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FileName("test-ring"))); !os.IsNotExist(err) {
		t.Fatalf("a key file was generated beside an operator's key: %v", err)
	}
	kr, generated, err := Load(ctx, Options{Name: "test-ring", DataDir: dir})
	if err != nil || !generated || !kr.Managed() || kr.Source() != filepath.Join(dir, "test-ring.kek") {
		t.Fatalf("generate: %v %v", generated, err)
	}
	again, generated, err := Load(ctx, Options{Name: "test-ring", DataDir: dir})
	if err != nil || generated || again.CurrentID() != kr.CurrentID() {
		t.Fatalf("reload of the generated key: generated=%v %s vs %s %v", generated, again.CurrentID(), kr.CurrentID(), err)
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := t.Context()
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte(base64.StdEncoding.EncodeToString(rawKey(1))+"\n\nc2hvcnQ=\n"), 0o600)
	for _, c := range []struct {
		o    Options
		want []string
	}{
		{Options{Name: "certs", Key: "c2hvcnQ=", KeyOrigin: "$GAFFER_CERTS_KEK"}, []string{"certs", "$GAFFER_CERTS_KEK", "line 1", "32 bytes"}},
		{Options{Name: "sshca", File: bad}, []string{"sshca", bad, "line 3", "32 bytes"}},
		{Options{Name: "sshca", File: bad + "-missing", FileOrigin: "--sshca-kek-file"}, []string{"sshca", "--sshca-kek-file", "no such file"}},
		{Options{Name: "certs", Command: "echo vault sealed >&2; exit 2"}, []string{"certs", "kek-command", "vault sealed"}},
		{Options{Name: "certs", Command: "echo '# nothing but a comment'"}, []string{"certs", "--kek-command", "no key"}},
		{Options{Name: "Bad Name"}, []string{`"Bad Name"`}},
	} {
		_, _, err := Load(ctx, c.o)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%+v): %v, want an error saying %q", c.o, err, w)
			}
		}
	}
}
