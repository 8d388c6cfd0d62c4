package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/sshca"
)

// gafferCLI runs the gaffer command against srv and returns its output.
func gafferCLI(t *testing.T, srv *platformtest.Server, token string, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--server", srv.URL, "--token", token))
	err := root.Execute()
	return out.String(), err
}

func mustCLI(t *testing.T, srv *platformtest.Server, token string, args ...string) string {
	t.Helper()
	out, err := gafferCLI(t, srv, token, args...)
	if err != nil {
		t.Fatalf("gaffer %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// identityToken creates a token for identity with scopes.
func identityToken(t *testing.T, srv *platformtest.Server, identity string, scopes ...string) string {
	t.Helper()
	_, secret, err := srv.Deps().Tokens.Create(context.Background(), auth.CreateRequest{Name: identity, Identity: identity, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// userKeyFiles writes a new ed25519 key pair to dir and returns the paths
// of the private and public key files.
func userKeyFiles(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".pub", ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, p + ".pub"
}

func TestSSHCACLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"}})
	dir := t.TempDir()
	alice := identityToken(t, srv, "alice", sshca.ScopeSign)

	trusted := mustCLI(t, srv, "", "sshca", "ca-pubkey", "--type", "user")
	if !strings.HasPrefix(trusted, "ssh-ed25519 ") || strings.Count(trusted, "\n") != 1 {
		t.Fatalf("ca-pubkey --type user:\n%s", trusted)
	}
	if host := mustCLI(t, srv, "", "sshca", "ca-pubkey", "--type", "host"); !strings.HasPrefix(host, "@cert-authority * ssh-ed25519 ") {
		t.Fatalf("ca-pubkey --type host:\n%s", host)
	}
	if host := mustCLI(t, srv, "", "sshca", "ca-pubkey", "--type", "host", "--hosts", "*.example.com"); !strings.HasPrefix(host, "@cert-authority *.example.com ssh-ed25519 ") {
		t.Fatalf("ca-pubkey --type host:\n%s", host)
	}

	_, pub := userKeyFiles(t, dir, "id_ed25519")
	certPath := filepath.Join(dir, "id_ed25519-cert.pub")
	mustCLI(t, srv, alice, "sshca", "sign", "--pubkey", pub, "--principal", "alice", "--validity", "5m",
		"--source-address", "127.0.0.1/32", "--out", certPath)
	b, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	cert := k.(*ssh.Certificate)
	if cert.CriticalOptions["source-address"] != "127.0.0.1/32" {
		t.Fatalf("critical options %v", cert.CriticalOptions)
	}
	if _, err := gafferCLI(t, srv, alice, "sshca", "sign", "--pubkey", pub, "--principal", "root"); err == nil ||
		!strings.Contains(err.Error(), "403") {
		t.Fatalf("signing for root: %v", err)
	}

	admin := srv.AdminToken
	list := mustCLI(t, srv, admin, "sshca", "certs", "-q", "alice")
	if !strings.Contains(list, "alice") || !strings.Contains(list, "valid") {
		t.Fatalf("certs:\n%s", list)
	}
	mustCLI(t, srv, admin, "sshca", "revoke", "--serial", strings.TrimSpace(strings.Split(strings.Split(list, "\n")[1], " ")[0]))
	krlPath := filepath.Join(dir, "krl")
	mustCLI(t, srv, "", "sshca", "krl", "--out", krlPath)
	data, err := os.ReadFile(krlPath)
	if err != nil {
		t.Fatal(err)
	}
	krl, err := sshca.ParseKRL(data)
	if err != nil || !krl.IsRevoked(cert) {
		t.Fatalf("KRL after revoke: %v", err)
	}

	rotated := mustCLI(t, srv, admin, "sshca", "ca", "rotate", "user")
	if strings.Count(rotated, "active") != 1 || strings.Count(rotated, "trusted") != 1 {
		t.Fatalf("rotate:\n%s", rotated)
	}
	if keys := mustCLI(t, srv, "", "sshca", "ca-pubkey", "--type", "user"); strings.Count(keys, "\n") != 2 {
		t.Fatalf("after rotation ca-pubkey lists:\n%s", keys)
	}
	policyFile := filepath.Join(dir, "p.json")
	os.WriteFile(policyFile, []byte(`{"identities": ["bob"], "max_validity": "1h"}`), 0o600)
	if out := mustCLI(t, srv, admin, "sshca", "policy", "set", "bob", "--file", policyFile); out != "set policy bob\n" {
		t.Fatalf("policy set:\n%s", out)
	}
	if out := mustCLI(t, srv, admin, "sshca", "policy", "get", "bob"); !strings.Contains(out, `"default_validity": "5m"`) {
		t.Fatalf("policy get after set:\n%s", out)
	}
	if out := mustCLI(t, srv, admin, "sshca", "policy", "list"); !strings.Contains(out, "bob") || !strings.Contains(out, "default") {
		t.Fatalf("policy list:\n%s", out)
	}
}
