package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/console"
	"github.com/gaffer-sre/gaffer/internal/platform/httpapi"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
	"github.com/gaffer-sre/gaffer/security/sshca"
)

// TestSSHCAPolicyGuardOnBinary is issue #15 item 7 as it was found, against
// a running `gaffer serve`: an sshca:write token tries to grant root to
// everyone for 8,760 h and is refused; an admin's privileged save goes
// through, and the audit log shows the change field by field.
func TestSSHCAPolicyGuardOnBinary(t *testing.T) {
	bin := platformtest.BuildGaffer(t)
	dir := t.TempDir()
	srv := platformtest.StartServe(t, bin, dir, "--roles", "sshca")
	b, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(b))
	var writer console.CreateTokenResponse
	if code := call(t, "POST", srv.URL+"/api/v1/tokens", admin, console.CreateTokenRequest{Name: "policy editor",
		Identity: "wendy", Scopes: []string{sshca.ScopeWrite}}, &writer); code != 201 {
		t.Fatalf("create token: %d", code)
	}
	rootForAll := sshca.Policy{Identities: []string{"*"}, Principals: []string{"root"}, MaxValidity: "8760h",
		DefaultValidity: "8760h", UsernameBlocklist: []string{}}
	if code := call(t, "PUT", srv.URL+"/api/v1/sshca/policies/everyone-root", writer.Secret, rootForAll, nil); code != 403 {
		t.Fatalf("sshca:write granting root: %d", code)
	}
	if code := call(t, "GET", srv.URL+"/api/v1/sshca/policies/everyone-root", writer.Secret, nil, nil); code != 404 {
		t.Fatalf("the refused policy was stored: %d", code)
	}
	breakGlass := sshca.Policy{Identities: []string{"carol"}, Principals: []string{"{{identity}}", "root"}, MaxValidity: "1h"}
	if code := call(t, "PUT", srv.URL+"/api/v1/sshca/policies/break-glass", admin, breakGlass, nil); code != 200 {
		t.Fatalf("admin: %d", code)
	}
	breakGlass.MaxValidity = "30m"
	if code := call(t, "PUT", srv.URL+"/api/v1/sshca/policies/break-glass", admin, breakGlass, nil); code != 200 {
		t.Fatalf("admin narrowing: %d", code)
	}
	var page httpapi.Page[audit.Entry]
	call(t, "GET", srv.URL+"/api/v1/audit?action=sshca.policy.put&limit=10", admin, nil, &page)
	var denied, changed bool
	for _, e := range page.Items {
		denied = denied || (e.Outcome == audit.OutcomeDenied && e.Actor == "wendy" && strings.Contains(e.Detail, "principals[0]"))
		changed = changed || (e.Outcome == audit.OutcomeSuccess && strings.Contains(e.Detail, `max_validity: "1h" -> "30m"`))
	}
	if !denied || !changed {
		t.Fatalf("audit lacks the refusal (%v) or the diff (%v): %+v", denied, changed, page.Items)
	}
}
