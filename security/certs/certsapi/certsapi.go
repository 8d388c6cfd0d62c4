// Package certsapi is the leaf package of the certs system (the certificate manager):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package certsapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "certs"

func init() { platform.Declare(Name, ScopeRead, ScopeWrite) }

// Scopes of the system's routes.
const (
	ScopeRead  = "certs:read"
	ScopeWrite = "certs:write"
)
