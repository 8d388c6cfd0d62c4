package server

import (
	"context"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
	"github.com/gaffer-sre/gaffer/internal/platform/auth"
	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
)

// Job kinds of the platform itself.
const (
	// NoopJob does nothing: for checking and benchmarking the queue.
	NoopJob = "platform.noop"
	// SessionCleanupJob deletes expired UI sessions, hourly.
	SessionCleanupJob = "platform.session_cleanup"
	// AuditRetentionJob exports audit entries older than --audit-retention
	// to --audit-export-dir and then deletes them, hourly.
	AuditRetentionJob = "platform.audit_retention"
)

func registerPlatformJobs(q *jobs.Queue, tokens *auth.Tokens, auditLog *audit.Log, cfg Config) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	q.Handle(AuditRetentionJob, func(ctx context.Context, _ *jobs.Job) error {
		_, err := auditLog.Expire(ctx, now().Add(-cfg.AuditRetention), cfg.AuditExportDir)
		return err
	}, jobs.KindOptions{MaxAttempts: 3})
	_ = q.Every(AuditRetentionJob, time.Hour, struct{}{}, true)
	q.Handle(NoopJob, func(context.Context, *jobs.Job) error { return nil }, jobs.KindOptions{FromRules: true})
	q.Handle(SessionCleanupJob, func(ctx context.Context, _ *jobs.Job) error {
		_, err := tokens.DeleteExpiredSessions(ctx)
		return err
	}, jobs.KindOptions{MaxAttempts: 3})
	// The kind was registered just above, so this cannot fail.
	_ = q.Every(SessionCleanupJob, time.Hour, struct{}{}, false)
}
