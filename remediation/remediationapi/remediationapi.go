// Package remediationapi is the leaf package of the remediation system (runbooks and host agents):
// the names other systems and tools use to refer to it, without
// importing the system itself.
package remediationapi

import (
	"github.com/gaffer-sre/gaffer/internal/platform"
	"github.com/gaffer-sre/gaffer/remediation/agent"
)

// Name is the system's module and role name.
const Name = "remediation"

func init() { platform.Declare(Name, ReadScope, WriteScope, agent.AgentScope) }

// Scopes of the system's routes.
const (
	ReadScope  = "remediation:read"
	WriteScope = "remediation:write"
)
