// Package atlasapi is the leaf package of the atlas system (Atlas's graph API, saved graphs and dashboards):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package atlasapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "atlas"

func init() { platform.Declare(Name, ReadScope, WriteScope) }

// Scopes of the system's routes.
const (
	ReadScope  = "atlas:read"
	WriteScope = "atlas:write"
)
