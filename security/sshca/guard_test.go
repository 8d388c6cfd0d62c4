package sshca

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/platformtest"
)

func TestPolicyGuardNeedsAdmin(t *testing.T) {
	g := DefaultPolicyGuard()
	for _, c := range []struct {
		name string
		p    Policy
		want string // "" when sshca:write may save it
	}{
		{"own identity", Policy{Name: "p", Identities: []string{"*"}}, ""},
		{"own identity, a day", Policy{Name: "p", Identities: []string{"*"}, MaxValidity: "24h"}, ""},
		{"host for its own name", Policy{Name: "p", CertType: HostCert, Identities: []string{"web-*"}, Principals: []string{"{{identity}}"}}, ""},
		{"root", Policy{Name: "p", Identities: []string{"*"}, Principals: []string{"root"}}, "principals[0]"},
		{"wildcard", Policy{Name: "p", Identities: []string{"*"}, Principals: []string{"{{identity}}", "*"}}, "principals[1]"},
		{"identity-derived", Policy{Name: "p", Identities: []string{"*"}, Principals: []string{"{{identity}}-adm"}}, "principals[0]"},
		{"host names", Policy{Name: "p", CertType: HostCert, Identities: []string{"boot"}, Principals: []string{"*.example.com"}}, "principals[0]"},
		{"empty blocklist", Policy{Name: "p", Identities: []string{"*"}, UsernameBlocklist: []string{}}, `username_blocklist: leaves out "root"`},
		{"partial blocklist", Policy{Name: "p", Identities: []string{"*"}, UsernameBlocklist: []string{"root", "admin"}}, `"administrator"`},
		{"a year", Policy{Name: "p", Identities: []string{"*"}, MaxValidity: "8760h"}, "max_validity"},
		{"host beyond a year", Policy{Name: "p", CertType: HostCert, Identities: []string{"*"}, Principals: []string{"{{identity}}"},
			MaxValidity: "9000h"}, "max_validity"},
	} {
		p := c.p
		if p.UsernameBlocklist == nil && p.CertType != HostCert {
			p.UsernameBlocklist = g.BlockedUsernames
		}
		p.Normalize()
		cp, err := p.compile()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ref := g.needsAdmin(cp)
		switch {
		case c.want == "" && ref != nil:
			t.Errorf("%s: refused: %v", c.name, ref)
		case c.want != "" && (ref == nil || ref.Status != http.StatusForbidden || !strings.Contains(ref.Reason, c.want)):
			t.Errorf("%s: %v, want a 403 naming %s", c.name, ref, c.want)
		}
	}
	// The ceiling is a setting.
	g.MaxUserValidity = time.Hour
	p := Policy{Name: "p", Identities: []string{"*"}, MaxValidity: "2h", UsernameBlocklist: g.BlockedUsernames}
	p.Normalize()
	cp, _ := p.compile()
	if ref := g.needsAdmin(cp); ref == nil || !strings.Contains(ref.Reason, "1h0m0s ceiling") {
		t.Errorf("1h ceiling, 2h policy: %v", ref)
	}
}

// TestPolicyPrivilegeOverAPI is the finding of issue #15 item 7 replayed:
// an sshca:write token tries to grant root for 8,760 h.
func TestPolicyPrivilegeOverAPI(t *testing.T) {
	platformtest.EachBackend(t, func(t *testing.T, b platformtest.Backend) {
		srv := startOn(t, b)
		writer := srv.Token(ScopeWrite)
		for _, c := range []struct {
			p    Policy
			want string
		}{
			{Policy{Identities: []string{"*"}, Principals: []string{"root"}, MaxValidity: "8760h", UsernameBlocklist: []string{}}, "principals[0]"},
			{Policy{Identities: []string{"*"}, UsernameBlocklist: []string{}}, "username_blocklist"},
			{Policy{Identities: []string{"*"}, MaxValidity: "8760h"}, "max_validity"},
		} {
			r := srv.Do("PUT", "/api/v1/sshca/policies/everyone-root", writer, c.p)
			if r.Status != http.StatusForbidden || r.ErrorCode() != "forbidden" || !strings.Contains(string(r.Body), c.want) ||
				!strings.Contains(string(r.Body), "admin") {
				t.Fatalf("%+v from sshca:write: %d %s, want 403 naming %s", c.p, r.Status, r.Body, c.want)
			}
		}
		// An admin may save each of them.
		for i, c := range []Policy{
			{Identities: []string{"carol"}, Principals: []string{"root"}, MaxValidity: "8760h", UsernameBlocklist: []string{}},
			{Identities: []string{"carol"}, UsernameBlocklist: []string{}},
			{Identities: []string{"carol"}, MaxValidity: "8760h"},
		} {
			name := fmt.Sprintf("admin-%d", i)
			if r := srv.Do("PUT", "/api/v1/sshca/policies/"+name, srv.AdminToken, c); r.Status != http.StatusOK {
				t.Fatalf("%+v from admin: %d %s", c, r.Status, r.Body)
			}
			if r := srv.Do("DELETE", "/api/v1/sshca/policies/"+name, srv.AdminToken, nil); r.Status != http.StatusNoContent {
				t.Fatalf("delete %s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := srv.Do("GET", "/api/v1/sshca/policies/everyone-root", writer, nil); r.Status != http.StatusNotFound {
			t.Fatalf("a refused policy was stored: %d %s", r.Status, r.Body)
		}
		// Nor can a writer widen an admin's privileged policy.
		if r := srv.Do("PUT", "/api/v1/sshca/policies/deploy", srv.AdminToken, Policy{Identities: []string{"carol"},
			Principals: []string{"{{identity}}", "deploy"}, MaxValidity: "1h"}); r.Status != http.StatusOK {
			t.Fatalf("admin: %d %s", r.Status, r.Body)
		}
		if r := srv.Do("PUT", "/api/v1/sshca/policies/deploy", writer, Policy{Identities: []string{"*"},
			Principals: []string{"{{identity}}", "deploy"}, MaxValidity: "1h"}); r.Status != http.StatusForbidden {
			t.Fatalf("writer widening the deploy policy: %d %s", r.Status, r.Body)
		}
		// What stays within the guard is the writer's to change, and the audit
		// log carries the change field by field.
		if r := srv.Do("PUT", "/api/v1/sshca/policies/deploy", writer, Policy{Identities: []string{"carol"}, MaxValidity: "2h"}); r.Status != http.StatusOK {
			t.Fatalf("writer narrowing the deploy policy: %d %s", r.Status, r.Body)
		}
		ctx := context.Background()
		entries, _, err := srv.Deps().Audit.List(ctx, audit.Filter{Action: "sshca.policy.put", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var created, changed, denied int
		for _, e := range entries {
			switch {
			case e.Outcome == audit.OutcomeDenied && strings.Contains(e.Detail, "goes beyond {{identity}}"):
				denied++
			case e.Outcome == audit.OutcomeSuccess && strings.HasPrefix(e.Detail, "created {") && strings.Contains(e.Detail, `"deploy"`):
				created++
			case e.Outcome == audit.OutcomeSuccess && e.Target == "sshca-policy:deploy":
				changed++
				for _, want := range []string{`principals: ["{{identity}}","deploy"] -> ["{{identity}}"]`, `max_validity: "1h" -> "2h"`} {
					if !strings.Contains(e.Detail, want) {
						t.Errorf("audit detail %q lacks %q", e.Detail, want)
					}
				}
				if strings.Contains(e.Detail, "identities") {
					t.Errorf("audit detail %q names an unchanged field", e.Detail)
				}
			}
		}
		if created != 1 || changed != 1 || denied < 2 {
			t.Fatalf("audit: %d created, %d changed, %d denied; entries %+v", created, changed, denied, entries)
		}
		if r := srv.Do("DELETE", "/api/v1/sshca/policies/deploy", writer, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		entries, _, err = srv.Deps().Audit.List(ctx, audit.Filter{Action: "sshca.policy.delete", Target: "sshca-policy:deploy"})
		if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Detail, "deleted {") {
			t.Fatalf("delete audit: %v %+v", err, entries)
		}
	})
}

func TestPolicyGuardSettings(t *testing.T) {
	t.Setenv(KEKEnv, "")
	t.Setenv(KEKFileEnv, "")
	srv := platformtest.Start(t, platformtest.Options{Roles: []string{"sshca"},
		Args: []string{"--sshca-max-user-validity", "1h", "--sshca-blocked-usernames", "root,oracle"}})
	writer := srv.Token(ScopeWrite)
	if r := srv.Do("PUT", "/api/v1/sshca/policies/p", writer, Policy{Identities: []string{"*"}, MaxValidity: "2h"}); r.Status != http.StatusForbidden ||
		!strings.Contains(string(r.Body), "max_validity") {
		t.Fatalf("2h under a 1h ceiling: %d %s", r.Status, r.Body)
	}
	r := srv.Do("PUT", "/api/v1/sshca/policies/p", writer, Policy{Identities: []string{"*"}, MaxValidity: "1h"})
	var saved Policy
	r.JSON(t, &saved)
	if r.Status != http.StatusOK || strings.Join(saved.UsernameBlocklist, ",") != "root,oracle" {
		t.Fatalf("1h: %d %s, want the server's blocklist by default", r.Status, r.Body)
	}
	if r := srv.Do("PUT", "/api/v1/sshca/policies/p", writer, Policy{Identities: []string{"*"}, UsernameBlocklist: []string{"root"}}); r.Status != http.StatusForbidden ||
		!strings.Contains(string(r.Body), `leaves out \"oracle\"`) {
		t.Fatalf("leaving oracle off: %d %s", r.Status, r.Body)
	}
	for _, bad := range []PolicyGuard{
		{MaxUserValidity: 0, MaxHostValidity: time.Hour},
		{MaxUserValidity: time.Hour, MaxHostValidity: -time.Hour},
		{MaxUserValidity: time.Hour, MaxHostValidity: time.Hour, BlockedUsernames: []string{"a b"}},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("%+v: accepted", bad)
		}
	}
}
