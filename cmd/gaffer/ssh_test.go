package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/sshca"
)

func TestSSHLogin(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"}})
	alice := identityToken(t, srv, "alice", sshca.ScopeSign)

	// With an agent: key and certificate go into it.
	keyring := agent.NewKeyring()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	t.Setenv("GAFFER_SSH_ID_TOKEN", "")
	out := mustCLI(t, srv, alice, "ssh", "login")
	if !strings.Contains(out, "Added certificate") || !strings.Contains(out, "ssh alice@HOST") {
		t.Fatalf("login output: %s", out)
	}
	keys, err := keyring.List()
	if err != nil || len(keys) != 1 {
		t.Fatalf("agent holds %d keys (%v), want the certified key", len(keys), err)
	}
	found := false
	for _, k := range keys {
		if pub, err := ssh.ParsePublicKey(k.Blob); err == nil {
			if c, ok := pub.(*ssh.Certificate); ok && c.ValidPrincipals[0] == "alice" {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no certificate for alice in the agent")
	}

	// Without one: files in --key-dir, the private key readable only by its owner.
	dir := t.TempDir()
	out = mustCLI(t, srv, alice, "ssh", "login", "--no-agent", "--key-dir", dir, "--validity", "2m")
	if !strings.Contains(out, "ssh -i "+filepath.Join(dir, "gaffer_ed25519")) {
		t.Fatalf("login output: %s", out)
	}
	st, err := os.Stat(filepath.Join(dir, "gaffer_ed25519"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", err, st)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "gaffer_ed25519-cert.pub"))
	if k, _, _, _, err := ssh.ParseAuthorizedKey(b); err != nil || k.(*ssh.Certificate).KeyId == "" {
		t.Fatalf("certificate file: %v", err)
	}
	if _, err := gafferCLI(t, srv, alice, "ssh", "login", "--no-agent", "--key-dir", dir, "--principal", "bob"); err == nil ||
		!strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("login as bob: %v", err)
	}
}
