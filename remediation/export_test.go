package remediation

import (
	"context"
	"time"
)

// SetHooks tells benchmarks when steps start and executions end.
func SetHooks(s *Service, started func(execID, key string, at time.Time), finished func(execID, status string)) {
	s.engine.onStarted, s.engine.onFinished = started, finished
}

// FinishStep records a step's success with output, as a step type would.
func FinishStep(s *Service, execID, key string, attempt int, output any) error {
	return s.engine.finish(context.Background(), execID, key, attempt, succeeded(output))
}

// RunSchedules starts the scheduled runs due at now.
func RunSchedules(s *Service, now time.Time) error { return s.runSchedules(context.Background(), now) }
