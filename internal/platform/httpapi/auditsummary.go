package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/audit"
)

// auditSummaryPeriod is how long successful calls of an AuditSummary route
// are counted before one entry records them.
const auditSummaryPeriod = time.Minute

type summaryKey struct{ actor, action string }

type summary struct {
	first, last time.Time
	calls       int
}

// auditSummaries counts successful calls of AuditSummary routes.
type auditSummaries struct {
	mu   sync.Mutex
	open map[summaryKey]*summary
}

func (a *auditSummaries) count(ctx context.Context, rec audit.Recorder, actor, action string, log *slog.Logger) {
	now := time.Now()
	k := summaryKey{actor, action}
	a.mu.Lock()
	if a.open == nil {
		a.open = map[summaryKey]*summary{}
	}
	s := a.open[k]
	if s == nil {
		s = &summary{first: now}
		a.open[k] = s
	}
	s.calls++
	s.last = now
	var done *summary
	if now.Sub(s.first) >= auditSummaryPeriod {
		done = s
		delete(a.open, k)
	}
	a.mu.Unlock()
	if done != nil {
		writeSummary(ctx, rec, k, done, log)
	}
}

// flush writes every open summary.
func (a *auditSummaries) flush(ctx context.Context, rec audit.Recorder, log *slog.Logger) {
	a.mu.Lock()
	open := a.open
	a.open = nil
	a.mu.Unlock()
	for k, s := range open {
		writeSummary(ctx, rec, k, s, log)
	}
}

func writeSummary(ctx context.Context, rec audit.Recorder, k summaryKey, s *summary, log *slog.Logger) {
	err := rec.Record(ctx, audit.Entry{Time: s.last, Actor: k.actor, Action: k.action, Target: "summary",
		Outcome: audit.OutcomeSuccess, Status: 200,
		Detail: fmt.Sprintf("%d successful calls from %s to %s", s.calls,
			s.first.UTC().Format(time.RFC3339), s.last.UTC().Format(time.RFC3339))})
	if err != nil {
		log.Error("audit summary record failed", "action", k.action, "error", err)
	}
}

// FlushAudit writes the open audit summaries of AuditSummary routes; the
// server calls it on shutdown so that no call goes unrecorded.
func (rt *Router) FlushAudit(ctx context.Context) {
	if rt.audit != nil {
		rt.summaries.flush(ctx, rt.audit, rt.log)
	}
}
