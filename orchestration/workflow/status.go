package workflow

// Instance statuses, as Maestro names them.
const (
	InstanceCreated    = "CREATED"
	InstanceInProgress = "IN_PROGRESS"
	InstancePaused     = "PAUSED"
	InstanceTimedOut   = "TIMED_OUT"
	InstanceStopped    = "STOPPED"
	InstanceFailed     = "FAILED"
	InstanceSucceeded  = "SUCCEEDED"
)

// Step statuses, as Maestro names them.
const (
	StepNotCreated         = "NOT_CREATED"
	StepCreated            = "CREATED"
	StepRunning            = "RUNNING"
	StepSucceeded          = "SUCCEEDED"
	StepCompletedWithError = "COMPLETED_WITH_ERROR"
	StepUnsatisfied        = "UNSATISFIED"
	StepUserFailed         = "USER_FAILED"
	StepPlatformFailed     = "PLATFORM_FAILED"
	StepFatallyFailed      = "FATALLY_FAILED"
	StepStopped            = "STOPPED"
	StepTimedOut           = "TIMED_OUT"
)

// stepFailed reports whether a final step status is a failure.
func stepFailed(s string) bool {
	switch s {
	case StepUserFailed, StepPlatformFailed, StepFatallyFailed, StepTimedOut:
		return true
	}
	return false
}

// instanceTerminal reports whether an instance status is final.
func instanceTerminal(s string) bool {
	switch s {
	case InstanceSucceeded, InstanceFailed, InstanceStopped, InstanceTimedOut:
		return true
	}
	return false
}
