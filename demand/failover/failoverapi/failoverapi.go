// Package failoverapi is the leaf package of the failover system (regional failover):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package failoverapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "failover"

func init() { platform.Declare(Name, ReadScope, WriteScope) }

// Scopes of the system's routes.
const (
	ReadScope  = "failover:read"
	WriteScope = "failover:write"
)
