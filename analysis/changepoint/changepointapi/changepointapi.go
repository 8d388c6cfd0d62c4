// Package changepointapi is the leaf package of the changepoint system (change-point detection over HTTP):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package changepointapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "changepoint"

func init() { platform.Declare(Name, Scope) }

// Scopes of the system's routes.
const (
	Scope = "changepoint:read"
)
