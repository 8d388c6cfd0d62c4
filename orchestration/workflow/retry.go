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

// Maestro's defaults: 2 retries of user errors, exponential backoff
// from 60 s with exponent 2, at most 600 s.
const (
	defaultErrorRetries = 2
	defaultBackoff      = 60 * time.Second
	defaultExponent     = 2
	defaultMaxBackoff   = 600 * time.Second
)

// retryDelay says whether a step whose attempt failed with a user error
// runs again, and after how long. Counts written as "${param}" are read
// from the instance's params.
func retryDelay(st *definition.Step, attempt int, params map[string]any) (time.Duration, bool) {
	limit, base, exp, max := defaultErrorRetries, defaultBackoff, defaultExponent, defaultMaxBackoff
	fixed := false
	if p := st.RetryPolicy; p != nil {
		limit = intOr(p.ErrorRetryLimit, params, limit)
		if b := p.Backoff; b != nil {
			fixed = strings.EqualFold(b.Type, "FIXED_BACKOFF")
			base = time.Duration(intOr(b.ErrorRetryBackoffInSecs, params, int(base/time.Second))) * time.Second
			exp = intOr(b.ErrorRetryExponent, params, exp)
			max = time.Duration(intOr(b.ErrorRetryLimitInSecs, params, int(max/time.Second))) * time.Second
		}
	}
	if attempt > limit {
		return 0, false
	}
	if fixed {
		return base, true
	}
	d := time.Duration(float64(base) * math.Pow(float64(exp), float64(attempt-1)))
	return min(d, max), true
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
