// Package sshcaapi is the leaf package of the sshca system (the SSH certificate authority):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package sshcaapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "sshca"

func init() { platform.Declare(Name, ScopeRead, ScopeWrite, ScopeSign) }

// Scopes of the system's routes.
const (
	ScopeRead  = "sshca:read"
	ScopeWrite = "sshca:write"
	ScopeSign  = "sshca:sign"
)
