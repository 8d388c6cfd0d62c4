// Package notebookapi is the leaf package of the notebook system
// (papermill-style runs of Jupyter notebooks): the names other systems use
// to refer to it without importing the system itself.
package notebookapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "notebook"

func init() { platform.Declare(Name, ScopeRead, ScopeWrite) }

// Scopes of the system's routes.
const (
	ScopeRead  = "notebook:read"
	ScopeWrite = "notebook:write"
)

// StepType is the workflow step type the notebook system runs (see
// workflowapi's step-runner contract). A notebook step's params:
//
//	notebook    the stored notebook's name or ID (required)
//	parameters  an object of names to values, injected as papermill does
//	kernel      the kernel spec's name (default: the notebook's own)
//	timeout     a Go duration bounding the whole run (default: none)
//
// Its outputs are the notebook's scraps (scrapbook's glue), by name.
const StepType = "notebook"
