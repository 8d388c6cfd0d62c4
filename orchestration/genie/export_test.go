package genie

import "context"

// Cleanup runs the removal of old jobs' directories now, for tests.
func (s *Service) Cleanup(ctx context.Context) error { return s.cleanup(ctx) }
