package main

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

// TestCertsACMECLI drives gaffer certs acme: create an EAB key (its
// secret printed once), list it, revoke it, and show and switch the
// anonymous-accounts opt-out.
func TestCertsACMECLI(t *testing.T) {
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"certs"}})
	admin := srv.AdminToken
	mustCLI(t, srv, admin, "certs", "ca", "create", "root", "--kind", "root")
	mustCLI(t, srv, admin, "certs", "ca", "create", "issuing", "--parent", "root", "--allowed-domain", ".example.test")
	out := mustCLI(t, srv, admin, "certs", "acme", "eab", "create", "issuing", "--note", "web team")
	m := regexp.MustCompile(`key id:\s+(\S+)\nhmac key:\s+(\S+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("eab create output: %q", out)
	}
	if mac, err := base64.RawURLEncoding.DecodeString(m[2]); err != nil || len(mac) != 32 {
		t.Errorf("hmac key %q: %d bytes, %v", m[2], len(mac), err)
	}
	list := mustCLI(t, srv, admin, "certs", "acme", "eab", "list", "issuing")
	if !strings.Contains(list, m[1]) || !strings.Contains(list, "unused") || !strings.Contains(list, "web team") || strings.Contains(list, m[2]) {
		t.Errorf("eab list: %s", list)
	}
	if out := mustCLI(t, srv, admin, "certs", "acme", "eab", "revoke", "issuing", m[1]); !strings.Contains(out, "revoked EAB key "+m[1]) {
		t.Errorf("eab revoke: %s", out)
	}
	if list := mustCLI(t, srv, admin, "certs", "acme", "eab", "list", "issuing"); !strings.Contains(list, "revoked") {
		t.Errorf("eab list after revoke: %s", list)
	}
	if out := mustCLI(t, srv, admin, "certs", "acme", "anonymous-accounts", "issuing"); !strings.Contains(out, "refused") {
		t.Errorf("default: %s", out)
	}
	if out := mustCLI(t, srv, admin, "certs", "acme", "anonymous-accounts", "issuing", "allow"); !strings.Contains(out, "allowed") {
		t.Errorf("allow: %s", out)
	}
	if _, err := gafferCLI(t, srv, admin, "certs", "acme", "anonymous-accounts", "issuing", "maybe"); err == nil {
		t.Error("anonymous-accounts accepted maybe")
	}
	if _, err := gafferCLI(t, srv, srv.Token("certs:write"), "certs", "acme", "eab", "create", "issuing"); err == nil {
		t.Error("a certs:write token created an EAB key")
	}
}
