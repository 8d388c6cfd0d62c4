package auth

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Scopes of the platform's own routes (the audit log and the job queue).
const (
	AuditReadScope = "audit:read"
	JobsReadScope  = "jobs:read"
	JobsWriteScope = "jobs:write"
)

var (
	definedMu sync.Mutex
	defined   = map[string]bool{AdminScope: true, AuditReadScope: true, JobsReadScope: true, JobsWriteScope: true}
)

// DefineScopes records scopes a system checks on its routes; each
// system's leaf package defines its scopes from init (through
// platform.Declare), so that a token can be granted exactly the scopes
// some linked-in system or the platform defines.
func DefineScopes(scopes ...string) {
	definedMu.Lock()
	defer definedMu.Unlock()
	for _, s := range scopes {
		if err := ValidateScope(s); err != nil {
			panic("auth: DefineScopes: " + err.Error())
		}
		defined[s] = true
	}
}

// DefinedScopes returns every defined scope, sorted.
func DefinedScopes() []string {
	definedMu.Lock()
	defer definedMu.Unlock()
	out := make([]string, 0, len(defined))
	for s := range defined {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// CheckDefined returns an error naming scope and listing the valid ones
// when neither the platform nor a declared system defines scope.
func CheckDefined(scope string) error {
	definedMu.Lock()
	ok := defined[scope]
	definedMu.Unlock()
	if ok {
		return nil
	}
	return fmt.Errorf("scope %q is not defined by the platform or any system; valid scopes: %s",
		scope, strings.Join(DefinedScopes(), ", "))
}
