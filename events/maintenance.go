package events

import (
	"context"
	"fmt"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// deliveredRetention is how long re-driven dead letters that were
// delivered stay listed.
const deliveredRetention = 7 * 24 * time.Hour

// runMaintenance runs once a minute in one process of the cluster. It
// drops index rows of events the stream no longer holds (retention by age
// or size), suppression state past its window, and delivered dead
// letters.
func (s *Service) runMaintenance(ctx context.Context, _ *jobs.Job) error {
	info, err := s.bus.Stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("events: maintenance: stream info: %w", err)
	}
	now := s.now().UnixMilli()
	steps := []struct {
		what string
		sql  string
		arg  any
	}{
		{"trim event index", "DELETE FROM event_index WHERE seq < ?", int64(info.State.FirstSeq)},
		{"expire suppression decisions", "DELETE FROM event_suppress_decisions WHERE expires < ?", now},
		{"expire suppression windows", "DELETE FROM event_suppress WHERE window_end < ?", now - time.Hour.Milliseconds()},
		{"drop delivered dead letters", "DELETE FROM event_deadletters WHERE status = 'delivered' AND updated_at < ?",
			now - deliveredRetention.Milliseconds()},
	}
	for _, st := range steps {
		if _, err := s.db.ExecContext(ctx, st.sql, st.arg); err != nil {
			return fmt.Errorf("events: maintenance: %s: %w", st.what, err)
		}
	}
	return nil
}
