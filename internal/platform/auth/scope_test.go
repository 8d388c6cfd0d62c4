package auth

import "testing"

func TestScopes(t *testing.T) {
	for _, s := range []string{"admin", "events:read", "events:write", "sshca:sign"} {
		if err := ValidateScope(s); err != nil {
			t.Errorf("ValidateScope(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "events", "events:delete", "Events:read", ":read"} {
		if ValidateScope(s) == nil {
			t.Errorf("ValidateScope(%q) accepted", s)
		}
	}
	writer := &Principal{Scopes: []string{"sshca:write"}}
	if !writer.Has("sshca:read") || writer.Has("sshca:sign") {
		t.Errorf("sshca:write: read %v sign %v; want read only", writer.Has("sshca:read"), writer.Has("sshca:sign"))
	}
	signer := &Principal{Scopes: []string{"sshca:sign"}}
	if !signer.Has("sshca:sign") || signer.Has("sshca:read") || signer.Has("sshca:write") {
		t.Errorf("sshca:sign grants more or less than signing")
	}
	if !(&Principal{Scopes: []string{AdminScope}}).Has("sshca:sign") {
		t.Errorf("admin lacks sshca:sign")
	}
}
