package workflow

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gaffer-sre/gaffer/internal/platform/jobs"
	"github.com/gaffer-sre/gaffer/orchestration/workflow/definition"
)

// retryDefaults are Maestro's, for each kind of failure counted apart:
// user errors 2 retries, backoff from 60 s doubling to at most 600 s;
// platform errors 10, from 60 s to 3,600 s; timeouts none.
var retryDefaults = map[string]retryPolicy{
	StepUserFailed:     {limit: 2, base: 60 * time.Second, exp: 2, max: 600 * time.Second},
	StepPlatformFailed: {limit: 10, base: 60 * time.Second, exp: 2, max: 3600 * time.Second},
	StepTimedOut:       {limit: 0, base: 60 * time.Second, exp: 2, max: 3600 * time.Second},
}

// retryPolicy is one kind's limit and backoff.
type retryPolicy struct {
	limit int
	base  time.Duration
	exp   int
	max   time.Duration
}

// failureColumn is the column counting a step's failures of a retryable
// status, or "" for a status that is not retried.
func failureColumn(status string) string {
	switch status {
	case StepUserFailed:
		return "user_failures"
	case StepPlatformFailed:
		return "platform_failures"
	case StepTimedOut:
		return "timeout_failures"
	}
	return ""
}

// retryDelay says whether a step whose attempt failed with status (a
// user error, a platform error or a timeout, each counted apart) runs
// again after its failures-th failure of that kind, and after how long.
// Counts written as "${param}" are read from the instance's params.
func retryDelay(st *definition.Step, status string, failures int, params map[string]any) (time.Duration, bool) {
	p, ok := retryDefaults[status]
	if !ok {
		return 0, false
	}
	fixed := false
	if rp := st.RetryPolicy; rp != nil {
		limits := map[string]definition.Int{StepUserFailed: rp.ErrorRetryLimit, StepPlatformFailed: rp.PlatformRetryLimit, StepTimedOut: rp.TimeoutRetryLimit}
		p.limit = intOr(limits[status], params, p.limit)
		if b := rp.Backoff; b != nil {
			fixed = strings.EqualFold(b.Type, "FIXED_BACKOFF")
			base, exp, max := b.ErrorRetryBackoffInSecs, b.ErrorRetryExponent, b.ErrorRetryLimitInSecs
			switch status {
			case StepPlatformFailed:
				base, exp, max = b.PlatformRetryBackoffInSecs, b.PlatformRetryExponent, b.PlatformRetryLimitInSecs
			case StepTimedOut:
				base, exp, max = b.TimeoutRetryBackoffInSecs, b.TimeoutRetryExponent, b.TimeoutRetryLimitInSecs
			}
			p.base = time.Duration(intOr(base, params, int(p.base/time.Second))) * time.Second
			p.exp = intOr(exp, params, p.exp)
			p.max = time.Duration(intOr(max, params, int(p.max/time.Second))) * time.Second
		}
	}
	if failures > p.limit {
		return 0, false
	}
	if fixed {
		return p.base, true
	}
	d := time.Duration(float64(p.base) * math.Pow(float64(p.exp), float64(failures-1)))
	return min(d, p.max), true
}

// intOr is n's value, a "${param}" resolved from params, or def.
func intOr(n definition.Int, params map[string]any, def int) int {
	if v, ok, err := n.Value(); err == nil && ok {
		return v
	}
	if n.Template() {
		name := strings.Trim(string(n), "${}")
		if v, err := definition.Coerce(definition.TypeLong, params[name]); err == nil {
			return int(v.(int64))
		}
	}
	return def
}

// retryLater runs a step made ready for a retry after its backoff: a
// durable job, and a timer in this process.
func (s *Service) retryLater(ctx context.Context, r retryAt) {
	a := wakeArgs{Instance: r.ref.inst, Step: r.ref.step, Retry: true}
	if _, err := s.jobs.Enqueue(ctx, wakeKind, a, &jobs.EnqueueOptions{At: time.Now().Add(r.after)}); err != nil {
		s.log.Error("schedule a step's retry", "instance", r.ref.inst, "step", r.ref.step, "error", fmt.Sprint(err))
	}
	s.soon(r.after, a)
}
