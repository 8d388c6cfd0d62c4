// Package genieapi is the leaf package of the genie system (federated job
// execution, Genie's API): the names other systems and tools use to
// refer to it, without importing the system itself.
package genieapi

import "github.com/gaffer-sre/gaffer/internal/platform"

// Name is the system's module and role name.
const Name = "genie"

func init() { platform.Declare(Name, ScopeRead, ScopeWrite) }

// Scopes of the system's routes.
const (
	ScopeRead  = "genie:read"
	ScopeWrite = "genie:write"
)

// Job statuses, as Genie names them. A job is ACCEPTED when stored,
// RESOLVED once a command and a cluster are chosen, CLAIMED by the
// process that will run it, INIT while its directory is staged, RUNNING
// while its command runs, and ends SUCCEEDED, FAILED, KILLED or INVALID
// (its request could not be resolved).
const (
	StatusAccepted  = "ACCEPTED"
	StatusResolved  = "RESOLVED"
	StatusClaimed   = "CLAIMED"
	StatusInit      = "INIT"
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusKilled    = "KILLED"
	StatusInvalid   = "INVALID"
)

// Active reports whether a job in status is not finished.
func Active(status string) bool {
	switch status {
	case StatusAccepted, StatusResolved, StatusClaimed, StatusInit, StatusRunning:
		return true
	}
	return false
}

// ActiveStatuses are the statuses Active reports true for.
var ActiveStatuses = []string{StatusAccepted, StatusResolved, StatusClaimed, StatusInit, StatusRunning}

// JobEventPrefix starts the type of the event published when a job
// ends; the status in lower case follows (gaffer.genie.job.succeeded).
const JobEventPrefix = "gaffer.genie.job."
