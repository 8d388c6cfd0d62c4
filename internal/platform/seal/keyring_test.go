package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rawKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t *testing.T, name string, raws ...[]byte) *Keyring {
	t.Helper()
	kr, err := New(name, "test", raws...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	kr := mustKeyring(t, "certs", rawKey(1))
	blob, id, err := kr.Seal([]byte("private key"), "cert:01")
	if err != nil || id != kr.CurrentID() || bytes.Contains(blob, []byte("private key")) {
		t.Fatalf("Seal: id %s (current %s), %v", id, kr.CurrentID(), err)
	}
	b, err := ParseBlob(blob)
	if err != nil || b.KeyID != id {
		t.Fatalf("the blob names key %q, want %s: %v", b.KeyID, id, err)
	}
	if pt, err := kr.Open(blob, "cert:01"); err != nil || string(pt) != "private key" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	again, _, _ := kr.Seal([]byte("private key"), "cert:01")
	if bytes.Equal(again, blob) {
		t.Error("two seals of the same plaintext are equal: the nonce is not random")
	}
	for what, open := range map[string]func() ([]byte, error){
		"another label":   func() ([]byte, error) { return kr.Open(blob, "cert:02") },
		"another keyring": func() ([]byte, error) { return mustKeyring(t, "sshca", rawKey(1)).Open(blob, "cert:01") },
		"a flipped bit": func() ([]byte, error) {
			bad := bytes.Clone(blob)
			bad[len(bad)-1] ^= 1
			return kr.Open(bad, "cert:01")
		},
	} {
		_, err := open()
		if err == nil || !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), id) {
			t.Errorf("open with %s: %v, want an authentication failure naming %s", what, err, id)
		}
	}
	other := mustKeyring(t, "certs", rawKey(2))
	if _, err := other.Open(blob, "cert:01"); err == nil || !strings.Contains(err.Error(), id) ||
		!strings.Contains(err.Error(), "not among") || !strings.Contains(err.Error(), other.CurrentID()) {
		t.Errorf("open with a keyring lacking the key: %v, want an error naming both keys", err)
	}
	if _, err := kr.Open([]byte("plain"), "cert:01"); err == nil || !strings.Contains(err.Error(), "not a sealed blob") {
		t.Errorf("open of a non-blob: %v", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := New("certs", "test"); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Errorf("no keys: %v", err)
	}
	if _, err := New("certs", "$X", rawKey(1), []byte("short")); err == nil ||
		!strings.Contains(err.Error(), "key-encryption key 2 from $X") || !strings.Contains(err.Error(), "want 32 bytes, got 5") {
		t.Errorf("a short key: %v", err)
	}
	if _, err := New("Certs!", "test", rawKey(1)); err == nil || !strings.Contains(err.Error(), `"Certs!"`) {
		t.Errorf("a bad name: %v", err)
	}
	kr := mustKeyring(t, "certs", rawKey(1), rawKey(2), rawKey(1))
	if ids := kr.IDs(); len(ids) != 2 || ids[0] != KeyID(rawKey(1)) || ids[1] != KeyID(rawKey(2)) {
		t.Errorf("IDs = %v, want the two keys once each, current first", ids)
	}
}

// TestRotate rotates a generated keyring: the new key seals, the old one
// still opens until Forget, and the file follows each step.
func TestRotate(t *testing.T) {
	dir := t.TempDir()
	kr, generated, err := Load(t.Context(), Options{Name: "sshca", DataDir: dir})
	if err != nil || !generated || !kr.Managed() {
		t.Fatalf("Load: generated=%v managed=%v %v", generated, kr != nil && kr.Managed(), err)
	}
	old := kr.CurrentID()
	blob, _, _ := kr.Seal([]byte("secret"), "ck_1")
	id, err := kr.Rotate()
	if err != nil || id == old || kr.CurrentID() != id {
		t.Fatalf("Rotate = %s, %v (old %s, current %s)", id, err, old, kr.CurrentID())
	}
	if pt, err := kr.Open(blob, "ck_1"); err != nil || string(pt) != "secret" {
		t.Fatalf("the old key no longer opens after a rotation: %v", err)
	}
	reloaded, _, err := Load(t.Context(), Options{Name: "sshca", DataDir: dir})
	if err != nil || strings.Join(reloaded.IDs(), " ") != id+" "+old {
		t.Fatalf("the file after Rotate holds %v, want [%s %s]: %v", reloaded.IDs(), id, old, err)
	}
	if err := kr.Forget(); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(blob, "ck_1"); err == nil || !strings.Contains(err.Error(), old) {
		t.Errorf("the forgotten key still opens: %v", err)
	}
	reloaded, _, _ = Load(t.Context(), Options{Name: "sshca", DataDir: dir})
	if ids := reloaded.IDs(); len(ids) != 1 || ids[0] != id {
		t.Errorf("the file after Forget holds %v, want [%s]", ids, id)
	}
	st, err := os.Stat(filepath.Join(dir, FileName("sshca")))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file after rotation: %v, %v", st, err)
	}
	operator := mustKeyring(t, "sshca", rawKey(3))
	if _, err := operator.Rotate(); !errors.Is(err, ErrNotManaged) || !strings.Contains(err.Error(), "sshca") {
		t.Errorf("rotating the operator's keys: %v, want ErrNotManaged naming the keyring", err)
	}
	if err := operator.Forget(); err != nil {
		t.Errorf("Forget of the operator's keys: %v", err)
	}
}

func TestParseBlobErrors(t *testing.T) {
	kr := mustKeyring(t, "certs", rawKey(1))
	blob, id, _ := kr.Seal(nil, "x")
	for _, c := range []struct {
		blob []byte
		want string
	}{
		{nil, "does not start"},
		{[]byte("gsk1abcdef"), "does not start"},
		{[]byte("gsl1"), "before the key ID's length"},
		{[]byte("gsl1\x00"), "key ID length 0"},
		{[]byte("gsl1\x41"), "key ID length 65"},
		{[]byte("gsl1\x05kek"), "truncated key ID (3 of 5 bytes)"},
		{[]byte("gsl1\x03k\nk"), "not printable"},
		{blob[:len(blob)-1], "want at least 28"},
	} {
		if _, err := ParseBlob(c.blob); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseBlob(%q): %v, want an error saying %q", c.blob, err, c.want)
		}
	}
	if b, err := ParseBlob(blob); err != nil || b.KeyID != id || len(b.Nonce) != 12 || len(b.Ciphertext) != 16 {
		t.Errorf("ParseBlob of an empty secret: %+v, %v", b, err)
	}
}
