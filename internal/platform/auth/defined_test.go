package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

func TestValidateRejectsScopesNoSystemDefines(t *testing.T) {
	DefineScopes("definedtest:read")
	ok := CreateRequest{Name: "ci", Scopes: []string{"definedtest:read", AuditReadScope, AdminScope}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defined scopes: %v", err)
	}
	bad := CreateRequest{Name: "ci", Scopes: []string{"definedtest:read", "nosuch:read"}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("nosuch:read accepted")
	}
	for _, want := range []string{"scopes[1]", `"nosuch:read"`, "valid scopes:", "definedtest:read", "jobs:write"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	// The form is checked before definition: a malformed scope says so.
	malformed := CreateRequest{Name: "ci", Scopes: []string{"nosuch"}}
	if err := malformed.Validate(); err == nil || !strings.Contains(err.Error(), "want") {
		t.Errorf("malformed scope: %v", err)
	}
	if err := bad.validateForm(); err != nil {
		t.Errorf("Create's own check refuses a well-formed scope: %v", err)
	}
}

func TestResolveTokenByIDNameOrPrefix(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			clock := &testClock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
			tokens, err := NewTokens(ctx, b.Open(t), clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			create := func(name string) Token {
				t.Helper()
				tok, _, err := tokens.Create(ctx, CreateRequest{Name: name, Scopes: []string{"events:read"}})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			ci, deploy, twin1, twin2 := create("ci"), create("deploy"), create("twin"), create("twin")
			for ref, want := range map[string]string{ci.ID: ci.ID, "ci": ci.ID, deploy.ID[:len(deploy.ID)-2]: deploy.ID} {
				if got, err := tokens.Resolve(ctx, ref); err != nil || got.ID != want {
					t.Errorf("Resolve(%q) = %s, %v; want %s", ref, got.ID, err, want)
				}
			}
			if _, err := tokens.Resolve(ctx, "twin"); !errors.Is(err, ErrTokenAmbiguous) ||
				!strings.Contains(err.Error(), twin1.ID) || !strings.Contains(err.Error(), twin2.ID) {
				t.Errorf("a name two active tokens share: %v", err)
			}
			if _, err := tokens.Resolve(ctx, "tok_"); !errors.Is(err, ErrTokenAmbiguous) {
				t.Errorf("a prefix of every ID: %v", err)
			}
			// Once one twin is revoked, the name names the other.
			if err := tokens.Revoke(ctx, twin1.ID); err != nil {
				t.Fatal(err)
			}
			if got, err := tokens.Resolve(ctx, "twin"); err != nil || got.ID != twin2.ID {
				t.Errorf("Resolve(twin) after revoking one: %s, %v", got.ID, err)
			}
			if _, err := tokens.Resolve(ctx, "nosuch"); !errors.Is(err, ErrTokenNotFound) {
				t.Errorf("an unknown name: %v", err)
			}
		})
	}
}
