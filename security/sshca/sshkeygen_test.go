package sshca

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// sshKeygen returns the path of ssh-keygen, skipping the test without it.
func sshKeygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not on PATH (install openssh-client): skipping the OpenSSH interoperability check")
	}
	return p
}

// newUserKey returns a fresh ed25519 key pair as an ssh.Signer.
func newUserKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFile writes content to name in dir and returns the path.
func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keygenQuery runs `ssh-keygen -Q -f krl file` and reports whether it
// says the key is revoked.
func keygenQuery(t *testing.T, krlPath, keyPath string) bool {
	t.Helper()
	out, err := exec.Command(sshKeygen(t), "-Q", "-f", krlPath, keyPath).CombinedOutput()
	text := string(out)
	switch {
	case strings.Contains(text, "REVOKED"):
		return true
	case err == nil && strings.Contains(text, "ok"):
		return false
	}
	t.Fatalf("ssh-keygen -Q -f %s %s: %v\n%s", krlPath, keyPath, err, text)
	return false
}

// keygenList runs `ssh-keygen -L -f cert` and returns its output.
func keygenList(t *testing.T, certPath string) string {
	t.Helper()
	out, err := exec.Command(sshKeygen(t), "-L", "-f", certPath).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -L -f %s: %v\n%s", certPath, err, out)
	}
	return string(out)
}
