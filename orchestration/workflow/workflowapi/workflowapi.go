// Package workflowapi is the leaf package of the workflow system (the
// Maestro-style workflow scheduler): the names other systems and tools
// use to refer to it, without importing the system itself.
package workflowapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "workflow"

func init() { platform.Declare(Name, ScopeRead, ScopeWrite) }

// Scopes of the system's routes.
const (
	ScopeRead  = "workflow:read"
	ScopeWrite = "workflow:write"
)

// Event types the system publishes; the instance or step status, in
// lower case, follows the prefix (gaffer.workflow.instance.succeeded).
const (
	InstanceEventPrefix = "gaffer.workflow.instance."
	StepEventPrefix     = "gaffer.workflow.step."
)
