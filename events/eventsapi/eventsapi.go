// Package eventsapi is the leaf package of the events system (the event platform):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package eventsapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "events"

func init() { platform.Declare(Name, ReadScope, WriteScope) }

// Scopes of the system's routes.
const (
	ReadScope  = "events:read"
	WriteScope = "events:write"
)
