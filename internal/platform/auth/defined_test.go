package auth

import (
	"strings"
	"testing"
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
