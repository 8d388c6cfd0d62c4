// Package alertingapi is the leaf package of the alerting system (alert rules, their evaluation and notifications):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package alertingapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "alerting"

func init() { platform.Declare(Name, ReadScope, WriteScope) }

// Scopes of the system's routes.
const (
	ReadScope  = "alerting:read"
	WriteScope = "alerting:write"
)
